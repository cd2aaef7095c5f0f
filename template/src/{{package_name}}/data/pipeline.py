"""The `data` step: write the synthetic raw tables (stands in for your real ingestion)."""

from __future__ import annotations

from typing import Any

from ..runtime import Context
from .generator import Drift, generate


def generate_raw_data(ctx: Context, drift: Drift | None = None) -> dict[str, Any]:
    raw = generate(ctx.config.data, drift or Drift())
    names = ctx.config.tables
    for frame, table in (
        (raw.customers, names.raw_customers),
        (raw.transactions, names.raw_transactions),
        (raw.labels, names.raw_labels),
    ):
        ctx.tables.overwrite(ctx.spark.createDataFrame(frame), table)
    return {
        "customers": len(raw.customers),
        "transactions": len(raw.transactions),
        "fraud rate": round(float(raw.labels["is_fraud"].mean()), 4),
    }
