"""scikit-learn's OpenMP threads beside busy processes: spinning waits vs sleeping waits.

    python omp_wait.py [ROWS]        # default 4000

Runs inside a rendered default project (see ../lifecycle.py). Fits the project's model
(`build_model`, 50-400 boosting iterations) on ROWS synthetic rows in a fresh interpreter with
OMP_WAIT_POLICY=ACTIVE (OpenMP's spinning waits, the default of scikit-learn's wheels) and with
PASSIVE (what the package sets), first on a quiet machine, then beside one busy process per core,
as a Spark JVM or a second job would be. Prints JSON: seconds per fit, and PASSIVE / ACTIVE.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time

FIT = """
import time
import numpy as np
import pandas as pd
from fraud_detection.training.model import build_model
rows = {rows}
rng = np.random.default_rng(0)
frame = pd.DataFrame(rng.normal(size=(rows, 11)), columns=[f"f{{i}}" for i in range(11)])
frame["c"] = rng.choice(list("abcdefgh"), rows)
target = (frame.f0 + rng.normal(size=rows) > 2).astype(int)
seconds = []
for iterations in (50, 100, 400):
    model = build_model([f"f{{i}}" for i in range(11)], ["c"], {{"max_iter": iterations}}, 1)
    started = time.perf_counter()
    model.fit(frame, target)
    seconds.append(round(time.perf_counter() - started, 2))
print(round(sum(seconds), 2))
"""


def fit_seconds(policy: str, rows: int) -> float:
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    done = subprocess.run(
        [sys.executable, "-c", FIT.format(rows=rows)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def spin(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    result: dict[str, object] = {"rows": rows, "load_average_at_start": os.getloadavg()[0]}
    for setting in ("quiet", "busy"):
        busy = []
        if setting == "busy":
            stop_at = time.monotonic() + 600
            busy = [
                multiprocessing.Process(target=spin, args=(stop_at,))
                for _ in range(os.cpu_count() or 2)
            ]
            for process in busy:
                process.start()
        try:
            active, passive = fit_seconds("ACTIVE", rows), fit_seconds("PASSIVE", rows)
        finally:
            for process in busy:
                process.terminate()
        result[setting] = {
            "active_s": active,
            "passive_s": passive,
            "passive_over_active": round(passive / active, 2),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
