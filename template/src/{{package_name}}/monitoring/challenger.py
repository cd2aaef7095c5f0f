"""Champion against challenger on the same traffic: the batch shadow's scores of a window
(inference/shadow.py) next to the champion's, transaction by transaction.

Rows of kind `challenger`, status `info`: they describe the challenger and never change the
window's status, which is about the champion that serves. Precision and recall need labels:
until then they are "no data". Computed in one Spark aggregation, so only numbers reach the
driver.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..data import schema as s
from ..inference.scoring import MODEL_VERSION, PREDICTED, PROBABILITY
from .drift import INFO, MetricRow

KIND = "challenger"
# metric -> what it measures (the HTML report's readers see the names)
METRICS = (
    "agreement",  # share of transactions both models decide alike
    "mean_score_delta",  # challenger minus champion, mean P(fraud)
    "flagged_share_delta",  # challenger minus champion, share flagged
    "precision_delta",  # on the labelled rows
    "recall_delta",  # on the labelled rows
)


def challenger_rows(window: DataFrame, shadow: DataFrame, target: str) -> list[MetricRow]:
    """`window`: the champion's predictions of one batch with labels (null until they arrive);
    `shadow`: the challenger's predictions of the same batch. [] when there are none."""
    theirs = shadow.select(
        s.TRANSACTION_ID,
        F.col(PROBABILITY).alias("p2"),
        F.col(PREDICTED).alias("d2"),
        F.col(MODEL_VERSION).alias("challenger"),
    )
    both = window.select(
        s.TRANSACTION_ID,
        F.col(target).alias("y"),
        F.col(PROBABILITY).alias("p1"),
        F.col(PREDICTED).alias("d1"),
    ).join(theirs, s.TRANSACTION_ID)
    labelled = F.col("y").isNotNull()
    stats = both.agg(
        F.count("*").alias("rows"),
        F.max("challenger").alias("challenger"),
        F.avg((F.col("d1") == F.col("d2")).cast("double")).alias("agreement"),
        (F.avg("p2") - F.avg("p1")).alias("mean_score_delta"),
        (F.avg("d2") - F.avg("d1")).alias("flagged_share_delta"),
        *[F.sum(F.when(labelled, F.col(d) * F.col("y"))).alias(f"hits_{d}") for d in ("d1", "d2")],
        *[F.sum(F.when(labelled, F.col(d))).alias(f"flagged_{d}") for d in ("d1", "d2")],
        F.sum(F.when(labelled, F.col("y"))).alias("frauds"),
    ).first()
    if not stats["rows"]:
        return []
    values = {
        "agreement": stats["agreement"],
        "mean_score_delta": stats["mean_score_delta"],
        "flagged_share_delta": stats["flagged_share_delta"],
        "precision_delta": _delta(stats, "flagged"),
        "recall_delta": _delta(stats, "frauds"),
    }
    feature = f"challenger v{stats['challenger']}"
    nan = float("nan")
    return [MetricRow(feature, KIND, m, _float(values[m]), nan, nan, INFO) for m in METRICS]


def _delta(stats, base: str) -> float | None:
    """Challenger's rate minus the champion's: hits over flagged (precision) or frauds."""
    rates = []
    for d in ("d1", "d2"):
        denominator = stats[f"flagged_{d}"] if base == "flagged" else stats["frauds"]
        if not denominator:
            return None
        rates.append(stats[f"hits_{d}"] / denominator)
    return rates[1] - rates[0]


def _float(value) -> float | None:
    return None if value is None else float(value)
