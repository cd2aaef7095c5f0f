"""Runtime adapters (Spark session, tables, MLflow) and the context that carries them."""

from .context import Context, build_context, tracking_for

__all__ = ["Context", "build_context", "tracking_for"]
