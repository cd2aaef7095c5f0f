"""Point the Model Serving endpoint at a new champion (the endpoint is a bundle resource).

serving/databricks.yml declares the endpoint, its permissions and its AI Gateway inference table;
CI deploys it with the champion's version once one exists (serving/deploy.sh). This step only
moves a deployed endpoint to the next champion, so the endpoint never exists outside the bundle.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from ..config import DeploymentConfig, load_config
from ..errors import ConfigError

CHAMPION, CHALLENGER = "champion", "challenger"  # the served entities' names on the endpoint


@dataclass(frozen=True)
class Entity:
    name: str  # the served entity's name on the endpoint (and its route's)
    version: str
    percent: int  # of the endpoint's requests


def entities(settings: DeploymentConfig, champion: str, challenger: str | None) -> list[Entity]:
    """What the endpoint serves, from `deployment.traffic` (the keys the local server reads):

    - champion, or no challenger (or the challenger is the champion): the champion, 100%;
    - canary: the challenger gets `challenger_share` as a whole percentage. Databricks splits
      each request at random: unlike the local server, a customer does not stick to one model;
    - shadow: Databricks has no shadow traffic. The champion answers 100%; the challenger is
      served with 0%, so it answers only what is sent to its own URL
      (`/serving-endpoints/<endpoint>/served-models/challenger/invocations`), e.g. the payloads
      of the AI Gateway inference table replayed to it. Clients never get its answers.
    """
    traffic = settings.traffic
    if traffic.strategy == "champion" or challenger in (None, champion):
        return [Entity(CHAMPION, champion, 100)]
    share = round(traffic.challenger_share * 100) if traffic.strategy == "canary" else 0
    return [Entity(CHAMPION, champion, 100 - share), Entity(CHALLENGER, challenger, share)]


def endpoint_config(
    settings: DeploymentConfig, model_name: str, champion: str, challenger: str | None
) -> dict[str, list[dict[str, Any]]]:
    """The served entities and traffic routes, as the REST API (and the bundle) spell them."""
    served = entities(settings, champion, challenger)
    return {
        "served_entities": [
            {"name": e.name, "entity_name": model_name, "entity_version": e.version,
             "workload_size": settings.workload_size,
             "scale_to_zero_enabled": settings.scale_to_zero}
            for e in served
        ],
        "traffic_routes": [
            {"served_model_name": e.name, "traffic_percentage": e.percent} for e in served
        ],
    }  # fmt: skip


def serve_version(
    workspace: Any,
    settings: DeploymentConfig,
    model_name: str,
    version: str,
    challenger: str | None = None,
) -> str:
    """Point the endpoint at `version` (and `challenger`, as `deployment.traffic` says), if it is
    deployed. Returns what it did.

    `workspace` is a `databricks.sdk.WorkspaceClient`. An endpoint not deployed yet is the first
    champion of the workspace: the next CI deploy creates it serving this version, so it is not an
    error. Any other error fails the step.
    """
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.serving import ServedEntityInput, TrafficConfig

    endpoint = settings.serving_endpoint
    try:
        workspace.serving_endpoints.get(endpoint)
    except NotFound:
        return (
            f"endpoint {endpoint} is not deployed yet: the next deploy serves this champion "
            "(serving/deploy.sh)"
        )
    served = endpoint_config(settings, model_name, version, challenger)
    workspace.serving_endpoints.update_config_and_wait(
        name=endpoint,
        served_entities=[ServedEntityInput.from_dict(e) for e in served["served_entities"]],
        traffic_config=TrafficConfig.from_dict({"routes": served["traffic_routes"]}),
    )
    split = ", ".join(
        f"{e.name} v{e.version} {e.percent}%" for e in entities(settings, version, challenger)
    )
    return f"updated endpoint {endpoint}: {split}"


def workspace_client() -> Any:
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient()  # credentials from the job's identity or the environment


def main(argv: list[str] | None = None) -> None:
    """`python -m <package>.deployment.endpoint <env> <model> <champion> [<challenger>]`: the
    serving bundle's `served_entities` and `traffic_routes` as JSON, for
    .databricks/bundle/<target>/variable-overrides.json (serving/deploy.sh). Needs only pydantic
    and pyyaml, so CI runs it without installing the project."""
    env, model_name, champion, *rest = argv if argv is not None else sys.argv[1:]
    try:
        settings = load_config(env).deployment
    except ConfigError as error:
        sys.exit(f"serving/deploy.sh: {error}")
    print(json.dumps(endpoint_config(settings, model_name, champion, (rest or [""])[0] or None)))


if __name__ == "__main__":
    main()
