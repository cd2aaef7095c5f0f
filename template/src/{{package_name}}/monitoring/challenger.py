"""Champion against challenger on the same traffic, from two sources:

- the batch shadow (inference/shadow.py): the challenger's scores of the window's transactions
  next to the champion's;
- the inference log of `serve` (inference/request_log.py), per live strategy: under shadow both
  models scored every request; under canary each customer met one model, so the two arms are
  different requests of the same traffic and only their rates compare (no agreement).

Rows of kind `challenger`, status `info`: they describe the challenger and never change the
window's status, which is about the champion that serves. Precision and recall need labels:
until then they are "no data". Each comparison is one Spark aggregation (rates and score
histograms per arm) plus one join (agreement), so only numbers reach the driver.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..data import schema as s
from ..inference.scoring import MODEL_VERSION, PREDICTED, PROBABILITY
from ..registry import CHALLENGER, CHAMPION
from .drift import INFO, MetricRow
from .stats import ks, psi

KIND = "challenger"
# metric -> what it measures (the HTML report's readers see the names)
METRICS = (
    "scored_rows",  # rows the challenger scored in this comparison
    "agreement",  # share of the rows both models scored that they decide alike
    "mean_score_delta",  # challenger minus champion, mean P(fraud)
    "score_psi",  # how far apart the two score distributions are (deciles of P(fraud))
    "score_ks",  # largest gap between the two scores' cumulative distributions
    "flagged_share_delta",  # challenger minus champion, share flagged
    "precision_delta",  # on the labelled rows
    "recall_delta",  # on the labelled rows
)
KEY, SCORE, DECISION, LABEL, ARM = "key", "p", "d", "y", "arm"
SCORE_BINS = 10  # P(fraud) in tenths: each model's score distribution as a histogram


def challenger_rows(window: DataFrame, shadow: DataFrame, target: str) -> list[MetricRow]:
    """The batch shadow. `window`: the champion's predictions of one batch with labels (null
    until they arrive); `shadow`: the challenger's predictions of the same batch. [] when there
    are none."""
    shadow = shadow.join(window.select(s.TRANSACTION_ID, target), s.TRANSACTION_ID)
    frames = [
        frame.select(
            F.col(s.TRANSACTION_ID).alias(KEY),
            F.col(PROBABILITY).alias(SCORE),
            F.col(PREDICTED).cast("double").alias(DECISION),
            F.col(target).cast("double").alias(LABEL),
        )
        for frame in (window, shadow)
    ]
    version = shadow.agg(F.max(MODEL_VERSION)).first()[0]
    return [] if version is None else compared(*frames, f"batch shadow/challenger v{version}")


def online_rows(
    log: DataFrame, labels: DataFrame, target: str, champion: str, threshold: float, days: int
) -> list[MetricRow]:
    """The inference log of the last `days` days, per strategy under which a challenger scored
    requests beside `champion` (a version). `labels`: transaction_id and `target`, joined to the
    rows whose request carried a transaction_id."""
    since = datetime.now(UTC) - timedelta(days=days)
    scored = (
        log.filter(F.col("logged_at") >= F.lit(since))
        .select(
            "request_id",
            "strategy",
            "role",
            MODEL_VERSION,
            "transaction_ids",
            F.posexplode("scores").alias("position", SCORE),
        )
        .select(
            F.concat_ws("/", "request_id", "position").alias(KEY),
            "strategy",
            "role",
            MODEL_VERSION,
            SCORE,
            (F.col(SCORE) >= threshold).cast("double").alias(DECISION),
            F.try_element_at("transaction_ids", F.col("position") + 1).alias(s.TRANSACTION_ID),
        )
        .join(labels, s.TRANSACTION_ID, "left")
        .withColumn(LABEL, F.col(target).cast("double"))
    )
    challengers = (
        scored.filter(F.col("role") == CHALLENGER)
        .select("strategy", MODEL_VERSION)
        .distinct()
        .collect()  # the strategies and challengers of a few days: a handful of rows
    )
    rows = []
    for strategy, version in sorted((r.strategy, r[MODEL_VERSION]) for r in challengers):
        live = scored.filter(F.col("strategy") == strategy)
        arms = [
            live.filter((F.col("role") == role) & (F.col(MODEL_VERSION) == v))
            for role, v in ((CHAMPION, champion), (CHALLENGER, version))
        ]
        rows += compared(*arms, f"online {strategy}/challenger v{version}")
    return rows


def compared(champion: DataFrame, challenger: DataFrame, feature: str) -> list[MetricRow]:
    """Rates of each arm (columns KEY, SCORE, DECISION, LABEL) and, on the keys both scored,
    their agreement. [] when the challenger scored nothing."""
    labelled = F.col(LABEL).isNotNull()
    tenth = F.least(F.floor(F.col(SCORE) * SCORE_BINS), F.lit(SCORE_BINS - 1))
    arms = champion.withColumn(ARM, F.lit(0)).unionByName(challenger.withColumn(ARM, F.lit(1)))
    per_arm = {
        r[ARM]: r
        for r in arms.groupBy(ARM)
        .agg(
            F.count("*").alias("rows"),
            F.avg(SCORE).alias("score"),
            F.avg(DECISION).alias("flagged"),
            F.sum(F.when(labelled, F.col(DECISION) * F.col(LABEL))).alias("hits"),
            F.sum(F.when(labelled, F.col(DECISION))).alias("flagged_labelled"),
            F.sum(F.when(labelled, F.col(LABEL))).alias("frauds"),
            *[F.count(F.when(tenth == b, True)).alias(f"tenth_{b}") for b in range(SCORE_BINS)],
        )
        .collect()  # two rows
    }
    if 1 not in per_arm:
        return []
    mine, theirs = per_arm.get(0), per_arm[1]
    both = champion.select(KEY, F.col(DECISION).alias("d1")).join(
        challenger.select(KEY, F.col(DECISION).alias("d2")), KEY
    )
    # no champion arm (canary traffic all met the challenger): nothing to compare against
    tenths = None if mine is None else (_tenths(mine), _tenths(theirs))
    values = {
        "scored_rows": float(theirs["rows"]),
        "agreement": both.agg(F.avg((F.col("d1") == F.col("d2")).cast("double"))).first()[0],
        "mean_score_delta": _delta(mine, theirs, "score"),
        "score_psi": None if tenths is None else psi(*tenths),
        "score_ks": None if tenths is None else ks(*tenths),
        "flagged_share_delta": _delta(mine, theirs, "flagged"),
        "precision_delta": _rate_delta(mine, theirs, "flagged_labelled"),
        "recall_delta": _rate_delta(mine, theirs, "frauds"),
    }
    nan = float("nan")
    return [MetricRow(feature, KIND, m, _float(values[m]), nan, nan, INFO) for m in METRICS]


def _tenths(arm) -> list[int]:
    """An arm's rows per tenth of P(fraud): its score distribution."""
    return [arm[f"tenth_{b}"] for b in range(SCORE_BINS)]


def _delta(mine, theirs, column: str) -> float | None:
    if mine is None or mine[column] is None or theirs[column] is None:
        return None
    return theirs[column] - mine[column]


def _rate_delta(mine, theirs, denominator: str) -> float | None:
    """Challenger's hits over `denominator` (flagged: precision; frauds: recall) minus the
    champion's; None until both arms have labelled rows to divide by."""
    rates = [None if arm is None or not arm[denominator] else arm["hits"] / arm[denominator]
             for arm in (mine, theirs)]  # fmt: skip
    return None if None in rates else rates[1] - rates[0]


def _float(value) -> float | None:
    return None if value is None else float(value)
