"""Typed configuration: conf/project.yml plus one file per environment, validated once.

An environment file (conf/<env>.yml) holds the `runtime` section and may override any key of
conf/project.yml. A loading error names the file and the key that is wrong.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError

ENVIRONMENTS = ("local", "dev", "staging", "prod")


def _iso_date(value: str) -> str:
    date.fromisoformat(value)  # a ValueError names the bad date
    return value


def _past_date(value: str) -> str:
    if date.fromisoformat(value) > date.today():
        raise ValueError(f"{value} is in the future: every row would be rejected")
    return value


def _unique(values: list[Any]) -> list[Any]:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"each value may appear once; repeated: {', '.join(repeated)}")
    return values


def _matching(pattern: str, meaning: str):
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(f"{value!r} is not {meaning}")
        return value

    return AfterValidator(check)


IsoDate = Annotated[str, AfterValidator(_iso_date)]
# a plain Unity Catalog / Delta table name: it is also a folder name locally, so no "/" or ".."
TableName = Annotated[
    str,
    _matching(r"[a-z][a-z0-9_]{0,254}", "a plain name: lowercase letters, digits and _ (no path)"),
]
Name = Annotated[str, _matching(r"[A-Za-z0-9_]+", "a column name: letters, digits and _")]
Probability = Annotated[float, Field(ge=0, le=1)]
# held-out metrics the gate can hold a model to (the names of MLflow's classifier evaluator)
GateMetric = Literal[
    "roc_auc", "precision_recall_auc", "accuracy_score", "precision_score", "recall_score",
    "f1_score", "log_loss",
]  # fmt: skip


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
    # the MLflow experiment of this environment: a name locally, a workspace path on Databricks
    # (the bundle's experiment, passed by every job)
    experiment: Annotated[str, StringConstraints(min_length=1)]
    # databricks runtime: Unity Catalog location
    catalog: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    # the schema's volume for streaming checkpoints (the bundle's `checkpoints` volume)
    volume: TableName = "checkpoints"

    @model_validator(mode="after")
    def _databricks_needs_location(self) -> RuntimeConfig:
        if self.kind == "databricks":
            needed = {"catalog": self.catalog, "schema": self.schema_}
            missing = [key for key, value in needed.items() if not value]
            if missing:
                raise ValueError(f"a databricks runtime needs {', '.join(missing)}")
        return self


class RunConfig(_Section):
    """This run: the job run that hands a model version from train to validate and deploy
    (`{{job.run_id}}` on Databricks) and the git commit of the code (`${bundle.git.commit}`)."""

    id: str = "local"
    git_commit: str | None = None

    @field_validator("id", "git_commit", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value  # `--set` reads YAML


class TablesConfig(_Section):
    raw_customers: TableName
    raw_transactions: TableName
    raw_labels: TableName
    quarantine: TableName
    transaction_features: TableName
    customer_features: TableName
    evaluations: TableName
    training_runs: TableName
    predictions: TableName
    stream_predictions: TableName
    # the challenger's scores of each batch (inference.shadow), compared by `monitor`
    shadow_predictions: TableName = "shadow_predictions"
    monitoring: TableName
    # every request the `serve` server answered, one row per model that scored it
    inference_log: TableName = "inference_log"

    @model_validator(mode="after")
    def _distinct(self) -> TablesConfig:
        names = list(self.model_dump().values())
        _unique(names)  # two steps writing one table would overwrite each other
        return self


class DataConfig(_Section):
    """The synthetic data generator (src/<package>/data/generator.py)."""

    seed: int = Field(default=42, ge=0)
    n_customers: int = Field(gt=0)
    n_transactions: int = Field(gt=0)
    days: int = Field(gt=0)
    end_date: IsoDate = "2026-01-01"
    fraud_rate: float = Field(gt=0, lt=1)
    bad_row_rate: float = Field(ge=0, lt=1)
    # 0: no group of customers is treated differently; up to 1: the data is unfair to one age
    # band (data/generator.py, BIASED_GROUP), for testing the fairness gate
    bias: Probability = 0.0


class ContractConfig(_Section):
    """The data contract on raw transactions (src/<package>/data/contract.py)."""

    # the run fails when more of the NEW raw rows than this break the contract
    max_reject_rate: Probability
    merchant_categories: Annotated[list[Name], Field(min_length=1), AfterValidator(_unique)]
    # a row dated later than the run's time plus this is rejected (a feed's clock skew passes)
    max_future_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    # a row dated before this day is rejected (placeholder dates such as 1900-01-01 or 1970-01-01)
    min_event_date: Annotated[IsoDate, AfterValidator(_past_date)] = "2000-01-01"


class FeaturesConfig(_Section):
    windows_days: Annotated[
        list[Annotated[int, Field(gt=0, le=3650)]], Field(min_length=1), AfterValidator(_unique)
    ]
    night_hours: Annotated[list[Annotated[int, Field(ge=0, le=23)]], AfterValidator(_unique)]


class ModelConfig(_Section):
    name: TableName  # a Unity Catalog name: <catalog>.<schema>.<name> on Databricks
    target: Name
    numeric_features: Annotated[list[Name], AfterValidator(_unique)]
    categorical_features: Annotated[list[Name], AfterValidator(_unique)]
    test_fraction: float = Field(gt=0, lt=1)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _no_experiment(cls, data: Any) -> Any:
        # model.experiment was read locally only; each environment now names its own
        if isinstance(data, dict) and "experiment" in data:
            raise ValueError(
                "model.experiment has moved to runtime.experiment of each conf/<env>.yml "
                "(conf/local.yml names the local one): delete it here"
            )
        return data

    @model_validator(mode="after")
    def _some_features_once(self) -> ModelConfig:
        if not self.numeric_features and not self.categorical_features:
            raise ValueError("name at least one feature (numeric_features, categorical_features)")
        both = sorted(set(self.numeric_features) & set(self.categorical_features))
        if both:
            raise ValueError(f"{', '.join(both)} cannot be both numeric and categorical")
        if self.target in self.numeric_features + self.categorical_features:
            raise ValueError(f"the target {self.target} cannot also be a feature")
        return self


class SearchRange(_Section):
    """One parameter's search space: `low`..`high` (whole numbers when both are), or `choices`."""

    low: int | float | None = None
    high: int | float | None = None
    log: bool = False  # sample on a log scale (rates, regularisation)
    choices: Annotated[list[str | int | float | bool | None], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _range_or_choices(self) -> SearchRange:
        bounds = (self.low, self.high)
        if self.choices is not None:
            if bounds != (None, None) or self.log:
                raise ValueError("give either choices or low/high (and log), not both")
            return self
        if None in bounds:
            raise ValueError("give low and high, e.g. {low: 0.01, high: 0.3}, or choices: [...]")
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got {self.low} and {self.high}")
        if self.log and self.low <= 0:
            raise ValueError("a log scale needs low > 0")
        return self

    @property
    def whole_numbers(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)


class TuningConfig(_Section):
    """The `tune` step (src/<package>/training/tune.py): proposes model.params, never sets them."""

    metric: GateMetric = "precision_recall_auc"  # on the newest rows of the training data
    trials: int = Field(default=20, ge=1, le=10_000)
    timeout_minutes: float = Field(default=10, gt=0)  # stop starting trials after this
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)
    space: Annotated[dict[Name, SearchRange], Field(min_length=1)]


