"""What `deploy` and `rollback` require of a version before it may hold `champion`.

They read the validation record (validation/record.py), never the version's tags or aliases,
which anyone allowed to edit the model can set by hand. The record is checked three ways:
its newest entry for the version is an enforced pass (not a failure, a report-only run or a
validation withdrawn by a rollback); the version's `validation_run_id` tag names that same run;
and that run exists in MLflow, says the same, and measured the same values.
"""

from __future__ import annotations

import math

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from ..errors import PipelineError
from ..registry import RegistryError, is_absent
from ..runtime import Context
from ..validation.pipeline import RUN_TAG
from ..validation.record import ENFORCE, METRIC_PREFIX, PASSED, WITHDRAWN, Standing, standing


class DeploymentRefusedError(PipelineError):
    exit_code = 4


def require_validated(ctx: Context, version: ModelVersion, why: str) -> Standing:
    """The version's standing, if it is an enforced, passed validation that the tags and the
    MLflow run confirm; otherwise a `DeploymentRefusedError` saying what to do. `why` starts
    the message ("v3, registered by this run,")."""
    table = ctx.tables.full_name(ctx.config.tables.evaluations)
    found = standing(ctx, version.version)
    again = "Run `validate` (it records a new validation), then `deploy`."
    if found is None:
        raise DeploymentRefusedError(
            f"{why} has no validation record in '{table}' (tags do not count). {again}"
        )
    if found.status == WITHDRAWN:
        raise DeploymentRefusedError(
            f"{why} was rolled back ({found.detail}); its earlier validation no longer counts. "
            f"It returns to champion only after a new, passed validation against the current "
            f"champion. {again}"
        )
    if found.status != PASSED or found.mode != ENFORCE:
        raise DeploymentRefusedError(
            f"{why} has the recorded validation status={found.status!r}, mode={found.mode!r} "
            f"(run {found.run_id}); deploy needs an enforced, passed validation. {again}"
        )
    tagged = version.tags.get(RUN_TAG)
    if tagged != found.run_id:
        raise DeploymentRefusedError(
            f"{why} has the tag {RUN_TAG}={tagged!r}, but its newest validation record is run "
            f"{found.run_id}: the tags were changed outside `validate`. {again}"
        )
    _confirm_run(ctx, found, why, again)
    return found


def _confirm_run(ctx: Context, found: Standing, why: str, again: str) -> None:
    """The validation run in MLflow must exist and agree with the table: a row written by hand
    into the table is not a validation."""
    try:
        run = ctx.tracking.client().get_run(found.run_id)
    except MlflowException as error:
        if not is_absent(error):  # only absence is an answer; any other failure fails the step
            raise RegistryError(
                f"MLflow failed to read the validation run {found.run_id} "
                f"({error.error_code}): {error.message}"
            ) from None
        run = None
    if run is not None and run.info.lifecycle_stage != "active":
        run = None  # a deleted run is no evidence
    tags = {} if run is None else run.data.tags
    said = (tags.get("step"), tags.get("model_version"), tags.get("status"), tags.get("mode"))
    if said != ("validate", found.version, PASSED, ENFORCE):
        what = "does not exist" if run is None else f"records {said}"
        raise DeploymentRefusedError(
            f"{why} has a validation record whose MLflow run {found.run_id} {what}, not an "
            f"enforced pass of v{found.version}: the record was not written by `validate`. {again}"
        )
    metrics = run.data.metrics
    differ = sorted(
        check
        for check, value in found.values.items()
        if not math.isclose(metrics.get(METRIC_PREFIX + check, math.nan), value, rel_tol=1e-9)
    )
    if differ:
        raise DeploymentRefusedError(
            f"{why} has a validation record whose values of {differ} differ from its MLflow run "
            f"{found.run_id}: the record was changed after `validate`. {again}"
        )
