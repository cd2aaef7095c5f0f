"""The inference log of the `serve` server: one row per request and model that scored it, in a Delta
table (`tables.inference_log`), written off the request path.

A request only puts its rows on a bounded in-memory queue (microseconds); one background thread
takes what has queued every `flush_seconds` (5) and appends it in one Delta commit through the
project's table adapter, with the same Spark as the pipelines (started by that thread, so the
server answers while Spark starts). `close()` writes what is left: the server calls it on
shutdown, Ctrl-C and SIGTERM included. Nothing here ever fails a request: when the queue is full
or a write fails, rows are dropped, counted (`dropped`) and the reason is logged.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from ..runtime.context import Context

log = logging.getLogger(__name__)

SCHEMA = (
    "request_id STRING, logged_at TIMESTAMP, request_key STRING, strategy STRING, role STRING, "
    "model_name STRING, model_version STRING, answered BOOLEAN, rows INT, scores ARRAY<DOUBLE>, "
    "latency_ms DOUBLE, transaction_ids ARRAY<STRING>, batch_id STRING"
)
COLUMNS = [part.split()[0] for part in SCHEMA.split(", ")]
BATCH = "batch_id"  # one flush: rewriting a batch replaces it, so a retried flush never doubles


def entry(
    request_id: str,
    request_key: str | None,
    strategy: str,
    role: str,
    model: Any,
    answered: bool,
    scores: list[float],
    latency_ms: float,
    transaction_ids: list[str | None],
) -> dict[str, Any]:
    """One row of the log: what `model` (name, version) scored for one request. The request's
    transaction ids (when its rows carry them) let `monitor` join labels as they arrive."""
    return {
        "request_id": request_id, "logged_at": datetime.now(UTC), "request_key": request_key,
        "strategy": strategy, "role": role, "model_name": model.name,
        "model_version": model.version, "answered": answered, "rows": len(scores),
        "scores": scores, "latency_ms": latency_ms, "transaction_ids": transaction_ids,
    }  # fmt: skip


def logged_rows(ctx: Context, role: str, version: str) -> int:
    """How many rows `version` scored as `role` in the inference log: the online traffic it met."""
    table = ctx.config.tables.inference_log
    if not ctx.tables.exists(table):
        return 0
    mine = ctx.tables.read(table).filter(
        (F.col("role") == role)
        & (F.col("model_name") == ctx.tracking.model_name)
        & (F.col("model_version") == str(version))
    )
    return mine.agg(F.sum("rows")).first()[0] or 0


class RequestLog:
    def __init__(
        self,
        open_context: Callable[[], Context],
        table: str,
        flush_seconds: float = 5.0,  # each flush is one Delta commit: a JVM job, not free
        max_pending: int = 200_000,
    ) -> None:
        self.table = table
        self.written = self.dropped = 0
        self.problem: str | None = None  # why rows are not written, while they are not
        self._open = open_context
        self._flush_seconds = flush_seconds
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_pending)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inference-log", daemon=True)

    def start(self) -> RequestLog:
        self._thread.start()
        return self

    def record(self, row: dict[str, Any]) -> None:
        """Queue a row; never blocks (a full queue drops it, counted)."""
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._drop(1, "the inference log fell behind (its queue is full)")

    def close(self, timeout: float = 120) -> None:
        """Write every queued row, then stop (waits for Spark to start if it has not yet).

        Bounded: a Spark stopped before the server (a SIGTERM sent to the whole process group
        reaches the local Spark's JVM too) cannot take the last rows; they are lost after
        `timeout`, and the server still exits."""
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the inference log did not finish writing within %.0f s", timeout)

    def status(self) -> dict[str, Any]:
        return {
            "table": self.table, "written": self.written, "pending": self._queue.qsize(),
            "dropped": self.dropped, "problem": self.problem,
        }  # fmt: skip

    def _run(self) -> None:
        try:
            ctx = self._open()
        except Exception as exc:  # no Spark (no Java, no Delta jars): serve anyway, say why
            self.problem = f"the inference log cannot open its table: {exc}"
            log.error("%s; requests are served but not logged", self.problem)
            ctx = None
        while True:
            stopping = self._stop.wait(self._flush_seconds)
            rows = self._take()
            if rows and ctx is None:
                self._drop(len(rows), self.problem or "no table")
            elif rows:
                self._write(ctx, rows)
            if stopping and self._queue.empty():
                return

    def _take(self) -> list[dict[str, Any]]:
        rows = []
        while True:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                return rows

    def _write(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        batch = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"  # sorts in time: data skipping
        frame = pd.DataFrame(rows, columns=COLUMNS[:-1]).assign(**{BATCH: batch})
        try:
            df = ctx.spark.createDataFrame(frame, schema=SCHEMA)
            ctx.tables.replace_where(df, self.table, BATCH, batch)
        except Exception as exc:
            log.exception("the inference log failed to write %d rows", len(rows))
            self._drop(len(rows), f"a write failed: {type(exc).__name__}")
            return
        self.written += len(rows)
        self.problem = None

    def _drop(self, count: int, reason: str) -> None:
        if not self.dropped:
            log.warning("inference log rows dropped: %s", reason)
        self.dropped += count
