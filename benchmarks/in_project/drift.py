"""Drift aggregation over N rows x 10 features vs one plain Spark aggregation scan of the same
data (every column the drift pass reads), and the driver's memory, which must not grow with N.

Also timed, to show where the time goes: the bucketing alone (every histogram's bucket index,
summed instead of counted), the floor of any exact histogram in Spark's row engine.

    python drift.py 10000000

Runs inside a rendered default project (see ../lifecycle.py). Prints JSON.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from fraud_detection.config import load_config
from fraud_detection.monitoring.profile import baseline_profile, bucket_columns, window_aggregates
from fraud_detection.runtime.spark import local_spark
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
NUMERIC = [f"x{i}" for i in range(9)]
CATEGORICAL = ["category"]
ROUNDS = 5  # interleaved, medians reported: the scan alone varies by +-30% on a shared VM


def main() -> None:
    config = load_config("local")
    spark = local_spark()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "window")
        columns = [F.randn(seed=i).alias(name) for i, name in enumerate(NUMERIC)]
        columns += [
            F.element_at(
                F.array(*[F.lit(c) for c in "abcdef"]), (F.rand(9) * 6).cast("int") + 1
            ).alias("category"),
            F.rand(10).alias("fraud_probability"),
            (F.rand(11) < 0.02).cast("int").alias("is_fraud"),
        ]
        spark.range(ROWS).select(*columns).write.parquet(path)
        window = spark.read.parquet(path)

        sample = window.limit(50_000).toPandas()
        baseline = baseline_profile(
            sample,
            sample["fraud_probability"].to_numpy(),
            NUMERIC,
            CATEGORICAL,
            "is_fraud",
            bins=config.monitoring.bins,
            score_bins=config.monitoring.score_bins,
            threshold=0.5,
        )
        columns = [*NUMERIC, "fraud_probability", "is_fraud"]
        buckets = bucket_columns(baseline).values()
        runs = {
            "plain": lambda: window.agg(*map(F.sum, columns), F.count("category")).collect(),
            "bucketing": lambda: window.agg(*map(F.sum, buckets)).collect(),
            "drift": lambda: window_aggregates(
                window, baseline, "is_fraud", config.monitoring.score_bins, 0.5
            ),
        }
        seconds = {name: [] for name in runs}
        for round_ in range(ROUNDS + 1):  # round 0 warms up the JIT and the file cache
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                if round_:
                    seconds[name].append(time.perf_counter() - started)
        plain, bucketing, drift = (float(np.median(seconds[name])) for name in runs)
        # the pipelines' session is a Spark Connect client: the JVM is the local server's
        jvm = SparkSession._instantiatedSession._jvm.java.lang.Runtime.getRuntime()
        jvm.gc()  # what the driver JVM retains, not the garbage it has not collected yet
        jvm_used_mb = (jvm.totalMemory() - jvm.freeMemory()) / 2**20
    print(
        json.dumps(
            {
                "rows": ROWS,
                "features": len(NUMERIC) + len(CATEGORICAL),
                "plain_scan_seconds": round(plain, 2),
                "bucketing_only_seconds": round(bucketing, 2),
                "drift_seconds": round(drift, 2),
                "ratio": round(drift / plain, 2),
                "python_driver_peak_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
                "jvm_driver_heap_retained_mb": round(jvm_used_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
