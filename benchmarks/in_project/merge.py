"""Small-table Delta operations through the project's table adapter, under given Spark settings.

    python merge.py                                                    # the project's defaults
    python merge.py '{"spark.databricks.delta.snapshotPartitions": "50"}'  # Delta's own default

Creates a 6,000-row table, MERGEs the same rows into it four times, overwrites it, counts it and
reads its version, on one local Spark Connect session. Runs inside a rendered default project.
Prints JSON (seconds).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from fraud_detection.runtime.spark import local_spark
from fraud_detection.runtime.tables import DeltaTables, PathNames
from pyspark.sql import functions as F


def seconds(work) -> float:
    started = time.perf_counter()
    work()
    return round(time.perf_counter() - started, 2)


def main() -> None:
    conf = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    spark = local_spark("local[2]", conf=conf)
    tables = DeltaTables(spark, PathNames(Path(tempfile.mkdtemp())))
    rows = spark.range(6000).select(
        F.col("id").alias("k"), (F.col("id") * 2).alias("v"), F.current_timestamp().alias("ts")
    )
    result = {
        "conf": conf,
        "create": seconds(lambda: tables.overwrite(rows, "t")),
        "merges": [seconds(lambda: tables.upsert(rows, "t", keys=["k"])) for _ in range(4)],
        "overwrite": seconds(lambda: tables.overwrite(rows, "t")),
        "count": seconds(lambda: tables.read("t").count()),
        "version": seconds(lambda: tables.version("t")),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
