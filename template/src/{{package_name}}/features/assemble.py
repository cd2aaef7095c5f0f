"""Model inputs for a set of transactions: point-in-time customer features plus derived ratios.

Training and batch inference both call `model_inputs`, so a model always sees features built
the same way.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from ..data import schema as s

AMOUNT_TO_AVG_RATIO = "amount_to_avg_ratio"


def point_in_time_join(
    events: DataFrame, snapshots: DataFrame, key: str, event_ts: str, snapshot_ts: str
) -> DataFrame:
    """Each event gets the latest snapshot of its key with `snapshot_ts <= event_ts`, or nulls.

    An as-of join in one sorted pass: events and snapshots are unioned per key, and each event
    takes the last snapshot seen before it. No value from after the event can leak in.
    """
    values = [c for c in snapshots.columns if c != key]
    tagged_snapshots = snapshots.select(
        key,
        F.col(snapshot_ts).alias("_ts"),
        F.lit(0).alias("_is_event"),
        F.struct(*values).alias("_snapshot"),
    )
    tagged_events = events.withColumn("_ts", F.col(event_ts)).withColumn("_is_event", F.lit(1))
    as_of = (
        Window.partitionBy(key)
        .orderBy("_ts", "_is_event")
        .rowsBetween(Window.unboundedPreceding, 0)
    )
    combined = tagged_events.unionByName(tagged_snapshots, allowMissingColumns=True)
    return (
        combined.withColumn("_snapshot", F.last("_snapshot", ignorenulls=True).over(as_of))
        .filter(F.col("_is_event") == 1)
        .select(*events.columns, *[F.col(f"_snapshot.{c}").alias(c) for c in values])
    )


def model_inputs(
    transaction_features: DataFrame, customer_features: DataFrame, windows_days: list[int]
) -> DataFrame:
    """Transaction features + the customer's latest snapshot + the amount/average ratio."""
    joined = point_in_time_join(
        transaction_features, customer_features, s.CUSTOMER_ID, s.EVENT_TS, s.FEATURE_TS
    )
    longest = max(windows_days)
    return joined.withColumn(AMOUNT_TO_AVG_RATIO, F.col(s.AMOUNT) / F.col(f"avg_amount_{longest}d"))
