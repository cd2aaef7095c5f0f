"""The `stream` step: score new transactions incrementally with Structured Streaming.

The source is the transaction feature table as a Delta stream (the rows `features` appended
since the last run). Each micro-batch is scored as `inference` scores a batch (the same
`model_inputs`, the champion's own inputs, `score`), then merged into the stream predictions
table by transaction id: a micro-batch replayed after a crash rewrites its rows instead of
adding them twice, so every transaction is there once. The checkpoint (how far the source was
read) lives below the local root, or in the project's Unity Catalog volume on Databricks.

`trigger(availableNow=True)`: serverless runs incremental batches only, so a run scores what is
new and stops; a scheduled job makes it near real time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

from ..config import Config
from ..data import schema as s
from ..errors import PipelineError
from ..features.assemble import model_inputs
from ..registry import CHAMPION, require_alias
from ..runtime import Context
from ..runtime.tables import DeltaTables, TableNames
from ..training.dataset import FeatureSet, select_model_features
from .pipeline import NO_CHAMPION_HINT
from .scoring import (
    BATCH_ID,
    MODEL_NAME,
    MODEL_VERSION,
    SCORED_AT,
    downloaded,
    pack_model,
    score_packed,
)

QUERY = "stream_predictions"  # the query's name, and its checkpoint's folder
# Spark gives the foreachBatch Python worker a fixed 10 s to start and connect back (not a
# setting); on a busy machine its imports take longer. Nothing has run when that fails, so the
# start is tried again: a later start finds the imports cached and succeeds.
WORKER_START_ATTEMPTS = 3
WORKER_START_FAILURE = "Python worker failed to connect back"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MicroBatchScorer:
    """What each micro-batch runs (`foreachBatch`). Over Spark Connect it runs in a Python
    process beside the Spark server, so it holds plain values only: the configuration, where
    tables live, and the packed model."""

    config: Config
    names: TableNames
    model: bytes
    features: FeatureSet
    model_name: str
    model_version: str

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        cfg, names = self.config, self.config.tables
        tables = DeltaTables(batch.sparkSession, self.names)
        inputs = model_inputs(
            batch, tables.read(names.customer_features), cfg.features.windows_days
        )
        scored = score_packed(
            select_model_features(inputs, cfg, extra=[], features=self.features),
            self.model,
            self.features.columns,
            cfg.inference.decision_threshold,
            cfg.inference.reasons,
        )
        predictions = scored.select(
            "*",
            F.lit(self.model_name).alias(MODEL_NAME),
            F.lit(self.model_version).alias(MODEL_VERSION),
            F.current_timestamp().alias(SCORED_AT),
            F.lit(f"stream-{batch_id}").alias(BATCH_ID),
        )
        tables.upsert(predictions, names.stream_predictions, [s.TRANSACTION_ID])


def score_stream(ctx: Context) -> dict[str, Any]:
    cfg, names = ctx.config, ctx.config.tables
    client, name = ctx.tracking.client(), ctx.tracking.model_name
    ctx.tracking.activate()
    champion = require_alias(client, name, CHAMPION, NO_CHAMPION_HINT)  # once, at the start
    source = ctx.tables.read_stream(names.transaction_features)
    checkpoint = ctx.tables.checkpoint_location(QUERY)
    check_checkpoint_source(checkpoint, ctx.tables.table_id(names.transaction_features))
    before = _rows(ctx)
    with downloaded(name, champion.version, cfg.inference.reasons) as (model_dir, features):
        scorer = MicroBatchScorer(
            cfg, ctx.tables.names, pack_model(model_dir), features, name, str(champion.version)
        )
        writer = (
            source.writeStream.queryName(QUERY)
            .option("checkpointLocation", checkpoint)
            .trigger(availableNow=True)
            .foreachBatch(scorer)
        )
        started(writer).awaitTermination()
    return {
        "model": f"{name} v{champion.version}",
        "new rows scored": _rows(ctx) - before,
        "checkpoint": checkpoint,
    }


def started(writer: DataStreamWriter) -> StreamingQuery:
    """`writer.start()`, tried again when the foreachBatch worker was too slow to start."""
    for attempt in range(1, WORKER_START_ATTEMPTS):
        try:
            return writer.start()
        except Exception as error:
            if WORKER_START_FAILURE not in str(error):
                raise
            log.warning("the stream's Python worker did not start in time (attempt %d)", attempt)
    return writer.start()


def check_checkpoint_source(checkpoint: str, table_id: str) -> None:
    """Refuse a checkpoint that another source table wrote: its offsets mean nothing here.

    The Delta source records the id of the table it reads (`reservoirId`) in each offset."""
    offsets = Path(checkpoint) / "offsets"
    if not offsets.is_dir():
        return
    files = sorted((f for f in offsets.iterdir() if f.name.isdigit()), key=lambda f: int(f.name))
    if not files:
        return
    for line in files[-1].read_text().splitlines():
        if '"reservoirId"' in line:
            recorded = json.loads(line)["reservoirId"]
            if recorded != table_id:
                raise PipelineError(
                    f"the stream checkpoint {checkpoint} belongs to a query over another table "
                    f"(table id {recorded}, not {table_id}: the feature table was recreated, "
                    "or the folder was copied). Delete the checkpoint folder to score the "
                    "table from its start (rows already scored are rewritten, not duplicated)."
                )


def _rows(ctx: Context) -> int:
    table = ctx.config.tables.stream_predictions
    return ctx.tables.read(table).count() if ctx.tables.exists(table) else 0
