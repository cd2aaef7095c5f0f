"""Histograms of features, predictions and labels: a baseline from pandas (at training time)
and a window from Spark (at monitoring time), over the same buckets.

Numeric buckets: (-inf, e1), [e1, e2), ..., [ek, inf) with edges from baseline quantiles, then
one bucket for missing values. Categorical buckets: each baseline category, "other", missing.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ..inference.scoring import PROBABILITY as PREDICTION

BASELINE_ARTIFACT = "monitoring/baseline.json"  # in the training run of each model version


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

    Only counts come back to the driver; rows never leave the executors.
    """
    columns: list[Column] = [F.count(F.lit(1)).alias("rows")]
    for name, spec in baseline["features"].items():
        buckets = (
            _numeric_buckets(F.col(name), spec["edges"])
            if spec["kind"] == "numeric"
            else _categorical_buckets(F.col(name), spec["categories"])
        )
        columns += [_count(condition).alias(f"{name}#{i}") for i, condition in enumerate(buckets)]
    label = F.col(target)
    score = F.col(PREDICTION)
    bucket = F.least(F.floor(score * score_bins), F.lit(score_bins - 1))
    columns += [_count(label == 0).alias("label#0"), _count(label == 1).alias("label#1")]
    for i in range(score_bins):
        columns.append(_count((label == 1) & (bucket == i)).alias(f"pos#{i}"))
        columns.append(_count((label == 0) & (bucket == i)).alias(f"neg#{i}"))
    flagged = score >= threshold
    columns += [
        _count(flagged & (label == 1)).alias("tp"),
        _count(flagged & (label == 0)).alias("fp"),
        _count(~flagged & (label == 1)).alias("fn"),
    ]
    row = window.agg(*columns).first().asDict()

    def series(prefix: str, n: int) -> list[int]:
        return [int(row[f"{prefix}#{i}"]) for i in range(n)]

    features = {
        name: {**spec, "counts": series(name, len(spec["counts"]))}
        for name, spec in baseline["features"].items()
    }
    return {
        "rows": int(row["rows"]),
        "features": features,
        "label": {"counts": series("label", 2)},
        "performance": {
            "positives": series("pos", score_bins),
            "negatives": series("neg", score_bins),
            "tp": int(row["tp"]),
            "fp": int(row["fp"]),
            "fn": int(row["fn"]),
        },
    }


def _numeric_buckets(column: Column, edges: list[float]) -> list[Column]:
    present = column.isNotNull() & ~F.isnan(column)
    bounds = [None, *edges, None]
    buckets = []
    for low, high in pairwise(bounds):
        condition = present
        if low is not None:
            condition = condition & (column >= low)
        if high is not None:
            condition = condition & (column < high)
        buckets.append(condition)
    return [*buckets, ~present]


def _categorical_buckets(column: Column, categories: list[str]) -> list[Column]:
    known = [column == c for c in categories]
    return [*known, column.isNotNull() & ~column.isin(categories), column.isNull()]


def _count(condition: Column) -> Column:
    return F.sum(F.when(condition, 1).otherwise(0))
