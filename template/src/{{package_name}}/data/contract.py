"""The data contract on raw transactions: each rule is a reason and the condition that breaks it."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ..config import ContractConfig
from . import schema as s


def contract_rules(contract: ContractConfig) -> dict[str, Column]:
    """Reason -> condition that is true when a row breaks the rule (null-safe)."""
    amount = F.col(s.AMOUNT)
    category = F.col(s.MERCHANT_CATEGORY)
    country = F.col(s.COUNTRY)
    return {
        "transaction_id is missing": F.col(s.TRANSACTION_ID).isNull(),
        "customer_id is missing": F.col(s.CUSTOMER_ID).isNull(),
        "event_ts is missing": F.col(s.EVENT_TS).isNull(),
        "amount is missing or not positive": amount.isNull() | F.isnan(amount) | (amount <= 0),
        "merchant_category is not a known category": category.isNull()
        | ~category.isin(contract.merchant_categories),
        "country is not a two-letter code": country.isNull() | ~country.rlike("^[A-Z]{2}$"),
    }


def split_by_contract(raw: DataFrame, contract: ContractConfig) -> tuple[DataFrame, DataFrame]:
    """(rows that keep the contract, rows that break it with a `reject_reason` and a `row_hash`)."""
    reasons = [F.when(broken, F.lit(reason)) for reason, broken in contract_rules(contract).items()]
    flagged = raw.withColumn(s.REJECT_REASON, F.concat_ws("; ", *reasons))
    valid = flagged.filter(F.col(s.REJECT_REASON) == "").drop(s.REJECT_REASON)
    rejected = flagged.filter(F.col(s.REJECT_REASON) != "").withColumn(
        s.ROW_HASH, F.sha2(F.to_json(F.struct(*[F.col(c) for c in raw.columns])), 256)
    )
    return valid, rejected


def reject_rate(total: int, rejected: int) -> float:
    return rejected / total if total else 0.0
