"""The `validate` step: compliance, thresholds, champion (or baseline) comparison, then the alias.

Every check is recorded in the evaluation table (the record `deploy` and `rollback` trust, see
record.py) and, for people, on the model version as tags, pass or fail. Only an enforced,
passing validation sets `challenger`.

Each model is scored on its own inputs, read from its signature: a candidate trained on a new
feature list is compared with the champion on the same held-out rows, each with its columns.
"""

from __future__ import annotations

from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion

from ..data import schema as s
from ..data.attributes import missing_attribute, present_attributes, transaction_attributes
from ..errors import PipelineError
from ..model_card.pipeline import write_card
from ..registry import CHALLENGER, CHAMPION, Registry, tag_key
from ..runtime import Context
from ..runtime.tracking import RUN_GIT_COMMIT_TAG, code_version
from ..training.dataset import FeatureSet, time_split
from ..training.handoff import registered_version
from ..training.packaging import pip_requirements
from ..training.pipeline import load_training_frame
from .baseline import NEEDED, RuleBasedBaseline
from .checks import CheckResult, failed
from .compliance import compliance_checks
from .fairness import by_group_table, fairness_checks, group_gaps
from .gate import baseline_checks, champion_checks, evaluate, threshold_checks
from .record import (
    ENFORCE,
    FAILED,
    METRIC_PREFIX,
    PASSED,
    REPORT_ONLY,
    compared_with,
    record_validation,
)

# what validate writes on the version for people to read (Unity Catalog tag keys: no dots);
# deploy decides from the evaluation table, and only checks that the run tag agrees with it
STATUS_TAG, MODE_TAG, RUN_TAG = "validation_status", "validation_mode", "validation_run_id"
CHAMPION_TAG = "validation_champion"  # the champion it was judged against, "none" for the baseline
BASELINE_FEATURES = FeatureSet(NEEDED)


class ValidationFailedError(PipelineError):
    exit_code = 3


def validate_model(ctx: Context, report_only: bool | None = None) -> dict[str, Any]:
    cfg, rules = ctx.config, ctx.config.validation
    report_only = rules.report_only if report_only is None else report_only
    ctx.tracking.activate()
    registry, name = ctx.tracking.registry(), ctx.tracking.model_name
    candidate = registry.version(registered_version(ctx))  # this run's, never "the newest"
    champion = registry.version_by_alias(CHAMPION)
    if champion is not None and champion.version == candidate.version:
        champion = None  # re-validating the champion itself: judge it against the baseline

    info = mlflow.models.get_model_info(_uri(name, candidate))
    results = compliance_checks(candidate, info, rules.required_tags)
    mine = _features(info, cfg)
    theirs = (
        BASELINE_FEATURES
        if champion is None
        else _features(mlflow.models.get_model_info(_uri(name, champion)), cfg)
    )
    holdout = _holdout(ctx, mine.union(theirs), champion)
    against = compared_with(None if champion is None else champion.version)
    changes = mine.changes_from(theirs) if champion is not None else None
    with mlflow.start_run(run_name=f"validate v{candidate.version}") as run:
        with mlflow.start_run(run_name=f"candidate v{candidate.version}", nested=True):
            candidate_eval = evaluate(
                _uri(name, candidate), _inputs(holdout, mine, cfg), cfg.model.target
            )
        results += threshold_checks(candidate_eval, rules.thresholds)
        if champion is not None:
            with mlflow.start_run(run_name=f"champion v{champion.version}", nested=True):
                champion_eval = evaluate(
                    _uri(name, champion), _inputs(holdout, theirs, cfg), cfg.model.target
                )
            results += champion_checks(candidate_eval, champion_eval, rules.champion_tolerance)
        else:
            baseline_data = _inputs(holdout, BASELINE_FEATURES, cfg)
            with mlflow.start_run(run_name="business baseline", nested=True):
                baseline_eval = evaluate(
                    _log_baseline(baseline_data), baseline_data, cfg.model.target
                )
            results += baseline_checks(candidate_eval, baseline_eval, rules.baseline_margin)
        if cfg.fairness.attributes:
            results += _fairness_checks(ctx, holdout, mine, _uri(name, candidate))
        status = FAILED if failed(results) else PASSED
        mode = REPORT_ONLY if report_only else ENFORCE
        commit = code_version(cfg.run.git_commit)
        # the threshold the fairness rates were measured at, for the model card
        mlflow.log_param("decision_threshold", cfg.inference.decision_threshold)
        mlflow.set_tags(
            {"step": "validate", "model_version": str(candidate.version), "status": status}
            | {"model_name": name, "mode": mode, "compared_with": against}
            | {"job_run_id": cfg.run.id}
            | ({"feature_changes": changes} if changes else {})
            | ({RUN_GIT_COMMIT_TAG: commit} if commit else {})
        )
        # the measured values again, in the run: deploy compares them with the evaluation table
        mlflow.log_metrics(
            {METRIC_PREFIX + r.name: r.value for r in results if r.value is not None}
        )

    run_id = run.info.run_id
    record_validation(ctx, candidate.version, results, status, mode, against, run_id)
    _tag(registry, candidate, results, status, mode, against, run_id, champion)
    promoted = _set_alias(registry, candidate, status, report_only)
    write_card(ctx, candidate.version)  # with this validation's checks, passed or failed
    if status == FAILED and not report_only:
        raise ValidationFailedError(
            f"{name} v{candidate.version} failed validation against {against}; "
            "it gets no alias. Failed checks:\n"
            + "\n".join(f"  - {r.name}: {r.detail}" for r in failed(results))
        )
    return {
        "model": f"{name} v{candidate.version}",
        "compared with": against,
        **({"feature sets differ": changes} if changes else {}),
        "checks": f"{len(results) - len(failed(results))}/{len(results)} passed",
        "result": f"{status}{' (report only: no alias set)' if report_only else ''}",
        "alias": CHALLENGER if promoted else "none",
    }


