"""Model registry conventions: the aliases that move models, and small look-ups.

MLflow 3 replaces stages with aliases. `challenger` marks a version that passed validation;
`champion` is the version in production; `previous_champion` is the one it replaced.
"""

from __future__ import annotations

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from .errors import PipelineError

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"


class NoModelError(PipelineError):
    exit_code = 4


def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def require_alias(client: MlflowClient, name: str, alias: str, hint: str) -> ModelVersion:
    version = version_by_alias(client, name, alias)
    if version is None:
        raise NoModelError(f"model '{name}' has no version with alias '{alias}'. {hint}")
    return version


def newest_version(client: MlflowClient, name: str) -> ModelVersion:
    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        versions = []
    if not versions:
        raise NoModelError(f"model '{name}' has no registered version. Run the `train` step first.")
    return max(versions, key=lambda v: int(v.version))
