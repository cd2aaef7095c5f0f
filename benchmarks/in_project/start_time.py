"""Start of a local Spark with Delta: jars resolved by Ivy (`spark.jars.packages`, the project's
way) or given directly (`spark.jars`), then one Delta write.

    python start_time.py                  # Ivy resolution (from Maven Central, or its cache)
    python start_time.py <jar1,jar2,...>  # the cached jars directly, no Ivy
    unshare -n sh -c 'ip link set lo up && python start_time.py'   # offline (root only)

Runs inside a rendered default project. Prints JSON.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from fraud_detection.runtime.spark import DELTA_PACKAGE, DELTA_SQL
from pyspark.sql import SparkSession


def main() -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    started = time.perf_counter()
    builder = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
    for key, value in DELTA_SQL.items():
        builder = builder.config(key, value)
    if len(sys.argv) > 1:
        builder = builder.config("spark.jars", sys.argv[1])
    else:
        builder = builder.config("spark.jars.packages", DELTA_PACKAGE)
    spark = builder.getOrCreate()
    start = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        spark.range(3).write.format("delta").save(str(Path(tmp) / "t"))
    write = time.perf_counter() - started - start
    jars = "spark.jars" if len(sys.argv) > 1 else "spark.jars.packages"
    print(json.dumps({"jars": jars, "start_seconds": round(start, 1), "write": round(write, 1)}))


if __name__ == "__main__":
    main()
