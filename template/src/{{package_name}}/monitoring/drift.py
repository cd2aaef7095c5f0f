"""Turn a baseline and a window (both histograms) into metric rows with a status each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import MonitoringConfig, Thresholds
from .profile import PREDICTION
from .stats import DRIFT_METRICS, binned_roc_auc, precision_recall

OK, WARN, ALERT, NO_DATA = "ok", "warn", "alert", "no data"
INFO = "info"  # a row that describes, never judges (the challenger's comparison)
SEVERITY = {NO_DATA: 0, INFO: 0, OK: 0, WARN: 1, ALERT: 2}


@dataclass(frozen=True)
class MetricRow:
    feature: str
    kind: str  # numeric | categorical | prediction | label | performance | fairness | challenger
    metric: str
    value: float | None
    warn: float
    alert: float
    status: str


def status_of(value: float | None, limits: Thresholds) -> str:
    if value is None:
        return NO_DATA
    lower_is_worse = limits.alert < limits.warn  # e.g. p-values
    if lower_is_worse:
        return ALERT if value <= limits.alert else WARN if value <= limits.warn else OK
    return ALERT if value >= limits.alert else WARN if value >= limits.warn else OK


def worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: SEVERITY[s], default=OK)


def drift_rows(
    baseline: dict[str, Any], window: dict[str, Any], rules: MonitoringConfig
) -> list[MetricRow]:
    rows = []
    for name, spec in baseline["features"].items():
        kind = "prediction" if name == PREDICTION else spec["kind"]
        metrics = {
            "numeric": rules.numeric,
            "categorical": rules.categorical,
            "prediction": rules.prediction,
        }[kind]
        current = window["features"][name]["counts"]
        for metric, limits in metrics.items():
            value = DRIFT_METRICS[metric](spec["counts"], current)
            rows.append(
                MetricRow(
                    name, kind, metric, value, limits.warn, limits.alert, status_of(value, limits)
                )
            )
    labelled = sum(window["label"]["counts"])
    for metric, limits in rules.label.items():
        value = (
            DRIFT_METRICS[metric](baseline["label"]["counts"], window["label"]["counts"])
            if labelled
            else None
        )
        rows.append(
            MetricRow(
                "label", "label", metric, value, limits.warn, limits.alert, status_of(value, limits)
            )
        )
    return rows


def performance_rows(
    baseline: dict[str, Any], window: dict[str, Any], rules: MonitoringConfig
) -> list[MetricRow]:
    before, now = _performance(baseline["performance"]), _performance(window["performance"])
    rows = []
    for metric, limits in rules.performance.items():
        name = metric.removesuffix("_drop")
        drop = None if now[name] is None or before[name] is None else before[name] - now[name]
        rows.append(
            MetricRow(
                name,
                "performance",
                metric,
                drop,
                limits.warn,
                limits.alert,
                status_of(drop, limits),
            )
        )
    return rows


def _performance(counts: dict[str, Any]) -> dict[str, float | None]:
    precision, recall = precision_recall(counts["tp"], counts["fp"], counts["fn"])
    return {
        "roc_auc": binned_roc_auc(counts["positives"], counts["negatives"]),
        "precision": precision,
        "recall": recall,
    }