def _scores_are_probabilities(bounds: dict[str, float]) -> dict[str, float]:
    above = [metric for metric, bound in bounds.items() if metric != "log_loss" and bound > 1]
    if above:
        raise ValueError(f"{', '.join(above)} is a score between 0 and 1")
    return bounds


class ValidationConfig(_Section):
    """The gate between a trained model and `challenger` (src/<package>/validation/)."""

    # the candidate must reach these on held-out data (log_loss: stay below)
    thresholds: Annotated[
        dict[GateMetric, Annotated[float, Field(ge=0)]],
        Field(min_length=1),
        AfterValidator(_scores_are_probabilities),
    ]
    # it may be worse than the champion by at most this much
    champion_tolerance: dict[GateMetric, Annotated[float, Field(ge=0, le=1)]]
    # with no champion yet, it must beat the business baseline by at least this much
    # (> 0: MLflow rejects a zero margin)
    baseline_margin: dict[GateMetric, Annotated[float, Field(gt=0, le=1)]]
    required_tags: list[str] = Field(default_factory=list)
    # record every check but never set an alias (and exit 0)
    report_only: bool = False


# customer columns (data/schema.py, CUSTOMER_ATTRIBUTES) a fairness review may group by
FairnessAttribute = Literal["age_band", "region", "segment", "home_country"]
# per-group metrics at inference.decision_threshold (validation/fairness.py, METRICS)
FairnessMetric = Literal["false_positive_rate", "false_negative_rate", "recall", "selection_rate"]


