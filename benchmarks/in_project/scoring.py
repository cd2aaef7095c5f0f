"""Batch scoring of 1M rows: the project's Spark path vs plain `model.predict` (same rows, model).

Runs inside a rendered default project after `run all` (see ../lifecycle.py). Prints JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import mlflow
from fraud_detection.config import load_config
from fraud_detection.features.assemble import model_inputs
from fraud_detection.inference.scoring import score
from fraud_detection.registry import CHAMPION
from fraud_detection.runtime import build_context
from fraud_detection.training.dataset import feature_columns, select_model_features
from pyspark.sql import functions as F

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000


def main() -> None:
    ctx = build_context(load_config("local"))
    cfg, names = ctx.config, ctx.config.tables
    features = feature_columns(cfg)
    inputs = model_inputs(
        ctx.tables.read(names.transaction_features),
        ctx.tables.read(names.customer_features),
        cfg.features.windows_days,
    )
    base = select_model_features(inputs, cfg, extra=[])
    copies = -(-ROWS // base.count())
    # materialized once as Parquet (Spark Connect has no cache()), so runs time the scoring only
    staged = str(Path(tempfile.mkdtemp(prefix="scoring-rows-")) / "rows")
    (
        base.crossJoin(ctx.spark.range(copies).withColumnRenamed("id", "copy"))
        .drop("copy")
        .limit(ROWS)
        .repartition(4)
        .write.parquet(staged)
    )
    rows = ctx.spark.read.parquet(staged)
    assert rows.count() == ROWS

    ctx.tracking.activate()
    version = ctx.tracking.client().get_model_version_by_alias(ctx.tracking.model_name, CHAMPION)
    uri = f"models:/{ctx.tracking.model_name}/{version.version}"
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        scored = score(rows, model_dir, features, cfg.inference.decision_threshold)
        spark_runs = []
        for _ in range(3):  # the first run also starts the Python workers and loads the model
            started = time.perf_counter()
            scored.write.format("noop").mode("overwrite").save()
            spark_runs.append(time.perf_counter() - started)

    frame = rows.select(features).toPandas()
    model = mlflow.pyfunc.load_model(uri)
    pandas_runs = []
    for _ in range(3):
        started = time.perf_counter()
        model.predict(frame)
        pandas_runs.append(time.perf_counter() - started)

    spark_warm, pandas_best = min(spark_runs[1:]), min(pandas_runs)
    print(
        json.dumps(
            {
                "rows": ROWS,
                "spark_seconds_first_run": round(spark_runs[0], 2),
                "spark_seconds_warm": round(spark_warm, 2),
                "pandas_predict_seconds": round(pandas_best, 2),
                "ratio_warm": round(spark_warm / pandas_best, 2),
                "ratio_first_run": round(spark_runs[0] / pandas_best, 2),
                "spark_rows_per_second_warm": int(ROWS / spark_warm),
                "pandas_rows_per_second": int(ROWS / pandas_best),
                "flagged_share": round(scored.agg(F.avg("is_fraud_predicted")).first()[0], 4),
            }
        )
    )


if __name__ == "__main__":
    main()
