"""The model registry, held to Unity Catalog's rules in every runtime.

Every registry call of the project goes through `Registry`, so what Unity Catalog would refuse
fails here first, on a laptop as on Databricks:
- tag keys avoid the characters Unity Catalog rejects (`. , - = / :`), keys <= 255 characters,
  values <= 1000, at most 50 tags on a version;
- a version's description (Unity Catalog's comment) has 1 to 65,536 characters;
- every registered version has a signature with inputs and outputs;
- models move with aliases (`challenger`, `champion`, `previous_champion`): no stage calls;
- a version's tags are read from `version()`, never from a search (Unity Catalog's search
  results carry no tags);
- only "does not exist" means absence: any other registry error fails the step.
Rules from https://docs.databricks.com/aws/en/database-objects/tags and MLflow's Unity Catalog
store (mlflow/store/_unity_catalog/registry/rest_store.py). The local registry store
(`local_registry.py`) behaves as Unity Catalog does where sqlite would be more lenient.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature

from .errors import PipelineError

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"

FORBIDDEN_IN_TAG_KEYS = ".,-=/:"
MAX_TAG_KEY, MAX_TAG_VALUE, MAX_TAGS = 255, 1000, 50
MAX_DESCRIPTION = 65_536  # Unity Catalog's model version comment
# what a missing alias, version or model is called by the sqlite store and Unity Catalog
ABSENT = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}


class NoModelError(PipelineError):
    exit_code = 4


class RegistryError(PipelineError):
    """The registry refused a call or failed: never read as "no model"."""

    exit_code = 6


class RegistryRuleError(RegistryError):
    """The call breaks a Unity Catalog rule: it would fail on Databricks."""


def tag_key(*parts: str) -> str:
    """A tag key Unity Catalog accepts, from dotted or dashed parts: ("validation", "a.b") ->
    "validation_a_b"."""
    return re.sub(f"[{re.escape(FORBIDDEN_IN_TAG_KEYS)}]", "_", "_".join(parts))


def check_tag(key: str, value: str) -> None:
    bad = sorted({c for c in key if c in FORBIDDEN_IN_TAG_KEYS})
    if bad:
        raise RegistryRuleError(
            f"tag key '{key}' contains {' '.join(bad)}, which Unity Catalog does not accept in "
            f"tag keys ({' '.join(FORBIDDEN_IN_TAG_KEYS)}): use '{tag_key(key)}'"
        )
    if not key or len(key) > MAX_TAG_KEY:
        raise RegistryRuleError(f"tag key '{key[:40]}...' must have 1 to {MAX_TAG_KEY} characters")
    if len(str(value)) > MAX_TAG_VALUE:
        raise RegistryRuleError(
            f"tag '{key}' has a value of {len(str(value))} characters; Unity Catalog accepts at "
            f"most {MAX_TAG_VALUE}: shorten it"
        )


def check_description(text: str) -> None:
    if not text.strip() or len(text) > MAX_DESCRIPTION:
        raise RegistryRuleError(
            f"a model version description of {len(text)} characters: Unity Catalog accepts 1 to "
            f"{MAX_DESCRIPTION} (the model card is the description: shorten its text in "
            "conf/project.yml `card`)"
        )


def check_signature(signature: ModelSignature | None, model_uri: str) -> None:
    if signature is None or signature.outputs is None:
        what = "no signature" if signature is None else "a signature without outputs"
        raise RegistryRuleError(
            f"model {model_uri} has {what}; Unity Catalog registers only models logged with a "
            "signature of inputs and outputs: pass signature=infer_signature(X, model(X)) to "
            "log_model"
        )


def is_absent(error: MlflowException) -> bool:
    return error.error_code in ABSENT


class Registry:
    """One registered model; every call the project makes to the registry."""

    def __init__(self, client: MlflowClient, name: str) -> None:
        self.client = client
        self.name = name

    def register(self, model_uri: str, description: str, tags: dict[str, str]) -> ModelVersion:
        """Register a logged model as a new version, with its description and tags."""
        check_signature(mlflow.models.get_model_info(model_uri).signature, model_uri)
        check_description(description)
        for key, value in tags.items():
            check_tag(key, value)
        with self._errors("register a version of"):
            # mlflow.register_model uses the active registry: Tracking.activate() sets it
            version = mlflow.register_model(model_uri, self.name, tags=tags)
            self.client.update_model_version(self.name, version.version, description=description)
            return self.client.get_model_version(self.name, version.version)

    def version(self, version: str) -> ModelVersion:
        """A version with its tags and aliases."""
        try:
            return self.client.get_model_version(self.name, str(version))
        except MlflowException as error:
            if is_absent(error):
                raise NoModelError(f"model '{self.name}' has no version {version}") from None
            raise self._failure("read a version of", error) from None

    def version_by_alias(self, alias: str) -> ModelVersion | None:
        """The version holding `alias`, or None when no version holds it."""
        try:
            return self.client.get_model_version_by_alias(self.name, alias)
        except MlflowException as error:
            if is_absent(error):
                return None
            raise self._failure(f"read alias '{alias}' of", error) from None

    def require_alias(self, alias: str, hint: str) -> ModelVersion:
        version = self.version_by_alias(alias)
        if version is None:
            raise NoModelError(f"model '{self.name}' has no version with alias '{alias}'. {hint}")
        return version

    def aliases(self) -> dict[str, str]:
        """Every alias of the model and the version holding it ({} when none, or no model)."""
        try:
            model = self.client.get_registered_model(self.name)
        except MlflowException as error:
            if is_absent(error):
                return {}
            raise self._failure("read the aliases of", error) from None
        return {alias: str(version) for alias, version in model.aliases.items()}

    def set_alias(self, alias: str, version: str) -> None:
        with self._errors(f"set alias '{alias}' on"):
            self.client.set_registered_model_alias(self.name, alias, str(version))

    def delete_alias(self, alias: str) -> None:
        with self._errors(f"delete alias '{alias}' of"):
            self.client.delete_registered_model_alias(self.name, alias)

    def describe(self, version: str, description: str) -> None:
        """Replace a version's description (Unity Catalog shows it as the version's comment)."""
        check_description(description)
        with self._errors("describe a version of"):
            self.client.update_model_version(self.name, str(version), description=description)

    def set_tags(self, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            check_tag(key, value)
        with self._errors("tag a version of"):
            for key, value in tags.items():
                self.client.set_model_version_tag(self.name, str(version), key, str(value))

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except MlflowException as error:
            raise self._failure(action, error) from error

    def _failure(self, action: str, error: MlflowException) -> RegistryError:
        return RegistryError(
            f"the model registry failed to {action} '{self.name}' ({error.error_code}): "
            f"{error.message}"
        )


# The pipelines' short forms (inference, monitoring, serving).
def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    return Registry(client, name).version_by_alias(alias)


def require_alias(client: MlflowClient, name: str, alias: str, hint: str) -> ModelVersion:
    return Registry(client, name).require_alias(alias, hint)
