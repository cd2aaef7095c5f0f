"""Where MLflow tracks and registers: sqlite + local files, or Databricks + Unity Catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow


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


def local_tracking(root: Path, experiment: str, model_name: str) -> Tracking:
    root.mkdir(parents=True, exist_ok=True)
    store = f"sqlite:///{(root / 'mlflow.db').resolve()}"
    return Tracking(
        tracking_uri=store,
        registry_uri=store,
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
