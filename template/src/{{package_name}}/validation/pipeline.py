"""The `validate` step: compliance, thresholds, champion (or baseline) comparison, then the alias.

Every check is recorded on the model version (tags) and in the evaluation table, pass or fail.
Only an enforced, passing validation sets `challenger`; `deploy` trusts nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import mlflow
import pandas as pd
from mlflow.entities.model_registry import ModelVersion

from ..errors import PipelineError
from ..registry import CHALLENGER, CHAMPION, Registry, tag_key
from ..runtime import Context
from ..runtime.tracking import RUN_GIT_COMMIT_TAG, code_version
from ..training.dataset import feature_columns, time_split
from ..training.handoff import registered_version
from ..training.pipeline import load_training_frame
from .baseline import RuleBasedBaseline
from .checks import CheckResult, failed
from .compliance import compliance_checks
from .gate import baseline_checks, champion_checks, evaluate, threshold_checks

PASSED, FAILED = "passed", "failed"
# what validate writes on the version, and deploy reads back (Unity Catalog tag keys: no dots)
STATUS_TAG, MODE_TAG = "validation_status", "validation_mode"
CHAMPION_TAG = "validation_champion"  # the champion it was judged against, "none" for the baseline


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
    holdout = _holdout(ctx)

    info = mlflow.models.get_model_info(_uri(name, candidate))
    results = compliance_checks(candidate, info, rules.required_tags)
    with mlflow.start_run(run_name=f"validate v{candidate.version}") as run:
        with mlflow.start_run(run_name=f"candidate v{candidate.version}", nested=True):
            candidate_eval = evaluate(_uri(name, candidate), holdout, cfg.model.target)
        results += threshold_checks(candidate_eval, rules.thresholds)
        if champion is not None:
            compared_with = f"champion v{champion.version}"
            with mlflow.start_run(run_name=f"champion v{champion.version}", nested=True):
                champion_eval = evaluate(_uri(name, champion), holdout, cfg.model.target)
            results += champion_checks(candidate_eval, champion_eval, rules.champion_tolerance)
        else:
            compared_with = "business baseline"
            with mlflow.start_run(run_name="business baseline", nested=True):
                baseline_eval = evaluate(_log_baseline(holdout, cfg), holdout, cfg.model.target)
            results += baseline_checks(candidate_eval, baseline_eval, rules.baseline_margin)
        status = FAILED if failed(results) else PASSED
        mode = "report_only" if report_only else "enforce"
        commit = code_version(cfg.run.git_commit)
        mlflow.set_tags(
            {"step": "validate", "model_version": str(candidate.version), "status": status}
            | {"job_run_id": cfg.run.id}
            | ({RUN_GIT_COMMIT_TAG: commit} if commit else {})
        )

    champion_version = "none" if champion is None else str(champion.version)
    _record(ctx, candidate, results, status, mode, compared_with, run.info.run_id)
    registry.set_tags(candidate.version, {CHAMPION_TAG: champion_version})
    promoted = _set_alias(registry, candidate, status, report_only)
    if status == FAILED and not report_only:
        raise ValidationFailedError(
            f"{name} v{candidate.version} failed validation against {compared_with}; "
            "it gets no alias. Failed checks:\n"
            + "\n".join(f"  - {r.name}: {r.detail}" for r in failed(results))
        )
    return {
        "model": f"{name} v{candidate.version}",
        "compared with": compared_with,
        "checks": f"{len(results) - len(failed(results))}/{len(results)} passed",
        "result": f"{status}{' (report only: no alias set)' if report_only else ''}",
        "alias": CHALLENGER if promoted else "none",
    }


def _holdout(ctx: Context) -> pd.DataFrame:
    """The newest labelled rows, as in training: what the model has not been fitted on."""
    _, test = time_split(load_training_frame(ctx), ctx.config.model.test_fraction)
    target = ctx.config.model.target
    return test[[*feature_columns(ctx.config), target]].astype({target: "int64"})


def _log_baseline(holdout: pd.DataFrame, cfg) -> str:
    baseline = RuleBasedBaseline().fit(holdout[feature_columns(cfg)])
    info = mlflow.sklearn.log_model(baseline, name="baseline", serialization_format="cloudpickle")
    return info.model_uri


def _record(
    ctx: Context,
    version: ModelVersion,
    results: list[CheckResult],
    status: str,
    mode: str,
    compared_with: str,
    run_id: str,
) -> None:
    name = ctx.tracking.model_name
    tags = {
        tag_key("validation", r.name): PASSED if r.passed else f"{FAILED}: {r.detail}"
        for r in results
    }
    tags |= {
        STATUS_TAG: status,
        MODE_TAG: mode,
        "validation_compared_with": compared_with,
        "validation_run_id": run_id,
    }
    ctx.tracking.registry().set_tags(version.version, tags)

    validated_at = datetime.now(UTC)
    rows = pd.DataFrame(
        {
            "model_name": name,
            "model_version": str(version.version),
            "validation_run_id": run_id,
            "check": [r.name for r in results],
            "passed": [r.passed for r in results],
            "value": [r.value for r in results],
            "threshold": [r.threshold for r in results],
            "detail": [r.detail for r in results],
            "status": status,
            "mode": mode,
            "compared_with": compared_with,
            "validated_at": validated_at,
        }
    ).astype({"value": "float64", "threshold": "float64"})
    ctx.tables.upsert(
        ctx.spark.createDataFrame(rows),
        ctx.config.tables.evaluations,
        keys=["model_name", "model_version", "validation_run_id", "check"],
    )


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