def _known(kind: str, allowed: Any, where: str):
    """A validator naming the unknown value, the values allowed and where to add one."""
    known = allowed.__args__

    def check(values: Any) -> Any:
        for value in values:
            if value not in known:
                choices = ", ".join(known)
                raise ValueError(
                    f"unknown {kind} {value!r}: use one of {choices} (or add it to {where})"
                )
        return values

    return check


class FairnessConfig(_Section):
    """The fairness gate of `validate` and the per-group rows of `monitor`
    (src/<package>/validation/fairness.py). The attributes are for evaluation only: they are
    never model features."""

    # customer attributes the held-out (and monitored) rows are grouped by; [] turns it off
    attributes: Annotated[list[str], AfterValidator(_unique)] = Field(default_factory=list)
    # per metric: the largest allowed gap between the best and the worst group
    max_gap: dict[str, Probability] = Field(default_factory=dict)
    # a group with fewer rows than this behind a metric (negatives for false_positive_rate,
    # positives for recall and false_negative_rate) is left out of that metric's gap
    min_group_size: int = Field(default=30, ge=1)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, names: list[str]) -> list[str]:
        where = "data/schema.py CUSTOMER_ATTRIBUTES and FairnessAttribute in config.py"
        return _known("attribute", FairnessAttribute, where)(names)

    @field_validator("max_gap")
    @classmethod
    def _metrics(cls, gaps: dict[str, float]) -> dict[str, float]:
        return _known("metric", FairnessMetric, "validation/fairness.py METRICS")(gaps)

    @model_validator(mode="after")
    def _metrics_for_attributes(self) -> FairnessConfig:
        if self.attributes and not self.max_gap:
            raise ValueError("attributes are named but no max_gap: name a metric and its limit")
        return self


class CardConfig(_Section):
    """What a person writes for the model card of every version (src/<package>/model_card/);
    the rest of the card comes from what the pipeline recorded. Empty text shows as "not
    written" in the card."""

    intended_use: str = ""
    out_of_scope: str = ""
    limitations: list[str] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)


class TrafficConfig(_Section):
    """How requests meet models: the local server (inference/traffic.py) and the endpoint's routes
    (deployment/endpoint.py) read the same keys."""

    # champion: @champion answers all; canary (A/B): `challenger_share` of the request keys go to
    # @challenger; shadow: @challenger also scores every request, @champion's answer is returned
    strategy: Literal["champion", "canary", "shadow"] = "champion"
    challenger_share: Probability = 0.0
    # the request field hashed to pick a model: one customer always meets the same model
    request_key: Name = "customer_id"

    @model_validator(mode="after")
    def _share_fits_strategy(self) -> TrafficConfig:
        share, percent = self.challenger_share, round(self.challenger_share * 100)
        if self.strategy != "canary" and share:
            raise ValueError(
                f"challenger_share applies to strategy canary only (this is {self.strategy}): "
                "set strategy: canary, or challenger_share: 0"
            )
        if self.strategy == "canary" and not share:
            raise ValueError("canary needs a challenger_share above 0, e.g. 0.1 (10% of keys)")
        if self.strategy == "canary" and share == 1:
            raise ValueError(
                "canary needs challenger_share below 1: to send all traffic to the challenger, "
                "deploy it (it becomes champion)"
            )
        if self.strategy == "canary" and abs(share * 100 - percent) > 1e-9:
            raise ValueError(
                f"challenger_share must be a whole percentage (Databricks routes whole "
                f"percentages): use {max(percent, 1) / 100}, not {share}"
            )
        return self


class DeploymentConfig(_Section):
    # a Model Serving endpoint name turns serving on (Databricks runtimes only)
    serving_endpoint: str | None = None
    workload_size: Literal["Small", "Medium", "Large"] = "Small"
    scale_to_zero: bool = True
    # `promote` moves `challenger` to champion only after it scored this many transactions in
    # shadow (inference.shadow), and only with an enforced, passed validation
    promote_after_rows: int = Field(default=1000, ge=0)
    traffic: TrafficConfig = TrafficConfig()


