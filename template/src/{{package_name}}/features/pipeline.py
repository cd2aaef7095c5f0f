"""The `features` step: contract check, feature computation, tables that follow the raw data.

Every table this step writes is derived from the raw tables as a whole and synced to them (one
Delta commit per table): rows deleted from raw disappear, regenerated history replaces the old,
and a re-run or a run after a kill converges to the same tables. Raw rows = feature rows +
quarantined rows after every successful run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..data import schema as s
from ..data.contract import conform, judge, reject_rate
from ..errors import DataContractError
from ..runtime import Context
from .customers import customer_features
from .transactions import transaction_features

NEW = "_new"


def build_features(ctx: Context) -> dict[str, Any]:
    cfg, names = ctx.config, ctx.config.tables
    now = datetime.now(UTC)  # one clock for the whole run: every query judges a row alike
    raw = ctx.tables.read(names.raw_transactions)
    raw = conform(raw, s.RAW_TRANSACTIONS, names.raw_transactions)
    # No cache()/persist(): serverless rejects them; recomputing the judgement is cheap.
    verdicts = judge(raw, cfg.contract, now)
    judged = verdicts.join(accepted_rows(ctx), s.ROW_HASH, "left")
    judged = judged.withColumn(NEW, F.col(NEW).isNull())
    rejected = F.col(s.REJECT_REASON) != ""
    counts = judged.agg(
        F.count("*").alias("total"),
        F.count(F.when(rejected, 1)).alias("rejected"),
        F.count(F.when(F.col(NEW), 1)).alias("new"),
        F.count(F.when(F.col(NEW) & rejected, 1)).alias("new_rejected"),
    ).first()
    rate = reject_rate(counts["new"], counts["new_rejected"])
    held = rate > cfg.contract.max_reject_rate
    # Quarantine first, so the rows are there to inspect even when the run fails below. The
    # new ones of a failing batch are `held`: the next run counts them as new again, so a bad
    # batch fails until the feed is fixed or the limit raised, however often it is re-run.
    quarantine = judged.filter(rejected).select(
        *s.RAW_TRANSACTIONS, s.REJECT_REASON, s.ROW_HASH, (F.lit(held) & F.col(NEW)).alias(s.HELD)
    )
    ctx.tables.sync(quarantine, names.quarantine, keys=[s.ROW_HASH])
    if held:
        raise DataContractError(
            f"{counts['new_rejected']} of {counts['new']} new raw transactions ({rate:.1%}) "
            f"break the data contract, above contract.max_reject_rate="
            f"{cfg.contract.max_reject_rate:.1%}. Inspect "
            f"'{ctx.tables.full_name(names.quarantine)}' (rows with {s.HELD} = true, column "
            f"{s.REJECT_REASON}); fix the feed, or raise the limit in conf/project.yml if these "
            "rows are expected."
        )

    valid = verdicts.filter(~rejected).drop(s.REJECT_REASON)
    customers = conform(ctx.tables.read(names.raw_customers), s.RAW_CUSTOMERS, names.raw_customers)
    # a customer listed twice must not double its payments: one home country, chosen stably
    customers = customers.groupBy(s.CUSTOMER_ID).agg(F.min(s.HOME_COUNTRY).alias(s.HOME_COUNTRY))
    per_transaction = transaction_features(valid, customers, cfg.features.night_hours).join(
        valid.select(s.TRANSACTION_ID, s.ROW_HASH), s.TRANSACTION_ID
    )  # lineage: the raw row of each feature row (how the next run knows it is not new)
    per_customer = customer_features(per_transaction, cfg.features.windows_days)
    ctx.tables.sync(per_transaction, names.transaction_features, keys=[s.TRANSACTION_ID])
    ctx.tables.sync(per_customer, names.customer_features, keys=[s.CUSTOMER_ID, s.FEATURE_TS])
    return {
        "raw rows": counts["total"],
        "new rows": counts["new"],
        "reject rate (new rows)": f"{rate:.2%}",
        "quarantined": counts["rejected"],
        "transaction features": counts["total"] - counts["rejected"],
        "customer feature rows": ctx.tables.read(names.customer_features).count(),
    }


def accepted_rows(ctx: Context) -> DataFrame:
    """`row_hash` of each raw row an earlier successful run placed (a feature row, or a
    quarantined row that is not held), with the marker `_new` = false."""
    names = ctx.config.tables
    rows = ctx.spark.createDataFrame([], f"{s.ROW_HASH} string")
    if _has(ctx, names.transaction_features, [s.ROW_HASH]):
        rows = rows.unionByName(ctx.tables.read(names.transaction_features).select(s.ROW_HASH))
    if _has(ctx, names.quarantine, [s.ROW_HASH, s.HELD]):
        quarantine = ctx.tables.read(names.quarantine)
        rows = rows.unionByName(quarantine.filter(~F.col(s.HELD)).select(s.ROW_HASH))
    return rows.distinct().withColumn(NEW, F.lit(False))


def _has(ctx: Context, name: str, columns: list[str]) -> bool:
    """The table exists and has `columns` (tables of an older version of the code may not)."""
    return ctx.tables.exists(name) and set(columns) <= set(ctx.tables.read(name).columns)
