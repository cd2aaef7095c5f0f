"""The fairness gate: per-group error rates of a model, and the largest gap between groups.

fairlearn's `MetricFrame` computes each metric per group of a customer attribute (age band,
region, ...). A metric's gap is its best group against its worst; the check fails when the gap
is above `fairness.max_gap`, naming the worst-off group. Groups with fewer rows than
`fairness.min_group_size` behind a metric (e.g. 6 frauds for a recall) are left out of that
metric: their rate is noise, and a gate must not flip on noise.

The same function serves `validate` (one row per held-out transaction) and `monitor` (one row
per group, label and decision, weighted by its count: no raw rows reach the driver).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)

from ..config import FairnessConfig
from .checks import CheckResult


@dataclass(frozen=True)
class Metric:
    function: Callable[..., float]  # (y_true, y_pred, sample_weight=...) -> rate
    base: str  # the rows behind the rate: "negatives", "positives" or "rows"
    higher_is_worse: bool  # for the group: more false alarms, more missed fraud, more flagged


METRICS = {
    "false_positive_rate": Metric(false_positive_rate, "negatives", True),
    "false_negative_rate": Metric(false_negative_rate, "positives", True),
    "recall": Metric(true_positive_rate, "positives", False),
    "selection_rate": Metric(selection_rate, "rows", True),
}


@dataclass(frozen=True)
class GroupGap:
    attribute: str
    metric: str
    by_group: dict[str, float]  # the groups large enough to compare
    left_out: tuple[str, ...]  # groups with fewer than min_group_size rows behind the metric

    @property
    def gap(self) -> float | None:
        return max(self.by_group.values()) - min(self.by_group.values()) if self.by_group else None

    @property
    def worst(self) -> str | None:
        return self._end(worse=True)

    @property
    def best(self) -> str | None:
        return self._end(worse=False)

    def _end(self, worse: bool) -> str | None:
        """The group at the worse (or better) end of the metric."""
        if not self.by_group:
            return None
        pick = max if METRICS[self.metric].higher_is_worse == worse else min
        return pick(self.by_group, key=self.by_group.get)


def group_gaps(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: pd.DataFrame,
    metrics: list[str],
    min_group_size: int,
    weights: np.ndarray | None = None,
) -> list[GroupGap]:
    """Per attribute (a column of `groups`) and metric: the metric of each group large enough.

    `y_pred` holds decisions (0/1); `weights` counts rows (default: 1 each)."""
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    weights = np.ones(len(y_true)) if weights is None else np.asarray(weights, dtype=float)
    bases = {"rows": np.ones_like(y_true, bool), "positives": y_true == 1, "negatives": y_true == 0}
    gaps = []
    for attribute in groups.columns:
        group = groups[attribute].fillna("missing").astype(str).to_numpy()
        for name in metrics:
            metric = METRICS[name]
            base = bases[metric.base]
            size = pd.Series(weights * base).groupby(group).sum()
            enough = size[size >= min_group_size].index
            keep = np.isin(group, enough)
            by_group: dict[str, float] = {}
            if keep.any():
                frame = MetricFrame(
                    metrics={name: metric.function},
                    y_true=y_true[keep],
                    y_pred=y_pred[keep],
                    sensitive_features=pd.Series(group[keep], name=attribute),
                    sample_params={name: {"sample_weight": weights[keep]}},
                )
                by_group = {str(k): float(v) for k, v in frame.by_group[name].items()}
            left_out = tuple(sorted(str(g) for g in size.index if g not in set(enough)))
            gaps.append(GroupGap(attribute, name, by_group, left_out))
    return gaps


def fairness_checks(gaps: list[GroupGap], rules: FairnessConfig) -> list[CheckResult]:
    """One check per attribute and metric: passed when the gap is within its limit."""
    return [_check(gap, rules) for gap in gaps]


def _check(gap: GroupGap, rules: FairnessConfig) -> CheckResult:
    name, limit = f"fairness.{gap.attribute}.{gap.metric}", rules.max_gap[gap.metric]
    key = f"fairness.max_gap.{gap.metric}"
    if len(gap.by_group) < 2:
        return CheckResult(
            name,
            True,
            f"not measured: fewer than 2 groups of {gap.attribute} with "
            f"{rules.min_group_size} {METRICS[gap.metric].base} (fairness.min_group_size)",
            None,
            limit,
        )
    worst, best, value = gap.worst, gap.best, gap.gap
    rates = (
        f"{gap.by_group[worst]:.3f} for {gap.attribute}={worst} against {gap.by_group[best]:.3f}"
    )
    rates += f" for {gap.attribute}={best}"
    skipped = f"; too small to compare: {', '.join(gap.left_out)}" if gap.left_out else ""
    if value > limit:
        return CheckResult(
            name,
            False,
            f"{gap.metric} gap {value:.3f} above {key}={limit:g}: {rates} "
            f"(group {gap.attribute}={worst} is worse off){skipped}",
            value,
            limit,
        )
    return CheckResult(
        name, True, f"{gap.metric} gap {value:.3f} (limit {limit:g}){skipped}", value, limit
    )


def by_group_table(gaps: list[GroupGap]) -> list[dict[str, object]]:
    """Rows (attribute, group, metric, value) for an MLflow artifact; value None: too small."""
    rows: list[dict[str, object]] = []
    for gap in gaps:
        rows += [
            {"attribute": gap.attribute, "group": g, "metric": gap.metric, "value": v}
            for g, v in gap.by_group.items()
        ]
        rows += [
            {"attribute": gap.attribute, "group": g, "metric": gap.metric, "value": None}
            for g in gap.left_out
        ]
    return rows
