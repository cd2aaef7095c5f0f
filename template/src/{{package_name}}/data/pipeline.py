"""The `data` step and new batches: the synthetic raw tables (they stand in for your ingestion)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pyspark.sql import functions as F

from ..errors import PipelineError
from ..runtime import Context
from . import schema as s
from .generator import Drift, RawData, generate


def generate_raw_data(ctx: Context, drift: Drift | None = None) -> dict[str, Any]:
    """Replace the raw tables with a freshly generated history."""
    raw = generate(ctx.config.data, drift)
    names = ctx.config.tables
    for frame, table in (
        (raw.customers, names.raw_customers),
        (raw.transactions, names.raw_transactions),
        (raw.labels, names.raw_labels),
    ):
        ctx.tables.overwrite(ctx.spark.createDataFrame(frame), table)
    return _summary(raw)


def append_batch(
    ctx: Context,
    days: int,
    drift: Drift | None = None,
    *,
    n_transactions: int | None = None,
    with_labels: bool = True,
    labels_only: bool = False,
    end_date: date | None = None,
) -> dict[str, Any]:
    """Add the next `days` days of transactions (and their labels) after the newest one.

    A batch is identified by its end date and generated deterministically, so re-running it
    changes nothing, and `labels_only` adds the labels of an earlier batch when they "arrive".
    """
    cfg, names = ctx.config, ctx.config.tables
    if end_date is None:
        newest = (
            ctx.tables.read(names.raw_transactions).agg(F.max(F.to_date(s.EVENT_TS))).first()[0]
        )
        end_date = newest + timedelta(days=days + 1)
    first_end = date.fromisoformat(cfg.data.end_date)
    if end_date <= first_end:
        raise PipelineError(
            f"a batch ending on {end_date} is inside the generated history, which ends on "
            f"{first_end}: pick a later date (an earlier `generate-batch` printed its "
            "'batch ends' date)"
        )
    size = n_transactions or max(1, cfg.data.n_transactions * days // cfg.data.days)
    raw = generate(
        cfg.data,
        drift,
        batch=(end_date - first_end).days,
        n_transactions=size,
        days=days,
        end_date=end_date.isoformat(),
    )
    if not labels_only:
        ctx.tables.upsert(
            ctx.spark.createDataFrame(raw.transactions), names.raw_transactions, [s.TRANSACTION_ID]
        )
    if with_labels or labels_only:
        ctx.tables.upsert(
            ctx.spark.createDataFrame(raw.labels), names.raw_labels, [s.TRANSACTION_ID]
        )
    return {"batch ends": end_date.isoformat(), **_summary(raw)}


def _summary(raw: RawData) -> dict[str, Any]:
    return {
        "customers": len(raw.customers),
        "transactions": len(raw.transactions),
        "fraud rate": round(float(raw.labels[s.IS_FRAUD].mean()), 4),
    }
