"""The local model registry: MLflow's sqlite store, behaving as Unity Catalog's where they differ.

Registered for the URI scheme `uc-sqlite` (an `mlflow.model_registry_store` entry point in
pyproject.toml), so every registry call of a local run goes through it, MLflow's own included
(`log_model(registered_model_name=...)`, `models:/` URIs). Differences taken from MLflow's Unity
Catalog store (mlflow/store/_unity_catalog/registry/rest_store.py) and Databricks' tag rules:
- search results carry no tags and no aliases (`ModelVersionSearch`, as UC returns them);
- a version without a signature of inputs and outputs cannot be registered;
- stages do not exist: stage transitions and "latest versions" are refused;
- tag keys and values follow Unity Catalog's rules (registry.check_tag), at most 50 per version;
- a missing alias is RESOURCE_DOES_NOT_EXIST (sqlite says INVALID_PARAMETER_VALUE).
"""

from __future__ import annotations

from mlflow.entities.model_registry import ModelVersionSearch, ModelVersionTag
from mlflow.exceptions import MlflowException
from mlflow.models import Model, get_model_info
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

from .registry import MAX_TAGS, RegistryRuleError, check_signature, check_tag

SCHEME = "uc-sqlite"
ALIASES_NOT_STAGES = (
    "Use aliases instead: set_registered_model_alias(name, alias, version) and "
    "'models:/<name>@<alias>'."
)


def registry_uri(sqlite_uri: str) -> str:
    """`sqlite:///path` -> `uc-sqlite:///path`: the same database, with Unity Catalog's rules."""
    return SCHEME + sqlite_uri.removeprefix("sqlite")


class UnityCatalogRulesStore(SqlAlchemyStore):
    def __init__(self, store_uri: str, tracking_uri: str | None = None) -> None:
        super().__init__("sqlite" + store_uri.removeprefix(SCHEME))
        self.tracking_uri = tracking_uri

    def create_model_version(
        self,
        name,
        source,
        run_id=None,
        tags=None,
        run_link=None,
        description=None,
        local_model_path=None,
        model_id=None,
    ):
        model = _load_model(source, local_model_path)
        _as_mlflow_error(check_signature, model.signature, source)
        for tag in tags or []:
            _as_mlflow_error(check_tag, tag.key, tag.value)
        return super().create_model_version(
            name, source, run_id, tags, run_link, description, local_model_path, model_id
        )

    def search_model_versions(
        self, filter_string=None, max_results=None, order_by=None, page_token=None
    ):
        if order_by:
            raise MlflowException(
                "Argument 'order_by' is unsupported for models in the Unity Catalog."
            )
        kwargs = {"max_results": max_results} if max_results else {}
        found = super().search_model_versions(filter_string, page_token=page_token, **kwargs)
        return PagedList([_without_tags(v) for v in found], found.token)

    def get_model_version_by_alias(self, name, alias):
        try:
            return super().get_model_version_by_alias(name, alias)
        except MlflowException as error:
            # sqlite calls a missing alias an invalid parameter; Unity Catalog, a missing resource
            if error.error_code == "INVALID_PARAMETER_VALUE" and "not found" in error.message:
                raise MlflowException(error.message, RESOURCE_DOES_NOT_EXIST) from None
            raise

    def transition_model_version_stage(self, name, version, stage, archive_existing_versions):
        raise MlflowException(
            "Method 'transition_model_version_stage' is unsupported for models in the Unity "
            f"Catalog. {ALIASES_NOT_STAGES}"
        )

    def get_latest_versions(self, name, stages=None):
        raise MlflowException(
            "Method 'get_latest_versions' is unsupported for models in the Unity Catalog. "
            f"{ALIASES_NOT_STAGES}"
        )

    def set_model_version_tag(self, name, version, tag: ModelVersionTag):
        _as_mlflow_error(check_tag, tag.key, tag.value)
        existing = self.get_model_version(name, version).tags
        if tag.key not in existing and len(existing) >= MAX_TAGS:
            raise MlflowException(
                f"{name} v{version} already has {len(existing)} tags; Unity Catalog allows at "
                f"most {MAX_TAGS} on a model version."
            )
        return super().set_model_version_tag(name, version, tag)

    def set_registered_model_tag(self, name, tag):
        _as_mlflow_error(check_tag, tag.key, tag.value)
        return super().set_registered_model_tag(name, tag)


def _load_model(source: str, local_model_path: str | None) -> Model:
    if local_model_path:
        return Model.load(local_model_path)
    return get_model_info(source)


def _without_tags(version) -> ModelVersionSearch:
    return ModelVersionSearch(
        name=version.name,
        version=version.version,
        creation_timestamp=version.creation_timestamp,
        last_updated_timestamp=version.last_updated_timestamp,
        description=version.description,
        user_id=version.user_id,
        source=version.source,
        run_id=version.run_id,
        status=version.status,
        status_message=version.status_message,
        model_id=version.model_id,
    )


def _as_mlflow_error(check, *args) -> None:
    """A broken rule raises what the Unity Catalog store raises: an MlflowException."""
    try:
        check(*args)
    except RegistryRuleError as broken:
        raise MlflowException(str(broken)) from None
