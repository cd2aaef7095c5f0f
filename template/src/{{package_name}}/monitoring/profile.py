"""Histograms of features, predictions and labels: a baseline from pandas (at training time)
and a window from Spark (at monitoring time), over the same buckets.

Numeric buckets: (-inf, e1), [e1, e2), ..., [ek, inf) with edges from baseline quantiles, then
one bucket for missing values. Categorical buckets: each baseline category, "other", missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ..inference.scoring import PROBABILITY as PREDICTION

BASELINE_ARTIFACT = "monitoring/baseline.json"  # in the training run of each model version
KEY_SPACE = 1 << 16  # buckets per histogram, at most


def numeric_edges(values: pd.Series, bins: int) -> list[float]:
    """Quantile edges; for a feature with few distinct values (flags, counts), one per value."""
    distinct = np.unique(values.dropna().to_numpy(dtype=float))
    if distinct.size <= bins:
        return [float(edge) for edge in (distinct[:-1] + distinct[1:]) / 2]
    quantiles = np.quantile(values.dropna().to_numpy(dtype=float), np.arange(1, bins) / bins)
    return sorted({float(q) for q in quantiles})


def numeric_counts(values: pd.Series, edges: list[float]) -> list[int]:
    numbers = values.to_numpy(dtype=float)
    missing = np.isnan(numbers)
    buckets = np.searchsorted(np.asarray(edges), numbers[~missing], side="right")
    counts = np.bincount(buckets, minlength=len(edges) + 1).tolist()
    return [*counts, int(missing.sum())]


def categorical_counts(values: pd.Series, categories: list[str]) -> list[int]:
    missing = values.isna()
    known = values[~missing]
    counts = [int((known == c).sum()) for c in categories]
    return [*counts, int((~known.isin(categories)).sum()), int(missing.sum())]


def score_buckets(scores: np.ndarray, labels: np.ndarray, n: int) -> tuple[list[int], list[int]]:
    """Histograms of scores over n equal buckets of [0, 1], for positives and for negatives."""
    index = np.clip((np.asarray(scores) * n).astype(int), 0, n - 1)
    labels = np.asarray(labels)
    positives = np.bincount(index[labels == 1], minlength=n).tolist()
    negatives = np.bincount(index[labels == 0], minlength=n).tolist()
    return positives, negatives


def baseline_profile(
    frame: pd.DataFrame,
    scores: np.ndarray,
    numeric: list[str],
    categorical: list[str],
    target: str,
    bins: int,
    score_bins: int,
    threshold: float,
) -> dict[str, Any]:
    """The reference distribution the monitor compares windows with (JSON-serialisable)."""
    features = {}
    for name in numeric:
        edges = numeric_edges(frame[name], bins)
        features[name] = {
            "kind": "numeric",
            "edges": edges,
            "counts": numeric_counts(frame[name], edges),
        }
    for name in categorical:
        categories = sorted(frame[name].dropna().unique().tolist())
        features[name] = {
            "kind": "categorical",
            "categories": categories,
            "counts": categorical_counts(frame[name], categories),
        }
    prediction_edges = numeric_edges(pd.Series(scores), bins)
    features[PREDICTION] = {
        "kind": "numeric",
        "edges": prediction_edges,
        "counts": numeric_counts(pd.Series(scores), prediction_edges),
    }
    labels = frame[target].to_numpy()
    positives, negatives = score_buckets(scores, labels, score_bins)
    flagged = scores >= threshold
    return {
        "rows": len(frame),
        "features": features,
        "label": {"counts": [int((labels == 0).sum()), int((labels == 1).sum())]},
        "performance": {
            "positives": positives,
            "negatives": negatives,
            "tp": int((flagged & (labels == 1)).sum()),
            "fp": int((flagged & (labels == 0)).sum()),
            "fn": int((~flagged & (labels == 1)).sum()),
        },
    }


def window_aggregates(
    window: DataFrame, baseline: dict[str, Any], target: str, score_bins: int, threshold: float
) -> dict[str, Any]:
    """The window's histograms over the baseline's buckets, in ONE Spark aggregation pass.

    Each row yields one integer key per histogram, `histogram * KEY_SPACE + bucket`; a single
    group-by counts them all. Only those counts (a few hundred numbers) reach the driver.
    """
    specs = baseline["features"]
    label, score = F.col(target), F.col(PREDICTION)
    score_bucket = F.least(F.floor(score * score_bins), F.lit(score_bins - 1)).cast("int")
    flagged = (score >= threshold).cast("int")
    buckets = {
        name: _numeric_bucket(F.col(name), spec["edges"])
        if spec["kind"] == "numeric"
        else _categorical_bucket(F.col(name), spec["categories"])
        for name, spec in specs.items()
    }
    buckets |= {
        "label": F.when(label.isNotNull(), label),
        "positives": F.when(label == 1, score_bucket),
        "negatives": F.when(label == 0, score_bucket),
        # confusion cells: 2 * flagged + label -> 0 TN, 1 FN, 2 FP, 3 TP
        "confusion": F.when(label.isNotNull(), flagged * 2 + label),
    }
    names = list(buckets)
    keys = [F.lit(i * KEY_SPACE) + bucket.cast("int") for i, bucket in enumerate(buckets.values())]
    counted = (
        window.select(F.explode(F.array(*keys)).alias("key"))
        .where(F.col("key").isNotNull())
        .groupBy("key")
        .count()
        .collect()
    )
    histograms = {name: {} for name in names}
    for row in counted:
        histograms[names[row["key"] // KEY_SPACE]][row["key"] % KEY_SPACE] = int(row["count"])

    def series(name: str, n: int) -> list[int]:
        return [histograms[name].get(i, 0) for i in range(n)]

    confusion = series("confusion", 4)
    first = next(iter(specs))
    return {
        "rows": sum(histograms[first].values()),  # every row falls in one bucket of each feature
        "features": {
            name: {**spec, "counts": series(name, len(spec["counts"]))}
            for name, spec in specs.items()
        },
        "label": {"counts": series("label", 2)},
        "performance": {
            "positives": series("positives", score_bins),
            "negatives": series("negatives", score_bins),
            "tp": confusion[3],
            "fp": confusion[2],
            "fn": confusion[1],
        },
    }


def _numeric_bucket(column: Column, edges: list[float]) -> Column:
    """Index of the bucket of `column`: 0 .. len(edges), then len(edges) + 1 for missing."""
    bucket = F.when(column.isNull() | F.isnan(column), len(edges) + 1)
    for index, edge in enumerate(edges):
        bucket = bucket.when(column < edge, index)
    return bucket.otherwise(len(edges))


def _categorical_bucket(column: Column, categories: list[str]) -> Column:
    """Index of the category, then len(categories) for "other" and len + 1 for missing."""
    bucket = F.when(column.isNull(), len(categories) + 1)
    for index, category in enumerate(categories):
        bucket = bucket.when(column == category, index)
    return bucket.otherwise(len(categories))
