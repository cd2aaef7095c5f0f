"""A Databricks Model Serving endpoint that serves the champion (created on first deploy)."""

from __future__ import annotations

from typing import Any

from ..config import DeploymentConfig


def serve_version(workspace: Any, settings: DeploymentConfig, model_name: str, version: str) -> str:
    """Point the endpoint at `version`; create it when it does not exist. Returns what it did.

    `workspace` is a `databricks.sdk.WorkspaceClient`.
    """
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

    endpoint = settings.serving_endpoint
    entity = ServedEntityInput(
        entity_name=model_name,
        entity_version=version,
        workload_size=settings.workload_size,
        scale_to_zero_enabled=settings.scale_to_zero,
    )
    try:
        workspace.serving_endpoints.get(endpoint)
    except NotFound:
        workspace.serving_endpoints.create_and_wait(
            name=endpoint, config=EndpointCoreConfigInput(name=endpoint, served_entities=[entity])
        )
        return f"created endpoint {endpoint}"
    workspace.serving_endpoints.update_config_and_wait(name=endpoint, served_entities=[entity])
    return f"updated endpoint {endpoint}"


def workspace_client() -> Any:
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient()  # credentials from the job's identity or the environment
