"""Where MLflow tracks and registers: sqlite + local files, or Databricks + Unity Catalog.

Both registries are held to Unity Catalog's rules: through `Registry` (registry.py) everywhere,
and locally through the `uc-sqlite` store (local_registry.py) as well.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import mlflow

from ..local_registry import registry_uri
from ..registry import Registry

GIT_COMMIT_TAG = "git_commit"  # on model versions (Unity Catalog tag keys take no dots)
RUN_GIT_COMMIT_TAG = "mlflow.source.git.commit"  # on runs, where MLflow's UI shows it


@dataclass(frozen=True)
class Tracking:
    tracking_uri: str
    registry_uri: str
    experiment: str
    model_name: str
    artifact_location: str | None = None

    def activate(self) -> str:
        """Point MLflow at this store and experiment; returns the experiment id."""
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.registry_uri)
        existing = mlflow.get_experiment_by_name(self.experiment)
        if existing is not None:
            experiment_id = existing.experiment_id
        else:
            experiment_id = mlflow.create_experiment(
                self.experiment, artifact_location=self.artifact_location
            )
        mlflow.set_experiment(experiment_id=experiment_id)
        return experiment_id

    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)

    def registry(self) -> Registry:
        """The project's model, through the one door that holds it to Unity Catalog's rules."""
        return Registry(self.client(), self.model_name)


def local_tracking(root: Path, experiment: str, model_name: str) -> Tracking:
    root.mkdir(parents=True, exist_ok=True)
    store = f"sqlite:///{(root / 'mlflow.db').resolve()}"
    return Tracking(
        tracking_uri=store,
        registry_uri=registry_uri(store),
        experiment=experiment,
        model_name=model_name,
        artifact_location=(root / "mlartifacts").resolve().as_uri(),
    )


def databricks_tracking(experiment: str, catalog: str, schema: str, model_name: str) -> Tracking:
    return Tracking(
        tracking_uri="databricks",
        registry_uri="databricks-uc",
        experiment=experiment,
        model_name=f"{catalog}.{schema}.{model_name}",
    )


def code_version(configured: str | None) -> str | None:
    """The git commit of the running code: the one the bundle deployed (`run.git_commit`), else
    the checkout's HEAD when there is one (a laptop, CI), else None."""
    if configured:
        return configured
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() or None
