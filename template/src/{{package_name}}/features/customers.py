"""Windowed customer aggregates: for each payment, what the customer did in the N days before it.

One row per customer and payment time (`feature_ts`). A row describes the window that ends at
that moment: the customer's payments from exactly N days earlier up to, not including, the
payment itself. A gap in activity therefore empties the window (count 0, no average) instead of
repeating the last busy day's figures, and nothing from the payment or after it leaks in.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from ..data import schema as s
from .transactions import IS_FOREIGN

MICROS_PER_DAY = 86_400 * 1_000_000


def customer_features(transaction_features: DataFrame, windows_days: list[int]) -> DataFrame:
    """Keyed by (customer_id, feature_ts); per window: count, average, maximum, foreign share."""
    at = F.unix_micros(F.col(s.EVENT_TS))
    columns = [s.CUSTOMER_ID, F.col(s.EVENT_TS).alias(s.FEATURE_TS)]
    for days in windows_days:
        # [t - N days, t): the frame ends 1 µs before the payment, so it never counts itself
        before = (
            Window.partitionBy(s.CUSTOMER_ID).orderBy(at).rangeBetween(-days * MICROS_PER_DAY, -1)
        )
        columns += [
            F.count(s.AMOUNT).over(before).alias(f"txn_count_{days}d"),
            F.avg(s.AMOUNT).over(before).alias(f"avg_amount_{days}d"),
            F.max(s.AMOUNT).over(before).alias(f"max_amount_{days}d"),
            F.avg(IS_FOREIGN).over(before).alias(f"foreign_share_{days}d"),
        ]
    # payments of one customer at the same instant see the same window: one row for them
    return transaction_features.select(*columns).dropDuplicates([s.CUSTOMER_ID, s.FEATURE_TS])
