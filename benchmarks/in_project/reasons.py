"""Top reasons vs plain scoring: the same champion on the same rows, pandas path (what each
Arrow batch of the `inference` step and each REST request does). Also the cost `train` pays
for the global importance of a version (permutation importance on the held-out rows).

Runs inside a rendered default project after `run all` (the champion must carry its reference
values, i.e. be trained by this template version). Prints JSON.
Usage: python reasons.py [rows] [top_n]
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime

import mlflow
import numpy as np
from fraud_detection.config import load_config
from fraud_detection.inference.scoring import raw_fraud_score
from fraud_detection.registry import CHAMPION
from fraud_detection.runtime import build_context
from fraud_detection.training.dataset import time_split
from fraud_detection.training.explain import REFERENCE_KEY, global_importance, top_reasons
from fraud_detection.training.pipeline import load_training_frame

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
TOP = int(sys.argv[2]) if len(sys.argv) > 2 else 3
REPEATS = 3


def best_of(action) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    load = os.getloadavg()[0]
    ctx = build_context(load_config("local"))
    ctx.tracking.activate()
    version = ctx.tracking.client().get_model_version_by_alias(ctx.tracking.model_name, CHAMPION)
    model = mlflow.pyfunc.load_model(f"models:/{ctx.tracking.model_name}/{version.version}")
    reference = model.metadata.metadata[REFERENCE_KEY]
    features = [spec.name for spec in model.metadata.get_input_schema().inputs]
    labelled = load_training_frame(ctx)
    frame = labelled[features]
    rows = frame.sample(n=ROWS, replace=len(frame) < ROWS, random_state=0).reset_index(drop=True)
    _, test = time_split(labelled, ctx.config.model.test_fraction)
    ctx.spark.stop()  # the rest is pandas: no JVM competing for the 2 cores

    sklearn_model = model.get_raw_model()  # the fitted scikit-learn pipeline, as `train` has it
    started = time.perf_counter()
    global_importance(sklearn_model, test, features, ctx.config.model.target, seed=0)
    importance = time.perf_counter() - started

    def score():
        return np.asarray(model.predict(rows))[:, 1]

    def score_with_reasons():  # as each Arrow batch of `inference` does with inference.reasons
        return top_reasons(raw_fraud_score(model), rows, reference, TOP, score())

    plain, with_reasons = best_of(score), best_of(score_with_reasons)
    print(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "load_average_1m": round(load, 2),
                "rows": ROWS,
                "features": len(features),
                "top_n": TOP,
                "plain_seconds": round(plain, 3),
                "with_reasons_seconds": round(with_reasons, 3),
                "ratio": round(with_reasons / plain, 2),
                "reasons_rows_per_second": int(ROWS / with_reasons),
                "global_importance_seconds": round(importance, 2),
                "held_out_rows": len(test),
                "example": top_reasons(raw_fraud_score(model), rows.head(3), reference, TOP),
            }
        )
    )


if __name__ == "__main__":
    main()
