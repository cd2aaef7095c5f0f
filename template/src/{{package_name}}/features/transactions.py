"""Per-transaction features: what is known about a payment at the moment it happens."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..data import schema as s

LOG_AMOUNT = "log_amount"
HOUR = "hour"
IS_NIGHT = "is_night"
IS_FOREIGN = "is_foreign"


def transaction_features(
    transactions: DataFrame, customers: DataFrame, night_hours: list[int]
) -> DataFrame:
    """One row per transaction, keyed by (transaction_id, event_ts)."""
    home = customers.select(s.CUSTOMER_ID, s.HOME_COUNTRY)
    hour = F.hour(s.EVENT_TS)
    return transactions.join(home, s.CUSTOMER_ID, "left").select(
        s.TRANSACTION_ID,
        s.CUSTOMER_ID,
        s.EVENT_TS,
        s.AMOUNT,
        F.log1p(s.AMOUNT).alias(LOG_AMOUNT),
        hour.alias(HOUR),
        hour.isin(night_hours).cast("int").alias(IS_NIGHT),
        # unknown home country: treated as domestic rather than guessed
        F.coalesce(F.col(s.COUNTRY) != F.col(s.HOME_COUNTRY), F.lit(False))
        .cast("int")
        .alias(IS_FOREIGN),
        s.MERCHANT_CATEGORY,
    )
