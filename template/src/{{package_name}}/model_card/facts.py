"""What a model card says, gathered from what the pipeline recorded about one version.

Nothing is computed again here: the registry version (tags, lineage), its training run
(parameters, metrics, global importance), the newest entry of the validation record (the
evaluation table) and the validation run's per-group table. What was never recorded is None,
and the card says so.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient

from ..runtime import Context
from ..runtime.tracking import GIT_COMMIT_TAG
from ..training.lineage import read_lineage
from ..validation.record import newest_entry

IMPORTANCE, IMPORTANCE_PLOT = "explain/importance.json", "explain/importance.png"
BY_GROUP = "fairness/by_group.json"
# run parameters of train that are not the estimator's own
RUN_PARAMS = ("estimator", "features", "train_rows", "test_rows", "nullable_features")


@dataclass(frozen=True)
class Source:
    table: str  # logical name (conf/project.yml tables)
    full_name: str
    delta_version: str


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float | None
    threshold: float | None
    detail: str


@dataclass(frozen=True)
class Validation:
    status: str  # passed, failed or withdrawn
    mode: str  # enforce or report_only
    compared_with: str
    at: datetime
    run_id: str
    checks: list[Check]
    decision_threshold: str | None  # the one the fairness rates were measured at


@dataclass(frozen=True)
class CardFacts:
    model_name: str
    version: str
    registered_at: datetime
    run_id: str
    job_run_id: str | None
    git_commit: str | None
    sources: list[Source]
    estimator: str | None  # its class name
    features: list[tuple[str, str]]  # (name, type) from the signature
    nullable: list[str]
    params: dict[str, str]  # the estimator's
    train_rows: str | None
    test_rows: str | None
    metrics: dict[str, float]  # on the held-out rows, at training
    importance: pd.DataFrame | None  # feature, importance, std
    importance_plot: bytes | None  # PNG
    validation: Validation | None
    by_group: pd.DataFrame | None  # attribute, group, metric, value (None: too small)


def gather(ctx: Context, version: str) -> CardFacts:
    registry, client = ctx.tracking.registry(), ctx.tracking.client()
    registered = registry.version(version)
    run = client.get_run(registered.run_id)
    params = run.data.params
    signature = mlflow.models.get_model_info(f"models:/{registry.name}/{version}").signature
    validation = _validation(ctx, client, version)
    return CardFacts(
        model_name=registry.name,
        version=str(version),
        registered_at=datetime.fromtimestamp(registered.creation_timestamp / 1000, UTC),
        run_id=registered.run_id,
        job_run_id=registered.tags.get("job_run_id"),
        git_commit=registered.tags.get(GIT_COMMIT_TAG),
        sources=_sources(registered.tags),
        estimator=params.get("estimator"),
        features=[(c.name, getattr(c.type, "name", str(c.type))) for c in signature.inputs.inputs],
        nullable=[n for n in params.get("nullable_features", "").split(",") if n],
        params={k: v for k, v in sorted(params.items()) if k not in RUN_PARAMS},
        train_rows=params.get("train_rows"),
        test_rows=params.get("test_rows"),
        metrics=dict(sorted(run.data.metrics.items())),
        importance=_table(client, registered.run_id, IMPORTANCE),
        importance_plot=_artifact(client, registered.run_id, IMPORTANCE_PLOT),
        validation=validation,
        by_group=None if validation is None else _table(client, validation.run_id, BY_GROUP),
    )


def _sources(tags: dict[str, str]) -> list[Source]:
    return [
        Source(source, table, version or "not recorded")
        for source, (table, version) in read_lineage(tags).items()
    ]


def _validation(ctx: Context, client: MlflowClient, version: str) -> Validation | None:
    entry = newest_entry(ctx, version)
    if entry is None:
        return None
    first = entry.iloc[0]
    checks = [
        Check(r.check, bool(r.passed), _number(r.value), _number(r.threshold), r.detail)
        for r in entry.itertuples()
    ]
    run_id = first["validation_run_id"]
    threshold = _run_param(client, run_id, "decision_threshold")
    return Validation(
        first["status"],
        first["mode"],
        first["compared_with"],
        pd.Timestamp(first["validated_at"]).to_pydatetime(),
        run_id,
        checks,
        threshold,
    )


def _run_param(client: MlflowClient, run_id: str, key: str) -> str | None:
    if run_id == "none":  # a withdrawal of a version never validated
        return None
    return client.get_run(run_id).data.params.get(key)


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _artifact(client: MlflowClient, run_id: str, path: str) -> bytes | None:
    """An artifact's bytes, or None when the run has no such artifact (an older version)."""
    if run_id == "none":
        return None
    folder, name = path.rsplit("/", 1)
    if name not in {Path(a.path).name for a in client.list_artifacts(run_id, folder)}:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return Path(client.download_artifacts(run_id, path, tmp)).read_bytes()


def _table(client: MlflowClient, run_id: str, path: str) -> pd.DataFrame | None:
    """A table logged with `mlflow.log_table` (JSON of columns and data), or None."""
    raw = _artifact(client, run_id, path)
    if raw is None:
        return None
    logged = json.loads(raw)
    return pd.DataFrame(logged["data"], columns=logged["columns"])
