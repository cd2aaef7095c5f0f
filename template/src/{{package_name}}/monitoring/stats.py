"""Drift and performance statistics computed from aggregated counts, never from raw rows.

Each function takes histograms (counts per bucket) of a baseline and of a window.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial import distance

EPSILON = 1e-4  # stands in for empty buckets, so that log ratios stay finite


def proportions(counts: list[int] | np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    return counts / total if total else counts


def psi(expected: list[int], actual: list[int]) -> float:
    """Population stability index: sum of (a - e) * ln(a / e) over buckets."""
    e = np.clip(proportions(expected), EPSILON, None)
    a = np.clip(proportions(actual), EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def ks(expected: list[int], actual: list[int]) -> float:
    """Kolmogorov-Smirnov statistic on ordered buckets: the largest gap between the two CDFs."""
    gap = np.cumsum(proportions(expected)) - np.cumsum(proportions(actual))
    return float(np.max(np.abs(gap)))


def js_distance(expected: list[int], actual: list[int]) -> float:
    """Jensen-Shannon distance (base 2): 0 for equal distributions, 1 for disjoint ones."""
    return float(distance.jensenshannon(proportions(expected), proportions(actual), base=2))


def chi2_pvalue(expected: list[int], actual: list[int]) -> float:
    """p-value of a chi-square test that both samples come from one distribution."""
    table = np.array([expected, actual], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


DRIFT_METRICS = {"psi": psi, "ks": ks, "js_distance": js_distance, "chi2_pvalue": chi2_pvalue}


def binned_roc_auc(positives: list[int], negatives: list[int]) -> float | None:
    """ROC AUC from score histograms of positives and negatives (ties within a bucket count 1/2)."""
    pos, neg = np.asarray(positives, float), np.asarray(negatives, float)
    if pos.sum() == 0 or neg.sum() == 0:
        return None
    positives_above = np.cumsum(pos[::-1])[::-1] - pos  # positives in strictly higher buckets
    return float(np.sum(neg * (positives_above + 0.5 * pos)) / (pos.sum() * neg.sum()))


def precision_recall(tp: int, fp: int, fn: int) -> tuple[float | None, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall
