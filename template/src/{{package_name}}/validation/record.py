"""The validation record: the rows of the evaluation table, which only the pipeline writes.

Tags and aliases on a model version can be set by hand by anyone who may edit the model, so they
only describe. What decides whether a version may become champion is this record, written by
`validate` (one row per check of one validation run) and by `rollback` (a row that withdraws
the rolled-back version's validation). On Databricks, grant MODIFY on the table to the jobs'
identity only. The newest entry of a version is its standing: a pass, a failure, or withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from pyspark.sql import functions as F

from ..runtime import Context
from .checks import CheckResult

PASSED, FAILED, WITHDRAWN = "passed", "failed", "withdrawn"
ENFORCE, REPORT_ONLY = "enforce", "report_only"
BASELINE = "business baseline"
WITHDRAWN_CHECK = "rollback"  # the `check` of the row a rollback adds
KEYS = ["model_name", "model_version", "validation_run_id", "check"]
# the validation run logs each check's value as a metric under this prefix, for deploy to compare
METRIC_PREFIX = "check/"


@dataclass(frozen=True)
class Standing:
    """The newest entry of a version in the evaluation table."""

    version: str
    run_id: str
    status: str  # passed, failed or withdrawn
    mode: str
    compared_with: str  # "champion v<N>" or "business baseline"
    at: datetime
    detail: str
    values: dict[str, float]  # check -> measured value (the checks that measure one)


def compared_with(champion_version: str | None) -> str:
    return BASELINE if champion_version is None else f"champion v{champion_version}"


def record_validation(
    ctx: Context,
    version: str,
    results: list[CheckResult],
    status: str,
    mode: str,
    against: str,
    run_id: str,
) -> None:
    _write(
        ctx,
        pd.DataFrame(
            {
                "model_name": ctx.tracking.model_name,
                "model_version": str(version),
                "validation_run_id": run_id,
                "check": [r.name for r in results],
                "passed": [r.passed for r in results],
                "value": [r.value for r in results],
                "threshold": [r.threshold for r in results],
                "detail": [r.detail for r in results],
                "status": status,
                "mode": mode,
                "compared_with": against,
                "validated_at": datetime.now(UTC),
            }
        ),
    )


def withdraw(ctx: Context, standing: Standing | None, version: str, reason: str) -> None:
    """Withdraw the validation of a rolled-back `version`: it returns to champion only after a
    new validation, written after this row."""
    row = {
        "model_name": ctx.tracking.model_name,
        "model_version": str(version),
        "validation_run_id": standing.run_id if standing else "none",
        "check": WITHDRAWN_CHECK,
        "passed": False,
        "value": None,
        "threshold": None,
        "detail": reason,
        "status": WITHDRAWN,
        "mode": standing.mode if standing else ENFORCE,
        "compared_with": standing.compared_with if standing else BASELINE,
        "validated_at": datetime.now(UTC),  # here: when it was withdrawn
    }
    _write(ctx, pd.DataFrame([row]))


def standing(ctx: Context, version: str) -> Standing | None:
    """The newest entry of `version`, or None when it was never validated."""
    entry = newest_entry(ctx, version)
    if entry is None:
        return None
    newest = entry.iloc[0]
    measured = entry[entry["value"].notna()]
    return Standing(
        version=str(version),
        run_id=newest["validation_run_id"],
        status=newest["status"],
        mode=newest["mode"],
        compared_with=newest["compared_with"],
        at=newest["validated_at"],
        detail=newest["detail"],
        values=dict(zip(measured["check"], measured["value"].astype(float), strict=True)),
    )


def newest_entry(ctx: Context, version: str) -> pd.DataFrame | None:
    """The rows of the newest validation (or withdrawal) of `version`, None when it has none."""
    table = ctx.config.tables.evaluations
    if not ctx.tables.exists(table):
        return None
    rows = (
        ctx.tables.read(table)
        .filter(
            (F.col("model_name") == ctx.tracking.model_name)
            & (F.col("model_version") == str(version))
        )
        .toPandas()  # a few rows per validation of one version
    )
    if rows.empty:
        return None
    newest = rows.loc[rows["validated_at"].idxmax()]
    entry = rows[
        (rows["validation_run_id"] == newest["validation_run_id"])
        & (rows["validated_at"] == newest["validated_at"])
    ]
    return entry.reset_index(drop=True)


def _write(ctx: Context, rows: pd.DataFrame) -> None:
    rows = rows.astype({"value": "float64", "threshold": "float64", "passed": "bool"})
    ctx.tables.upsert(ctx.spark.createDataFrame(rows), ctx.config.tables.evaluations, keys=KEYS)
