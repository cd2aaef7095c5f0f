"""The fairness gate's per-group metrics on a labelled scoring window.

The window arrives as counts (one row per group, label and decision, with its number of
payments), so no raw row reaches the driver; the metrics and the gaps are the gate's own
(validation/fairness.py), with its limits (`fairness.max_gap`) as the alert level.
"""

from __future__ import annotations

import pandas as pd

from ..config import FairnessConfig, Thresholds
from ..validation.fairness import GroupGap, by_group_table, group_gaps
from .drift import MetricRow, status_of

COUNT = "payments"


def window_gaps(
    counts: pd.DataFrame, rules: FairnessConfig, target: str, decision: str
) -> list[GroupGap]:
    """Gaps of each attribute and metric from `counts` (attributes, target, decision, COUNT);
    no labelled rows yet: gaps of no group, "no data"."""
    return group_gaps(
        counts[target].to_numpy(),
        counts[decision].to_numpy(),
        counts[rules.attributes],
        list(rules.max_gap),
        rules.min_group_size,
        counts[COUNT].to_numpy(),
    )


def fairness_rows(gaps: list[GroupGap], rules: FairnessConfig) -> list[MetricRow]:
    """One row per attribute and metric: the gap, named after the worse-off group
    (`age_band=18-29`), alerting above the gate's limit; "no data" when fewer than two groups
    are large enough to compare."""
    rows = []
    for gap in gaps:
        limit = rules.max_gap[gap.metric]
        level = Thresholds(warn=limit, alert=limit)
        feature = gap.attribute if gap.worst is None else f"{gap.attribute}={gap.worst}"
        value = gap.gap if len(gap.by_group) >= 2 else None
        rows.append(
            MetricRow(
                feature,
                "fairness",
                f"{gap.metric}_gap",
                value,
                limit,
                limit,
                status_of(value, level),
            )
        )
    return rows


def group_table(gaps: list[GroupGap]) -> pd.DataFrame:
    return pd.DataFrame(by_group_table(gaps), columns=["attribute", "group", "metric", "value"])
