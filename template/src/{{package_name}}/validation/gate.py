"""Metric checks of a candidate, decided by `mlflow.validate_evaluation_results`.

Three kinds: absolute thresholds; "not worse than the champion by more than a tolerance"; and,
with no champion yet, "better than the business baseline by at least a margin".
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.models import EvaluationResult, MetricThreshold
from mlflow.models.evaluation.validation import ModelValidationFailedException

from .checks import CheckResult

LOWER_IS_BETTER = {"log_loss", "max_error", "mean_absolute_error", "mean_squared_error"}
EVALUATOR_CONFIG = {"log_model_explainability": False, "pos_label": 1, "label_list": [0, 1]}


def evaluate(model_uri: str, data: pd.DataFrame, target: str) -> EvaluationResult:
    """MLflow's classifier evaluation of a model on held-out data (in the active run)."""
    return mlflow.models.evaluate(
        model=model_uri,
        data=data,
        targets=target,
        model_type="classifier",
        evaluator_config=EVALUATOR_CONFIG,
    )


def threshold_checks(
    candidate: EvaluationResult, thresholds: dict[str, float]
) -> list[CheckResult]:
    return [
        _decide(f"threshold.{metric}", metric, candidate, None, _at_least(metric, minimum), minimum)
        for metric, minimum in thresholds.items()
    ]


def champion_checks(
    candidate: EvaluationResult, champion: EvaluationResult, tolerance: dict[str, float]
) -> list[CheckResult]:
    results = []
    for metric, allowed in tolerance.items():
        if metric not in champion.metrics:
            results.append(_unknown(f"vs_champion.{metric}", metric, champion))
            continue
        worse_by = allowed if metric not in LOWER_IS_BETTER else -allowed
        floor = champion.metrics[metric] - worse_by
        results.append(
            _decide(
                f"vs_champion.{metric}", metric, candidate, None, _at_least(metric, floor), floor
            )
        )
    return results


def baseline_checks(
    candidate: EvaluationResult, baseline: EvaluationResult, margin: dict[str, float]
) -> list[CheckResult]:
    results = []
    for metric, better_by in margin.items():
        rule = MetricThreshold(
            min_absolute_change=better_by, greater_is_better=metric not in LOWER_IS_BETTER
        )
        needed = baseline.metrics.get(metric)
        needed = (
            None
            if needed is None
            else needed + (better_by if rule.greater_is_better else -better_by)
        )
        results.append(_decide(f"vs_baseline.{metric}", metric, candidate, baseline, rule, needed))
    return results


def _at_least(metric: str, bound: float) -> MetricThreshold:
    return MetricThreshold(threshold=bound, greater_is_better=metric not in LOWER_IS_BETTER)


def _decide(
    name: str,
    metric: str,
    candidate: EvaluationResult,
    baseline: EvaluationResult | None,
    rule: MetricThreshold,
    bound: float | None,
) -> CheckResult:
    if metric not in candidate.metrics:
        return _unknown(name, metric, candidate)
    value = candidate.metrics[metric]
    try:
        mlflow.validate_evaluation_results({metric: rule}, candidate, baseline)
    except ModelValidationFailedException:
        relation = "above" if rule.greater_is_better else "below"
        return CheckResult(
            name, False, f"{metric}={value:.4f}, needs {relation} {bound:.4f}", value, bound
        )
    return CheckResult(name, True, f"{metric}={value:.4f} (bound {bound:.4f})", value, bound)


def _unknown(name: str, metric: str, result: EvaluationResult) -> CheckResult:
    known = ", ".join(sorted(k for k in result.metrics if "/" not in k))
    return CheckResult(name, False, f"metric '{metric}' is not computed; known: {known}")
