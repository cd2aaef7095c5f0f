"""The data contract on raw transactions: the columns and types it needs, a reason and a
condition for each rule a row can break, and which of two rows with one transaction_id wins.

Every raw row gets a `row_hash` (SHA-256 of its contract columns; an exact repeat of a row gets
its occurrence number hashed in too) so that each raw row is exactly one feature row or one
quarantined row, and a re-run can tell the rows it has already judged from new ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import NumericType, TimestampNTZType, TimestampType

from ..config import ContractConfig
from ..errors import DataContractError
from . import schema as s

DUPLICATE = f"duplicate {s.TRANSACTION_ID} (kept another row)"
# types a column may arrive in and be read as the contract's type without losing meaning
ACCEPTED = {"double": (NumericType,), "timestamp": (TimestampType, TimestampNTZType)}


def conform(raw: DataFrame, columns: dict[str, str], table: str) -> DataFrame:
    """`raw` reduced to the contract's `columns`, cast to their types; a missing column or one of
    the wrong type raises one DataContractError that names each such column and its type."""
    found = {f.name.lower(): f.dataType for f in raw.schema.fields}
    problems = []
    for column, expected in columns.items():
        given = found.get(column.lower())
        if given is None:
            problems.append(f"column '{column}' is missing (expected {expected})")
        elif given.simpleString() != expected and not isinstance(given, ACCEPTED.get(expected, ())):
            problems.append(f"column '{column}' is {given.simpleString()}, expected {expected}")
    if problems:
        raise DataContractError(
            f"raw table '{table}' does not match the data contract: {'; '.join(problems)}. "
            "Fix the feed (or its ingestion); the expected columns are in data/schema.py."
        )
    return raw.select(*[F.col(c).cast(t).alias(c) for c, t in columns.items()])


def _blank(column: str) -> Column:
    return F.col(column).isNull() | F.col(column).rlike(r"^\s*$")


def contract_rules(contract: ContractConfig, now: datetime) -> dict[str, Column]:
    """Reason -> condition that is true when a row breaks the rule (null-safe).

    `now` is the run's time, fixed once per run so that every query of the run judges a row
    the same way.
    """
    amount, ts = F.col(s.AMOUNT), F.col(s.EVENT_TS)
    category, country = F.col(s.MERCHANT_CATEGORY), F.col(s.COUNTRY)
    finite = ~(F.isnan(amount) | amount.isin(float("inf"), float("-inf")))
    latest = F.lit(now + timedelta(minutes=contract.max_future_minutes))
    floor = F.lit(datetime.fromisoformat(contract.min_event_date).replace(tzinfo=UTC))
    return {
        "transaction_id is missing or blank": _blank(s.TRANSACTION_ID),
        "customer_id is missing or blank": _blank(s.CUSTOMER_ID),
        "event_ts is missing": ts.isNull(),
        f"event_ts is more than {contract.max_future_minutes} minutes in the future": ts > latest,
        f"event_ts is before contract.min_event_date ({contract.min_event_date})": ts < floor,
        "amount is missing or not a finite number": amount.isNull() | ~finite,
        "amount is not positive": finite & (amount <= 0),
        "merchant_category is not a known category": category.isNull()
        | ~category.isin(contract.merchant_categories),
        "country is not a two-letter code": country.isNull() | ~country.rlike("^[A-Z]{2}$"),
    }


def judge(raw: DataFrame, contract: ContractConfig, now: datetime) -> DataFrame:
    """Every row of a conformed raw table once, with its `row_hash` and its `reject_reason`
    (empty when the row keeps the contract).

    Duplicates: of the rows with one transaction_id that break no other rule, the one with the
    earliest event_ts wins (on a tie, the one whose contents hash smaller; of exact repeats, the
    first copy); the others are rejected as duplicates. The rule needs no order of arrival, so
    every run picks the same winner.
    """
    content = F.sha2(F.to_json(F.struct(*[F.col(c) for c in raw.columns])), 256)
    copies = Window.partitionBy("_content").orderBy("_content")  # identical rows: any order
    hashed = (
        raw.withColumn("_content", content)
        .withColumn("_copy", F.row_number().over(copies))
        .withColumn(
            s.ROW_HASH,
            F.when(F.col("_copy") == 1, F.col("_content")).otherwise(
                F.sha2(F.concat_ws("#", "_content", "_copy"), 256)
            ),
        )
    )
    reasons = [F.when(broken, F.lit(r)) for r, broken in contract_rules(contract, now).items()]
    flagged = hashed.withColumn(s.REJECT_REASON, F.concat_ws("; ", *reasons))
    clean = F.col(s.REJECT_REASON) == ""
    rivals = Window.partitionBy(s.TRANSACTION_ID, clean).orderBy(s.EVENT_TS, "_content", "_copy")
    loser = clean & (F.row_number().over(rivals) > 1)
    return flagged.withColumn(
        s.REJECT_REASON, F.when(loser, F.lit(DUPLICATE)).otherwise(F.col(s.REJECT_REASON))
    ).drop("_content", "_copy")


def split_by_contract(
    raw: DataFrame, contract: ContractConfig, now: datetime
) -> tuple[DataFrame, DataFrame]:
    """(rows that keep the contract, with their `row_hash`; rows that break it, with a
    `reject_reason` and a `row_hash`)."""
    judged = judge(raw, contract, now)
    valid = judged.filter(F.col(s.REJECT_REASON) == "").drop(s.REJECT_REASON)
    return valid, judged.filter(F.col(s.REJECT_REASON) != "")


def reject_rate(total: int, rejected: int) -> float:
    return rejected / total if total else 0.0
