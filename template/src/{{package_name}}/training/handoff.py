"""The hand-off between train, validate and deploy: the version a job run registered.

`train` records the version it registered under the job run's id (`run.id`, the Databricks
`{{job.run_id}}`); `validate` and `deploy` of the same run read it back. Nobody picks "the
newest version", which another job's retrain could have registered in between. The rows also
say which code trained each version and which monitoring alert asked for it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import functions as F

from ..errors import PipelineError
from ..runtime import Context

KEYS = ["run_id", "model_name", "model_version"]
SCHEMA = (
    "run_id string, model_name string, model_version string, git_commit string, "
    "retrain_window string, registered_at timestamp"
)


class NoHandoffError(PipelineError):
    exit_code = 4


def record_registration(
    ctx: Context, version: str, git_commit: str | None, retrain_window: str | None = None
) -> None:
    """Record that this job run registered `version` (again: a retrain adds its window)."""
    row = (
        ctx.config.run.id,
        ctx.tracking.model_name,
        str(version),
        git_commit,
        retrain_window,
        datetime.now(UTC),
    )
    rows = ctx.spark.createDataFrame([row], SCHEMA)
    ctx.tables.upsert(rows, ctx.config.tables.training_runs, KEYS)


def mark_retrain(ctx: Context, version: str, window: str) -> None:
    """Record that `version`, registered by this run, answers the alert of monitoring `window`:
    that alert is consumed, later retrain steps leave it alone."""
    table = ctx.config.tables.training_runs
    mine = ctx.tables.read(table).filter(
        (F.col("run_id") == ctx.config.run.id)
        & (F.col("model_name") == ctx.tracking.model_name)
        & (F.col("model_version") == str(version))
    )
    ctx.tables.upsert(mine.withColumn("retrain_window", F.lit(window)), table, KEYS)


def registered_version(ctx: Context) -> str:
    """The model version this job run's `train` registered."""
    table, run_id = ctx.config.tables.training_runs, ctx.config.run.id
    mine = None
    if ctx.tables.exists(table):
        mine = (
            ctx.tables.read(table)
            .filter((F.col("run_id") == run_id) & (F.col("model_name") == ctx.tracking.model_name))
            .orderBy(F.col("registered_at").desc())
            .select("model_version")
            .first()
        )
    if mine is None:
        raise NoHandoffError(
            f"run '{run_id}' registered no version of '{ctx.tracking.model_name}' (table "
            f"'{ctx.tables.full_name(table)}'): run `train` first, in the same job run "
            "(run.id) as this step."
        )
    return mine.model_version


def trained_for_window(ctx: Context, window: str) -> str | None:
    """The version a retrain registered for the monitoring window `window`, if any."""
    table = ctx.config.tables.training_runs
    if not ctx.tables.exists(table):
        return None
    found = (
        ctx.tables.read(table)
        .filter(
            (F.col("retrain_window") == window) & (F.col("model_name") == ctx.tracking.model_name)
        )
        .select("model_version")
        .first()
    )
    return found.model_version if found else None
