"""Histograms of features, predictions and labels: a baseline from pandas (at training time)
and a window from Spark (at monitoring time), over the same buckets.

Numeric buckets: (-inf, e1), [e1, e2), ..., [ek, inf) with edges from baseline quantiles, then
one bucket for missing values. Categorical buckets: each baseline category, "other", missing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ..inference.scoring import PROBABILITY as PREDICTION

BASELINE_ARTIFACT = "monitoring/baseline.json"  # in the training run of each model version
OUTCOME = "outcome"  # label, flagged and score bucket of each labelled row, as one histogram
JOINT_LIMIT = 4096  # joint buckets per packed key: keeps the group-by's hash map small


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

    Every histogram gets one bucket index per row, missing values included. Histograms are
    packed in small groups: a row yields one integer key per group (the joint bucket of its
    histograms, at most JOINT_LIMIT values), and a single explode + group-by counts the keys;
    packing cuts the rows that group-by sees about 3x (docs/benchmarks.md). Only the joint
    counts (a few thousand numbers at most) reach the driver, which sums them into histograms.
    """
    specs = baseline["features"]
    histograms = bucket_columns(baseline)
    sizes = {name: len(spec["counts"]) for name, spec in specs.items()}
    histograms[OUTCOME], sizes[OUTCOME] = _outcome_bucket(target, score_bins, threshold)

    groups = _pack(sizes)
    keys = []
    for index, group in enumerate(groups):
        joint = F.lit(0)
        for name in group:  # row-major, like numpy's reshape below
            joint = joint * sizes[name] + histograms[name]
        keys.append(joint * len(groups) + index)
    counted = window.select(F.explode(F.array(*keys)).alias("key")).groupBy("key").count()

    joints = [np.zeros(math.prod(sizes[n] for n in group), dtype=np.int64) for group in groups]
    for key, count in counted.collect():
        joints[key % len(groups)][key // len(groups)] = count
    counts: dict[str, np.ndarray] = {}
    for group, joint in zip(groups, joints, strict=True):
        cube = joint.reshape([sizes[name] for name in group])
        for axis, name in enumerate(group):
            counts[name] = cube.sum(axis=tuple(a for a in range(cube.ndim) if a != axis))

    # outcome cube: label x flagged x score bucket, for labelled rows (the last slot: unlabelled)
    outcome = counts[OUTCOME][:-1].reshape(2, 2, score_bins)
    return {
        "rows": int(joints[0].sum()),  # every row has one key in each group
        "features": {
            name: {**spec, "counts": counts[name].tolist()} for name, spec in specs.items()
        },
        "label": {"counts": outcome.sum(axis=(1, 2)).tolist()},
        "performance": {
            "positives": outcome[1].sum(axis=0).tolist(),
            "negatives": outcome[0].sum(axis=0).tolist(),
            "tp": int(outcome[1, 1].sum()),
            "fp": int(outcome[0, 1].sum()),
            "fn": int(outcome[1, 0].sum()),
        },
    }


def bucket_columns(baseline: dict[str, Any]) -> dict[str, Column]:
    """Each baseline feature's bucket index as a Spark column, missing values included."""
    return {
        name: _numeric_bucket(F.col(name), spec["edges"])
        if spec["kind"] == "numeric"
        else _categorical_bucket(F.col(name), spec["categories"])
        for name, spec in baseline["features"].items()
    }


def _pack(sizes: dict[str, int]) -> list[list[str]]:
    """Consecutive histograms grouped while their joint bucket count stays within JOINT_LIMIT."""
    groups: list[list[str]] = [[]]
    for name, size in sizes.items():
        if groups[-1] and math.prod(sizes[n] for n in groups[-1]) * size > JOINT_LIMIT:
            groups.append([])
        groups[-1].append(name)
    return groups


def _outcome_bucket(target: str, score_bins: int, threshold: float) -> tuple[Column, int]:
    """(label, flagged, score bucket) of a labelled row as one index; unlabelled rows last."""
    label, score = F.col(target), F.col(PREDICTION)
    score_bucket = F.least(F.greatest(F.floor(score * score_bins), F.lit(0)), F.lit(score_bins - 1))
    flagged = (score >= threshold).cast("int")
    # a label other than 0/1 would land in another histogram's buckets: count it as unlabelled
    labelled = F.when(label.isin(0, 1), (label * 2 + flagged) * score_bins + score_bucket)
    unlabelled = 4 * score_bins
    return F.coalesce(labelled.cast("int"), F.lit(unlabelled)), unlabelled + 1


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
