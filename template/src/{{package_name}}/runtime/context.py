"""The context object every pipeline receives. This is the only place that looks at the runtime."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from ..config import Config
from .spark import databricks_spark, local_spark
from .tables import CatalogNames, DeltaTables, PathNames, Tables
from .tracking import Tracking, databricks_tracking, local_tracking

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    config: Config
    spark: SparkSession
    tables: Tables
    tracking: Tracking


def build_context(config: Config, spark: SparkSession | None = None) -> Context:
    """Pick the three adapters for the configured runtime (`spark` may be shared, e.g. by tests)."""
    runtime = config.runtime
    if runtime.kind == "local":
        root = Path(runtime.root).resolve()
        spark = spark or local_spark(
            runtime.spark_master,
            connect=runtime.spark_connect,
            conf={"spark.sql.warehouse.dir": str(root / "warehouse"), **runtime.spark_conf},
            log_file=root / "logs" / "spark.log",
        )
        return Context(
            config=config,
            spark=spark,
            tables=DeltaTables(spark, PathNames(root / "tables")),
            tracking=tracking_for(config),
        )
    spark = spark or databricks_spark()
    return Context(
        config=config,
        spark=spark,
        tables=DeltaTables(spark, CatalogNames(runtime.catalog, runtime.schema_, runtime.volume)),
        tracking=tracking_for(config),
    )


def tracking_for(config: Config) -> Tracking:
    """Where MLflow tracks and registers for this runtime; needs no Spark session."""
    runtime = config.runtime
    if runtime.kind == "local":
        root = Path(runtime.root).resolve()
        return local_tracking(root / "mlflow", runtime.experiment, config.model.name)
    return databricks_tracking(
        runtime.experiment, runtime.catalog, runtime.schema_, config.model.name
    )