def _features(info, cfg) -> FeatureSet:
    """The model's inputs from its signature (the configured ones if it has none: compliance
    fails it then, but it is still scored)."""
    if info.signature is None or info.signature.inputs is None:
        return FeatureSet.of_config(cfg)
    return FeatureSet.of_signature(info.signature)


def _holdout(ctx: Context, features: FeatureSet, champion: ModelVersion | None) -> pd.DataFrame:
    """The newest labelled rows, as in training (what no model was fitted on), with the inputs
    of every model compared: the same rows for each."""
    who = (
        "the candidate's"
        if champion is None
        else f"the candidate's or champion v{champion.version}'s"
    )
    frame = load_training_frame(ctx, features, wanted_by=f"{who} input features")
    _, test = time_split(frame, ctx.config.model.test_fraction)
    return test


def _inputs(holdout: pd.DataFrame, features: FeatureSet, cfg) -> pd.DataFrame:
    target = cfg.model.target
    return holdout[[*features.columns, target]].astype({target: "int64"})


def _fairness_checks(
    ctx: Context, holdout: pd.DataFrame, features: FeatureSet, uri: str
) -> list[CheckResult]:
    """The candidate's error rates per group of each sensitive attribute, on the held-out rows.

    The attributes join the held-out rows here, by transaction id, after the model was scored:
    they are evaluation data, never model inputs."""
    cfg, rules = ctx.config, ctx.config.fairness
    present, missing = present_attributes(ctx, rules.attributes)
    unmeasured = [CheckResult(f"fairness.{a}", True, missing_attribute(ctx, a)) for a in missing]
    if not present:
        return unmeasured
    attributes = transaction_attributes(ctx, present).drop(s.EVENT_TS).toPandas()
    groups = holdout[[s.TRANSACTION_ID]].merge(attributes, on=s.TRANSACTION_ID, how="left")
    scores = np.asarray(mlflow.pyfunc.load_model(uri).predict(holdout[features.columns]))
    # [P(legitimate), P(fraud)] per row; a model logged to predict labels gives its decisions
    scores = scores[:, 1] if scores.ndim == 2 else scores
    gaps = group_gaps(
        holdout[cfg.model.target].to_numpy(),
        scores >= cfg.inference.decision_threshold,
        groups[present],
        list(rules.max_gap),
        rules.min_group_size,
    )
    mlflow.log_table(pd.DataFrame(by_group_table(gaps)), "fairness/by_group.json")
    return unmeasured + fairness_checks(gaps, rules)


def _log_baseline(data: pd.DataFrame) -> str:
    baseline = RuleBasedBaseline().fit(data[list(NEEDED)])
    info = mlflow.sklearn.log_model(
        baseline,
        name="baseline",
        serialization_format="cloudpickle",
        pip_requirements=pip_requirements(("scikit-learn", "cloudpickle", "numpy", "pandas")),
    )
    return info.model_uri


def _tag(
    registry: Registry,
    version: ModelVersion,
    results: list[CheckResult],
    status: str,
    mode: str,
    against: str,
    run_id: str,
    champion: ModelVersion | None,
) -> None:
    tags = {
        tag_key("validation", r.name): PASSED if r.passed else f"{FAILED}: {r.detail}"
        for r in results
    }
    tags |= {
        STATUS_TAG: status,
        MODE_TAG: mode,
        "validation_compared_with": against,
        RUN_TAG: run_id,
        CHAMPION_TAG: "none" if champion is None else str(champion.version),
    }
    registry.set_tags(version.version, tags)


def _set_alias(registry: Registry, version: ModelVersion, status: str, report_only: bool) -> bool:
    if status == PASSED and not report_only:
        registry.set_alias(CHALLENGER, version.version)
        return True
    holder = registry.version_by_alias(CHALLENGER)
    if holder is not None and holder.version == version.version and not report_only:
        registry.delete_alias(CHALLENGER)
    return False


def _uri(name: str, version: ModelVersion) -> str:
    return f"models:/{name}/{version.version}"
