"""The `deploy`, `promote` and `rollback` steps: move `champion` with aliases, one atomic switch
each.

`deploy` promotes the version this job run registered and validated (the hand-off record), never
"whichever holds `challenger`" or "the newest": another job may have validated another version
in between. It refuses unless that version's validation record (approval.py: the evaluation
table, confirmed by the MLflow run; never tags or aliases set by hand) is an enforced pass
against the champion that is still in place. `promote` moves the version holding `challenger`
instead, after it scored `deployment.promote_after_rows` transactions in shadow, on the same
record.

Each alias update is a single registry call, so a reader resolving `@champion` sees either the
old or the new version, never a half-done promotion. Each champion remembers the version it
replaced (tag `deploy_previous_champion`), so rollbacks can walk back the chain; a rollback
target must itself hold a passed validation, and the rolled-back version's validation is
withdrawn, so it needs a new one to return.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mlflow.entities.model_registry import ModelVersion

from ..inference.request_log import logged_rows
from ..inference.shadow import shadow_rows
from ..model_card.pipeline import write_card
from ..registry import CHALLENGER, CHAMPION, PREVIOUS_CHAMPION, NoModelError, Registry
from ..runtime import Context
from ..training.handoff import registered_version
from ..validation.record import compared_with, standing, withdraw
from .approval import DeploymentRefusedError, require_validated
from .endpoint import serve_version, workspace_client

PREVIOUS_TAG = "deploy_previous_champion"

__all__ = ["DeploymentRefusedError", "deploy_model", "promote_challenger", "rollback_model"]


def deploy_model(ctx: Context) -> dict[str, Any]:
    registry, name = ctx.tracking.registry(), ctx.tracking.model_name
    candidate = registry.version(registered_version(ctx))
    champion = registry.version_by_alias(CHAMPION)
    if champion is not None and champion.version == candidate.version:
        _release_challenger(registry, candidate.version)
        return {"champion": f"v{champion.version} (unchanged)"}
    return _switch(
        ctx, candidate, champion, f"{name} v{candidate.version}, registered by this run,"
    )


def promote_challenger(ctx: Context) -> dict[str, Any]:
    """The `promote` step: `challenger` becomes champion once it has met enough traffic
    (`deployment.promote_after_rows` rows scored in batch shadow or online), through the same record
    `deploy` requires: an enforced pass against the champion still in place."""
    registry, name = ctx.tracking.registry(), ctx.tracking.model_name
    ctx.tracking.activate()
    challenger = registry.require_alias(
        CHALLENGER, "Nothing to promote: `validate` sets it on an enforced pass."
    )
    champion = registry.version_by_alias(CHAMPION)
    if champion is not None and champion.version == challenger.version:
        _release_challenger(registry, challenger.version)
        return {"champion": f"v{champion.version} (unchanged)"}
    batch = shadow_rows(ctx, challenger.version)
    online = logged_rows(ctx, CHALLENGER, challenger.version)
    needed, names = ctx.config.deployment.promote_after_rows, ctx.config.tables
    seen = f"{batch} in batch shadow, {online} online"
    if batch + online < needed:
        raise DeploymentRefusedError(
            f"{name} v{challenger.version}, the challenger, has scored {batch + online} rows "
            f"({seen}: '{ctx.tables.full_name(names.shadow_predictions)}', "
            f"'{ctx.tables.full_name(names.inference_log)}'), fewer than "
            f"deployment.promote_after_rows={needed}: let `inference` (inference.shadow) or "
            "`serve` (deployment.traffic canary or shadow) give it more traffic while it holds "
            "the alias, then promote."
        )
    why = f"{name} v{challenger.version}, the challenger,"
    return {**_switch(ctx, challenger, champion, why), "traffic": seen}


def _switch(
    ctx: Context, candidate: ModelVersion, champion: ModelVersion | None, why: str
) -> dict[str, Any]:
    """Move `champion` to `candidate` if its record allows it (see the module's docstring)."""
    registry, name = ctx.tracking.registry(), ctx.tracking.model_name
    record = require_validated(ctx, candidate, why)
    current = compared_with(None if champion is None else champion.version)
    if record.compared_with != current:
        raise DeploymentRefusedError(
            f"{name} v{candidate.version} was validated against {record.compared_with}, but the "
            f"champion is now {'none' if champion is None else f'v{champion.version}'} (it moved "
            "since): run `validate` again, then `deploy`."
        )

    if champion is not None:  # remembered before the switch, so a rollback always has a target
        registry.set_tags(candidate.version, {PREVIOUS_TAG: str(champion.version)})
        registry.set_alias(PREVIOUS_CHAMPION, champion.version)
    registry.set_alias(CHAMPION, candidate.version)  # the switch
    _release_challenger(registry, candidate.version)
    registry.set_tags(candidate.version, {"deploy_promoted_at": datetime.now(UTC).isoformat()})
    result = {
        "champion": f"v{champion.version} -> v{candidate.version}"
        if champion
        else f"v{candidate.version} (first deploy)"
    }
    if ctx.config.deployment.serving_endpoint:
        result["serving"] = serve_version(
            workspace_client(), ctx.config.deployment, name, candidate.version,
            _challenger_version(registry),
        )  # fmt: skip
    return result


def rollback_model(ctx: Context) -> dict[str, Any]:
    registry, name = ctx.tracking.registry(), ctx.tracking.model_name
    current = registry.require_alias(CHAMPION, "Nothing is deployed, so nothing to roll back.")
    previous = current.tags.get(PREVIOUS_TAG)
    if previous is None:
        raise DeploymentRefusedError(
            f"{name} v{current.version} is the first champion: there is no earlier version to "
            "roll back to."
        )
    target = _still_registered(registry, previous, current)
    require_validated(ctx, target, f"{name} v{previous}, the champion before v{current.version},")
    earlier = target.tags.get(PREVIOUS_TAG)
    if earlier is not None and _exists(registry, earlier):
        registry.set_alias(PREVIOUS_CHAMPION, earlier)
    else:
        registry.delete_alias(PREVIOUS_CHAMPION)
    # withdrawn before the switch: a rolled-back version never keeps a validation that counts
    withdraw(
        ctx,
        standing(ctx, current.version),
        current.version,
        f"champion v{current.version} -> v{previous} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    )
    registry.set_alias(CHAMPION, previous)  # the switch
    registry.set_tags(current.version, {"deploy_rolled_back_at": datetime.now(UTC).isoformat()})
    write_card(ctx, current.version)  # its card says the validation was withdrawn, and why
    result = {"champion": f"v{current.version} -> v{previous} (v{current.version} rolled back)"}
    if ctx.config.deployment.serving_endpoint:
        result["serving"] = serve_version(
            workspace_client(), ctx.config.deployment, name, previous, _challenger_version(registry)
        )
    return result


def _still_registered(registry: Registry, previous: str, current: ModelVersion) -> ModelVersion:
    try:
        return registry.version(previous)
    except NoModelError:
        raise DeploymentRefusedError(
            f"cannot roll back: {registry.name} v{previous}, the champion before "
            f"v{current.version}, is no longer in the registry (deleted). v{current.version} "
            "stays champion; to replace it, train, validate and deploy a new version."
        ) from None


def _exists(registry: Registry, version: str) -> bool:
    try:
        registry.version(version)
    except NoModelError:
        return False
    return True


def _release_challenger(registry: Registry, version: str) -> None:
    """`challenger` leaves the deployed version; another run's challenger stays."""
    holder = registry.version_by_alias(CHALLENGER)
    if holder is not None and holder.version == version:
        registry.delete_alias(CHALLENGER)


def _challenger_version(registry: Registry) -> str | None:
    """The challenger the endpoint serves beside the champion (deployment.traffic), if any."""
    holder = registry.version_by_alias(CHALLENGER)
    return None if holder is None else str(holder.version)
