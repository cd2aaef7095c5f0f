"""The `deploy` and `rollback` steps: move `champion` with aliases, one atomic switch each.

`deploy` promotes the version this job run registered and validated (the hand-off record), never
"whichever holds `challenger`" or "the newest": another job may have validated another version
in between. It refuses unless that version's own recorded validation passed, enforced, against
the champion that is still in place.

Each alias update is a single registry call, so a reader resolving `@champion` sees either the
old or the new version, never a half-done promotion. Each champion remembers the version it
replaced (tag `deploy_previous_champion`), so rollbacks can walk back the chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import PipelineError
from ..registry import CHALLENGER, CHAMPION, PREVIOUS_CHAMPION, Registry
from ..runtime import Context
from ..training.handoff import registered_version
from ..validation.pipeline import CHAMPION_TAG, MODE_TAG, STATUS_TAG
from .endpoint import serve_version, workspace_client

PREVIOUS_TAG = "deploy_previous_champion"


class DeploymentRefusedError(PipelineError):
    exit_code = 4


def deploy_model(ctx: Context) -> dict[str, Any]:
    registry, name = ctx.tracking.registry(), ctx.tracking.model_name
    candidate = registry.version(registered_version(ctx))
    tags = candidate.tags
    if tags.get(STATUS_TAG) != "passed" or tags.get(MODE_TAG) != "enforce":
        raise DeploymentRefusedError(
            f"{name} v{candidate.version}, registered by this run, has the recorded validation "
            f"status={tags.get(STATUS_TAG)!r}, mode={tags.get(MODE_TAG)!r}; deploy needs an "
            "enforced, passed validation. Run the `validate` step."
        )
    champion = registry.version_by_alias(CHAMPION)
    current = "none" if champion is None else str(champion.version)
    if champion is not None and champion.version == candidate.version:
        _release_challenger(registry, candidate.version)
        return {"champion": f"v{champion.version} (unchanged)"}
    if tags.get(CHAMPION_TAG) != current:
        raise DeploymentRefusedError(
            f"{name} v{candidate.version} was validated against champion "
            f"{tags.get(CHAMPION_TAG)!r}, but the champion is now {current!r} (another run "
            "deployed in between): run `validate` again, then `deploy`."
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
            workspace_client(), ctx.config.deployment, name, candidate.version
        )
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
    registry.set_alias(CHAMPION, previous)  # the switch
    registry.set_tags(current.version, {"deploy_rolled_back_at": datetime.now(UTC).isoformat()})
    earlier = registry.version(previous).tags.get(PREVIOUS_TAG)
    if earlier is not None:
        registry.set_alias(PREVIOUS_CHAMPION, earlier)
    else:
        registry.delete_alias(PREVIOUS_CHAMPION)
    result = {"champion": f"v{current.version} -> v{previous} (v{current.version} rolled back)"}
    if ctx.config.deployment.serving_endpoint:
        result["serving"] = serve_version(workspace_client(), ctx.config.deployment, name, previous)
    return result


def _release_challenger(registry: Registry, version: str) -> None:
    """`challenger` leaves the deployed version; another run's challenger stays."""
    holder = registry.version_by_alias(CHALLENGER)
    if holder is not None and holder.version == version:
        registry.delete_alias(CHALLENGER)
