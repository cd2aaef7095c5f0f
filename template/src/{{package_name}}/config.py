"""Typed configuration: conf/project.yml plus one file per environment, validated once.

An environment file (conf/<env>.yml) holds the `runtime` section and may override any key of
conf/project.yml. A loading error names the file and the key that is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError

ENVIRONMENTS = ("local", "dev", "staging", "prod")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuntimeConfig(_Section):
    kind: Literal["local", "databricks"]
    # local runtime: everything lives below this folder (relative to the working directory)
    root: str = ".local"
    spark_master: str = "local[2]"
    # the pipelines talk to local Spark through Spark Connect, as serverless jobs do
    spark_connect: bool = True
    # extra settings of the local Spark, e.g. {spark.jars.repositories: <your Maven mirror>}
    spark_conf: dict[str, str] = Field(default_factory=dict)
    # databricks runtime: Unity Catalog location and MLflow experiment path
    catalog: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    experiment: str | None = None

    @model_validator(mode="after")
    def _databricks_needs_location(self) -> RuntimeConfig:
        if self.kind == "databricks":
            needed = {
                "catalog": self.catalog,
                "schema": self.schema_,
                "experiment": self.experiment,
            }
            missing = [key for key, value in needed.items() if not value]
            if missing:
                raise ValueError(f"a databricks runtime needs {', '.join(missing)}")
        return self


class TablesConfig(_Section):
    raw_customers: str
    raw_transactions: str
    raw_labels: str
    quarantine: str
    transaction_features: str
    customer_features: str
    evaluations: str
    predictions: str
    monitoring: str


class DataConfig(_Section):
    """The synthetic data generator (src/<package>/data/generator.py)."""

    seed: int = 42
    n_customers: int = Field(gt=0)
    n_transactions: int = Field(gt=0)
    days: int = Field(gt=0)
    end_date: str = "2026-01-01"
    fraud_rate: float = Field(gt=0, lt=1)
    bad_row_rate: float = Field(ge=0, lt=1)


class ContractConfig(_Section):
    """The data contract on raw transactions (src/<package>/data/contract.py)."""

    max_reject_rate: float = Field(ge=0, le=1)
    merchant_categories: list[str]


class FeaturesConfig(_Section):
    windows_days: list[int] = Field(min_length=1)
    night_hours: list[int]


class ModelConfig(_Section):
    name: str
    experiment: str
    target: str
    numeric_features: list[str]
    categorical_features: list[str]
    test_fraction: float = Field(gt=0, lt=1)
    params: dict[str, Any] = Field(default_factory=dict)


class ValidationConfig(_Section):
    """The gate between a trained model and `challenger` (src/<package>/validation/)."""

    # the candidate must reach these on held-out data
    thresholds: dict[str, float]
    # it may be worse than the champion by at most this much
    champion_tolerance: dict[str, float]
    # with no champion yet, it must beat the business baseline by at least this much (> 0)
    baseline_margin: dict[str, float]
    required_tags: list[str] = Field(default_factory=list)
    # record every check but never set an alias (and exit 0)
    report_only: bool = False

    @model_validator(mode="after")
    def _margins_positive(self) -> ValidationConfig:
        bad = [metric for metric, margin in self.baseline_margin.items() if margin <= 0]
        if bad:
            raise ValueError(f"baseline_margin must be > 0 for {bad} (MLflow rejects 0)")
        return self


class DeploymentConfig(_Section):
    # a Model Serving endpoint name turns serving on (Databricks runtimes only)
    serving_endpoint: str | None = None
    workload_size: Literal["Small", "Medium", "Large"] = "Small"
    scale_to_zero: bool = True


class InferenceConfig(_Section):
    window_days: int = Field(default=7, gt=0)
    # last day of the scoring window (inclusive); default: the day of the newest transaction
    batch_date: str | None = None
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)


class Thresholds(_Section):
    warn: float
    alert: float  # below `warn` when lower values are worse (p-values)


DriftMetric = Literal["psi", "ks", "js_distance", "chi2_pvalue"]
PerformanceMetric = Literal["roc_auc_drop", "precision_drop", "recall_drop"]


class MonitoringConfig(_Section):
    """Drift and performance monitoring (src/<package>/monitoring/)."""

    bins: int = Field(default=10, ge=2)  # numeric buckets, from baseline quantiles
    score_bins: int = Field(default=50, ge=10)  # score buckets for the binned ROC AUC
    min_rows: int = Field(default=200, ge=1)  # a smaller window is an error, not a verdict
    numeric: dict[DriftMetric, Thresholds]
    categorical: dict[DriftMetric, Thresholds]
    prediction: dict[DriftMetric, Thresholds]
    label: dict[DriftMetric, Thresholds]
    performance: dict[PerformanceMetric, Thresholds]
    report_dir: str | None = None  # also save the HTML report here (it is always in MLflow)
    webhook_url: str | None = None  # POST a JSON summary here when the status is not ok
    retrain_on_alert: bool = True


class Config(_Section):
    env: str
    runtime: RuntimeConfig
    tables: TablesConfig
    data: DataConfig
    contract: ContractConfig
    features: FeaturesConfig
    model: ModelConfig
    validation: ValidationConfig
    deployment: DeploymentConfig = DeploymentConfig()
    inference: InferenceConfig = InferenceConfig()
    monitoring: MonitoringConfig


def default_conf_dir() -> Path:
    """`conf/` of the project checkout, or the copy packaged in the wheel (on Databricks)."""
    checkout = Path.cwd() / "conf"
    if (checkout / "project.yml").is_file():
        return checkout
    return Path(__file__).parent / "conf"


def load_config(
    env: str = "local",
    conf_dir: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Load conf/project.yml, overlay conf/<env>.yml and `overrides`, validate once."""
    conf_dir = conf_dir or default_conf_dir()
    env_file = conf_dir / f"{env}.yml"
    if not env_file.is_file():
        known = sorted(p.stem for p in conf_dir.glob("*.yml") if p.stem != "project")
        raise ConfigError(
            f"unknown environment '{env}': there is no {env_file}. "
            f"Known environments: {', '.join(known) or 'none'}."
        )
    project_file = conf_dir / "project.yml"
    layers = [(project_file, _read_yaml(project_file)), (env_file, _read_yaml(env_file))]
    if overrides:
        layers.append((Path("<overrides>"), overrides))

    merged: dict[str, Any] = {"env": env}
    for _, layer in layers:
        merged = _deep_merge(merged, layer)
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"])
            source = _file_defining(error["loc"], layers)
            problems.append(f"{source}: key '{key}': {error['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ["data.seed=7", "model.params.max_iter=50"] into a nested dict (values as YAML)."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"override '{pair}' is not of the form section.key=value")
        node = result
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(raw)
    return result


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return content


def _deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _file_defining(loc: tuple, layers: list[tuple[Path, dict[str, Any]]]) -> Path:
    """The last layer that sets the deepest existing prefix of `loc`: where the user must look."""
    for path, layer in reversed(layers):
        node: Any = layer
        found = False
        for part in loc:
            if isinstance(node, dict) and part in node:
                node, found = node[part], True
            else:
                break
        if found:
            return path
    return layers[0][0]
