"""The customer attributes of transactions, for fairness checks (never model features).

They come from the raw customer table through each transaction's customer: the feature tables
do not carry them, so no model can pick them up by accident.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..runtime import Context
from . import schema as s
from .contract import conform


def present_attributes(ctx: Context, attributes: list[str]) -> tuple[list[str], list[str]]:
    """(present, missing): the attributes the raw customer table has a column for, and the
    others (a feed without them, or local raw data generated before a template update added
    them). What is missing is reported as not measured, never guessed."""
    columns = {c.lower() for c in ctx.tables.read(ctx.config.tables.raw_customers).columns}
    present = [a for a in attributes if a.lower() in columns]
    return present, [a for a in attributes if a not in present]


def missing_attribute(ctx: Context, attribute: str) -> str:
    """Why an attribute was not measured, and the fix."""
    table = ctx.tables.full_name(ctx.config.tables.raw_customers)
    return (
        f"not measured: '{table}' has no column '{attribute}'. Add it to the customer feed or "
        "remove it from fairness.attributes (locally, `run data` regenerates the raw tables "
        "with it)"
    )


def transaction_attributes(ctx: Context, attributes: list[str]) -> DataFrame:
    """`transaction_id` and the named customer attributes of every featured transaction.

    A customer listed twice gets one value per attribute (the smallest, so always the same);
    a transaction of an unknown customer gets nulls (its own group, "missing")."""
    names = ctx.config.tables
    wanted = {s.CUSTOMER_ID: "string", **dict.fromkeys(attributes, "string")}
    customers = conform(ctx.tables.read(names.raw_customers), wanted, names.raw_customers)
    customers = customers.groupBy(s.CUSTOMER_ID).agg(*[F.min(a).alias(a) for a in attributes])
    transactions = ctx.tables.read(names.transaction_features).select(
        s.TRANSACTION_ID, s.CUSTOMER_ID, s.EVENT_TS
    )
    return transactions.join(customers, s.CUSTOMER_ID, "left").drop(s.CUSTOMER_ID)
