"""`features` and `inference` on N generated transactions: wall time and driver memory.

    python scale.py 1000000 prepare     # data (N transactions), features, train, validate, deploy
    python scale.py 1000000 features    # then each measured step in a fresh process
    python scale.py 1000000 inference

Runs inside a rendered default project (see ../lifecycle.py), below `.local-scale-<N>/`. Each
measured step runs alone in its process, so its peak Python RSS is the step's own; the JVM
figure is the peak heap use of the local Spark driver (its memory pools' high-water marks).
Prints JSON.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from fraud_detection.config import load_config
from fraud_detection.pipelines import run_step
from fraud_detection.runtime import build_context
from pyspark.sql import SparkSession

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
PHASE = sys.argv[2] if len(sys.argv) > 2 else "features"
STEPS = {"prepare": ["data", "features", "train", "validate", "deploy"]}


def jvm_peak_heap_mb() -> float:
    # the pipelines hold a Spark Connect client; the driver JVM is this process's local server
    jvm = SparkSession._instantiatedSession._jvm
    pools = jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans()
    heap = jvm.java.lang.management.MemoryType.HEAP
    return sum(p.getPeakUsage().getUsed() for p in pools if p.getType() == heap) / 2**20


def main() -> None:
    root = f".local-scale-{ROWS}"
    config = load_config(
        "local",
        overrides={
            "runtime": {"root": root},
            "monitoring": {"report_dir": f"{root}/reports"},
            "data": {"n_transactions": ROWS, "n_customers": max(2000, ROWS // 50)},
        },
    )
    started = time.perf_counter()
    ctx = build_context(config)
    start_seconds = time.perf_counter() - started
    seconds = {}
    for step in STEPS.get(PHASE, [PHASE]):
        started = time.perf_counter()
        run_step(step, ctx)
        seconds[step] = round(time.perf_counter() - started, 1)
    print(
        json.dumps(
            {
                "rows": ROWS,
                "phase": PHASE,
                "spark_start_seconds": round(start_seconds, 1),
                "step_seconds": seconds,
                "python_peak_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
                "jvm_driver_peak_heap_mb": round(jvm_peak_heap_mb(), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
