"""The `deploy` and `rollback` steps: move `champion` with aliases, one atomic switch each.

Each alias update is a single registry call, so a reader resolving `@champion` sees either the
old or the new version, never a half-done promotion. Each champion remembers the version it
replaced (tag `deploy.previous_champion`), so rollbacks can walk back the chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import PipelineError
from ..registry import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    require_alias,
    version_by_alias,
)
from ..runtime import Context
from .endpoint import serve_version, workspace_client

PREVIOUS_TAG = "deploy.previous_champion"


class DeploymentRefusedError(PipelineError):
    exit_code = 4


def deploy_model(ctx: Context) -> dict[str, Any]:
    client, name = ctx.tracking.client(), ctx.tracking.model_name
    challenger = require_alias(client, name, CHALLENGER, "Run the `validate` step first.")
    tags = challenger.tags
    if tags.get("validation.status") != "passed" or tags.get("validation.mode") != "enforce":
        raise DeploymentRefusedError(
            f"{name} v{challenger.version} holds '{CHALLENGER}' but its recorded validation is "
            f"status={tags.get('validation.status')!r}, mode={tags.get('validation.mode')!r}; "
            "deploy needs an enforced, passed validation. Run the `validate` step."
        )
    champion = version_by_alias(client, name, CHAMPION)
    if champion is not None and champion.version == challenger.version:
        client.delete_registered_model_alias(name, CHALLENGER)
        return {"champion": f"v{champion.version} (unchanged)"}

    if champion is not None:  # remembered before the switch, so a rollback always has a target
        client.set_model_version_tag(name, challenger.version, PREVIOUS_TAG, str(champion.version))
        client.set_registered_model_alias(name, PREVIOUS_CHAMPION, str(champion.version))
    client.set_registered_model_alias(name, CHAMPION, challenger.version)  # the switch
    client.delete_registered_model_alias(name, CHALLENGER)
    client.set_model_version_tag(
        name, challenger.version, "deploy.promoted_at", datetime.now(UTC).isoformat()
    )
    result = {
        "champion": f"v{champion.version} -> v{challenger.version}"
        if champion
        else f"v{challenger.version} (first deploy)"
    }
    if ctx.config.deployment.serving_endpoint:
        result["serving"] = serve_version(
            workspace_client(), ctx.config.deployment, name, challenger.version
        )
    return result


def rollback_model(ctx: Context) -> dict[str, Any]:
    client, name = ctx.tracking.client(), ctx.tracking.model_name
    current = require_alias(client, name, CHAMPION, "Nothing is deployed, so nothing to roll back.")
    previous = current.tags.get(PREVIOUS_TAG)
    if previous is None:
        raise DeploymentRefusedError(
            f"{name} v{current.version} is the first champion: there is no earlier version to "
            "roll back to."
        )
    client.set_registered_model_alias(name, CHAMPION, previous)  # the switch
    client.set_model_version_tag(
        name, current.version, "deploy.rolled_back_at", datetime.now(UTC).isoformat()
    )
    earlier = client.get_model_version(name, previous).tags.get(PREVIOUS_TAG)
    if earlier is not None:
        client.set_registered_model_alias(name, PREVIOUS_CHAMPION, earlier)
    else:
        client.delete_registered_model_alias(name, PREVIOUS_CHAMPION)
    result = {"champion": f"v{current.version} -> v{previous} (v{current.version} rolled back)"}
    if ctx.config.deployment.serving_endpoint:
        result["serving"] = serve_version(workspace_client(), ctx.config.deployment, name, previous)
    return result
