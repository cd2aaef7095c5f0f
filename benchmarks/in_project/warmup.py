"""The local JVM's warm-up: the same Delta calls three times in one fresh process.

    python warmup.py                      # the local runtime as configured
    python warmup.py '{"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}'
    python warmup.py '{...}' scan         # a CPU-heavy 30M-row aggregation instead, 4 times

Runs inside a rendered default project (see ../lifecycle.py), below `/tmp/warmup-root`. Each
round overwrites a 6,000-row table, aggregates it and upserts 500 rows into it; the first round
pays the JVM's class loading and JIT compilation, the later ones show the warm cost. Prints JSON
(seconds: Spark start, then [overwrite, aggregation, upsert] per round).
"""

from __future__ import annotations

import json
import shutil
import sys
import time

import numpy as np
import pandas as pd
from fraud_detection.config import load_config
from fraud_detection.runtime import build_context
from pyspark.sql import functions as F

ROOT = "/tmp/warmup-root"


def scan(ctx) -> list[float]:
    """What the JIT's optimizing compiler is for: a long generated-code loop, warm or not."""
    times = []
    for _ in range(4):
        started = time.perf_counter()
        rows = ctx.spark.range(30_000_000).withColumns({"x": F.rand(1), "k": F.col("id") % 1000})
        rows.groupBy("k").agg(
            F.avg(F.log1p("x")), F.stddev("x"), F.count(F.when(F.col("x") > 0.5, 1))
        ).collect()
        times.append(round(time.perf_counter() - started, 2))
    return times


def main() -> None:
    conf = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    shutil.rmtree(ROOT, ignore_errors=True)
    config = load_config("local", overrides={"runtime": {"root": ROOT, "spark_conf": conf}})
    started = time.perf_counter()
    ctx = build_context(config)
    result = {"spark_conf": conf, "start": round(time.perf_counter() - started, 2)}
    if sys.argv[2:] == ["scan"]:
        print(json.dumps(result | {"scan": scan(ctx)}))
        return
    rows = pd.DataFrame(
        {
            "id": [f"T{i}" for i in range(6000)],
            "k": np.arange(6000) % 50,
            "x": np.random.default_rng(0).random(6000),
        }
    )
    for round_ in range(3):
        times = []
        started = time.perf_counter()
        ctx.tables.overwrite(ctx.spark.createDataFrame(rows), "warmup")
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        ctx.tables.read("warmup").groupBy("k").agg({"x": "avg"}).collect()
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        ctx.tables.upsert(ctx.spark.createDataFrame(rows.head(500)), "warmup", ["id"])
        times.append(time.perf_counter() - started)
        result[f"round {round_ + 1}"] = [round(t, 2) for t in times]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
