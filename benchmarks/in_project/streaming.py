"""Streaming inference vs batch inference on the same N transactions (issue 14's figure).

    python scale.py 1000000 prepare     # once: data, features, train, validate, deploy
    python streaming.py 1000000         # then this, in the same rendered project
    python streaming.py 1000000 stream-first   # the same, the stream timed first

Runs inside a rendered default project, on the tables of `scale.py` (below `.local-scale-<N>/`).
Both score every transaction feature row with `@champion`:

- batch: the `inference` step with `inference.window_days` covering the whole history, so its
  batch is every row (its batch is replaced, so re-running is safe);
- stream: the `stream` step from a fresh checkpoint and an empty predictions table, so its one
  `availableNow` run reads the whole table as new rows.

One Spark session serves both, started before either is timed. The first one timed also pays
for starting Python workers and loading the model: run both orders. Prints JSON: seconds, rows
and rows per second of each, and stream / batch.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from fraud_detection.config import load_config
from fraud_detection.inference.stream import QUERY
from fraud_detection.pipelines import run_step
from fraud_detection.runtime import build_context

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
STREAM_FIRST = sys.argv[2:3] == ["stream-first"]


def timed(step: str, ctx) -> float:
    started = time.perf_counter()
    run_step(step, ctx)
    return time.perf_counter() - started


def main() -> None:
    root = f".local-scale-{ROWS}"
    if not Path(root).exists():
        sys.exit(f"{root} is missing: run `python scale.py {ROWS} prepare` first")
    base = load_config("local", overrides={"runtime": {"root": root}})
    config = load_config(
        "local",
        overrides={
            "runtime": {"root": root},
            "monitoring": {"report_dir": f"{root}/reports"},
            "inference": {"window_days": base.data.days + 1, "shadow": False},
        },
    )
    ctx = build_context(config)
    names = config.tables
    source_rows = ctx.tables.read(names.transaction_features).count()

    def batch() -> tuple[float, int]:
        seconds = timed("inference", ctx)
        predictions = ctx.tables.read(names.predictions)
        batch_id = predictions.agg({"batch_id": "max"}).first()[0]
        return seconds, predictions.filter(f"batch_id = '{batch_id}'").count()

    def stream() -> tuple[float, int]:
        shutil.rmtree(ctx.tables.checkpoint_location(QUERY), ignore_errors=True)
        # local tables are path-based: removing the folder removes the table
        shutil.rmtree(Path(root) / "tables" / names.stream_predictions, ignore_errors=True)
        seconds = timed("stream", ctx)
        return seconds, ctx.tables.read(names.stream_predictions).count()

    if STREAM_FIRST:
        stream_seconds, stream_rows = stream()
        batch_seconds, batch_rows = batch()
    else:
        batch_seconds, batch_rows = batch()
        stream_seconds, stream_rows = stream()

    print(
        json.dumps(
            {
                "transaction_feature_rows": source_rows,
                "timed_first": "stream" if STREAM_FIRST else "batch",
                "batch": {
                    "seconds": round(batch_seconds, 1),
                    "rows": batch_rows,
                    "rows_per_second": round(batch_rows / batch_seconds),
                },
                "stream": {
                    "seconds": round(stream_seconds, 1),
                    "rows": stream_rows,
                    "rows_per_second": round(stream_rows / stream_seconds),
                },
                "stream_over_batch": round(stream_seconds / batch_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