class InferenceConfig(_Section):
    window_days: int = Field(default=7, gt=0)
    # last day of the scoring window (inclusive); default: the day of the newest transaction
    batch_date: IsoDate | None = None
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    # per score, also write the N features that pushed it up most (column top_reasons); 0: off
    reasons: int = Field(default=0, ge=0, le=20)
    # batch shadow: when a `challenger` exists, it scores each batch too, into
    # tables.shadow_predictions (never returned, never acted on); `monitor` compares the two
    shadow: bool = True


class Thresholds(_Section):
    warn: float = Field(ge=0)
    alert: float = Field(ge=0)  # below `warn` when lower values are worse (p-values)


DriftMetric = Literal["psi", "ks", "js_distance", "chi2_pvalue"]
PerformanceMetric = Literal["roc_auc_drop", "precision_drop", "recall_drop"]
# metrics where a low value is the alarm: alert <= warn <= 1
P_VALUES = {"chi2_pvalue"}


def _warn_before_alert(levels: dict[str, Thresholds]) -> dict[str, Thresholds]:
    for metric, level in levels.items():
        if metric in P_VALUES and not level.alert <= level.warn <= 1:
            raise ValueError(f"{metric} is a p-value: need alert <= warn <= 1, got {level}")
        if metric not in P_VALUES and level.warn > level.alert:
            raise ValueError(f"{metric}: need warn <= alert, got {level}")
    return levels


MetricThresholds = Annotated[
    dict[DriftMetric, Thresholds], Field(min_length=1), AfterValidator(_warn_before_alert)
]


class MonitoringConfig(_Section):
    """Drift and performance monitoring (src/<package>/monitoring/)."""

    # the predictions a window holds: the newest batch of `inference`, or the last
    # inference.window_days days of what `stream` scored
    source: Literal["batch", "stream"] = "batch"
    bins: int = Field(default=10, ge=2)  # numeric buckets, from baseline quantiles
    score_bins: int = Field(default=50, ge=10)  # score buckets for the binned ROC AUC
    min_rows: int = Field(default=200, ge=1)  # a smaller window is an error, not a verdict
    numeric: MetricThresholds
    categorical: MetricThresholds
    prediction: MetricThresholds
    label: MetricThresholds
    performance: Annotated[
        dict[PerformanceMetric, Thresholds], Field(min_length=1), AfterValidator(_warn_before_alert)
    ]
    report_dir: str | None = None  # also save the HTML report here (it is always in MLflow)
    # POST a JSON summary here when the status is not ok
    webhook_url: Annotated[str, _matching(r"https?://\S+", "an http(s):// URL")] | None = None
    retrain_on_alert: bool = True


class Config(_Section):
    env: str
    runtime: RuntimeConfig
    run: RunConfig = RunConfig()
    tables: TablesConfig
    data: DataConfig
    contract: ContractConfig
    features: FeaturesConfig
    model: ModelConfig
    tuning: TuningConfig
    validation: ValidationConfig
    deployment: DeploymentConfig = DeploymentConfig()
    inference: InferenceConfig = InferenceConfig()
    monitoring: MonitoringConfig
    fairness: FairnessConfig = FairnessConfig()
    card: CardConfig = CardConfig()


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
    if not project_file.is_file():
        raise ConfigError(
            f"{project_file} is missing: it holds the settings every environment shares. "
            "Restore it from git (`git checkout -- conf/project.yml`)."
        )
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
            given = repr(error["input"])
            shown = f" = {given}" if len(given) <= 60 and error["type"] != "missing" else ""
            reason = error["msg"].removeprefix("Value error, ")
            problems.append(f"{source}: key '{key}'{shown}: {reason}")
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
        try:
            node[leaf] = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ConfigError(
                f"override '{pair}': the value is not valid YAML: give a number, true/false, "
                f"[a, list] or a quoted text, e.g. --set {key}=7"
            ) from None
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
    """The layer that sets the longest prefix of `loc` (the later one on a tie): the file to fix.

    A wrong `monitoring.numeric.psi` is in conf/project.yml even when conf/local.yml sets
    another `monitoring` key.
    """
    best, best_depth = layers[0][0], 0
    for path, layer in layers:
        node: Any = layer
        depth = 0
        for part in loc:
            if not (isinstance(node, dict) and part in node):
                break
            node, depth = node[part], depth + 1
        if depth and depth >= best_depth:
            best, best_depth = path, depth
    return best
