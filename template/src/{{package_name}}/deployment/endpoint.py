"""Point the Model Serving endpoint at a new champion (the endpoint is a bundle resource).

serving/databricks.yml declares the endpoint, its permissions and its AI Gateway inference table;
CI deploys it with the champion's version once one exists (serving/deploy.sh). This step only
moves a deployed endpoint to the next champion, so the endpoint never exists outside the bundle.
"""

from __future__ import annotations

from typing import Any

from ..config import DeploymentConfig


def serve_version(workspace: Any, settings: DeploymentConfig, model_name: str, version: str) -> str:
    """Point the endpoint at `version`, if it is deployed. Returns what it did.

    `workspace` is a `databricks.sdk.WorkspaceClient`. An endpoint not deployed yet is the first
    champion of the workspace: the next CI deploy creates it serving this version, so it is not an
    error. Any other error fails the step.
    """
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.serving import ServedEntityInput

    endpoint = settings.serving_endpoint
    try:
        workspace.serving_endpoints.get(endpoint)
    except NotFound:
        return (
            f"endpoint {endpoint} is not deployed yet: the next deploy serves this champion "
            "(serving/deploy.sh)"
        )
    entity = ServedEntityInput(
        entity_name=model_name,
        entity_version=version,
        workload_size=settings.workload_size,
        scale_to_zero_enabled=settings.scale_to_zero,
    )
    workspace.serving_endpoints.update_config_and_wait(name=endpoint, served_entities=[entity])
    return f"updated endpoint {endpoint}"


def workspace_client() -> Any:
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient()  # credentials from the job's identity or the environment
