"""Windowed customer aggregates, one snapshot per customer and active day.

A snapshot summarises the trailing N days up to the end of a day, so it is only known from the
next midnight on: that is its `feature_ts`.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from ..data import schema as s
from .transactions import IS_FOREIGN


def customer_feature_names(windows_days: list[int]) -> list[str]:
    names = []
    for days in windows_days:
        names += [f"txn_count_{days}d", f"avg_amount_{days}d", f"max_amount_{days}d"]
        names += [f"foreign_share_{days}d"]
    return names


def customer_features(transaction_features: DataFrame, windows_days: list[int]) -> DataFrame:
    """Keyed by (customer_id, feature_ts); trailing windows in whole days."""
    daily = (
        transaction_features.groupBy(s.CUSTOMER_ID, F.to_date(s.EVENT_TS).alias("day"))
        .agg(
            F.count("*").alias("n"),
            F.sum(s.AMOUNT).alias("total"),
            F.max(s.AMOUNT).alias("largest"),
            F.sum(IS_FOREIGN).alias("foreign"),
        )
        .withColumn("day_number", F.unix_date("day"))
    )
    columns = [s.CUSTOMER_ID, F.to_timestamp(F.date_add("day", 1)).alias(s.FEATURE_TS)]
    for days in windows_days:
        window = (
            Window.partitionBy(s.CUSTOMER_ID).orderBy("day_number").rangeBetween(-(days - 1), 0)
        )
        count = F.sum("n").over(window)
        columns += [
            count.alias(f"txn_count_{days}d"),
            (F.sum("total").over(window) / count).alias(f"avg_amount_{days}d"),
            F.max("largest").over(window).alias(f"max_amount_{days}d"),
            (F.sum("foreign").over(window) / count).alias(f"foreign_share_{days}d"),
        ]
    return daily.select(*columns)
