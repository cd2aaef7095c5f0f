"""The `monitor` and `retrain` steps.

`monitor` compares a scoring window (the predictions of one batch, or of the stream's last days:
monitoring.source; with labels once they arrive) with the champion's training baseline, writes
one row per metric, an HTML report and a status.
`retrain` (pipelines.py) reads the monitoring table to decide whether to retrain.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..data import schema as s
from ..data.attributes import missing_attribute, present_attributes, transaction_attributes
from ..errors import PipelineError
from ..inference.pipeline import BATCH_ID, NO_CHAMPION_HINT
from ..inference.scoring import PREDICTED
from ..registry import CHAMPION, require_alias
from ..runtime import Context
from .challenger import KIND as CHALLENGER_KIND
from .challenger import challenger_rows, online_rows
from .drift import ALERT, OK, MetricRow, drift_rows, performance_rows, worst
from .fairness import COUNT, fairness_rows, group_table, window_gaps
from .profile import BASELINE_ARTIFACT, window_aggregates
from .report import render_report

log = logging.getLogger(__name__)


class MonitoringError(PipelineError):
    exit_code = 5


def monitor_window(ctx: Context) -> dict[str, Any]:
    cfg, names, rules = ctx.config, ctx.config.tables, ctx.config.monitoring
    ctx.tracking.activate()
    client, name = ctx.tracking.client(), ctx.tracking.model_name
    champion = require_alias(client, name, CHAMPION, NO_CHAMPION_HINT)
    baseline = _load_baseline(champion)

    batch_id, scored = scored_window(ctx)
    labels = ctx.tables.read(names.raw_labels).select(s.TRANSACTION_ID, cfg.model.target)
    window = scored.join(labels, s.TRANSACTION_ID, "left")
    aggregates = window_aggregates(
        window, baseline, cfg.model.target, rules.score_bins, cfg.inference.decision_threshold
    )
    if aggregates["rows"] < rules.min_rows:
        raise MonitoringError(
            f"window {batch_id} has {aggregates['rows']} rows, fewer than monitoring.min_rows="
            f"{rules.min_rows}: too few for a verdict. Nothing was written."
        )

    rows = drift_rows(baseline, aggregates, rules) + performance_rows(baseline, aggregates, rules)
    gaps = _fairness_gaps(ctx, window)
    rows += fairness_rows(gaps, cfg.fairness)
    status = worst([r.status for r in rows])
    # the challenger's comparisons describe it, never judge the window: no status
    rows += _challenger_rows(ctx, window, batch_id)
    rows += _online_rows(ctx, labels, str(champion.version))
    labelled = sum(aggregates["label"]["counts"])
    title = f"Monitoring {name} v{champion.version}, window {batch_id}"
    report = render_report(title, status, rows, baseline, aggregates)
    with mlflow.start_run(run_name=f"monitor {batch_id}"):
        mlflow.set_tags({"step": "monitor", "window": batch_id, "status": status})
        mlflow.log_metrics({_series(r): r.value for r in rows if r.value is not None})
        mlflow.log_text(report, f"monitoring/report-{batch_id}.html")
        if gaps:
            mlflow.log_table(group_table(gaps), f"monitoring/fairness-{batch_id}.json")
    _write_rows(ctx, rows, batch_id, str(champion.version), aggregates["rows"])
    saved = _save_report(rules.report_dir, batch_id, report)
    alerts = sorted({f"{r.feature}.{r.metric}" for r in rows if r.status == ALERT})
    agreement = [r for r in rows if r.kind == CHALLENGER_KIND and r.metric == "agreement"]
    summary = {
        "status": status,
        "window": f"{batch_id}: {aggregates['rows']} rows, {labelled} labelled",
        "alerts": ", ".join(alerts) or "none",
        "report": saved or "in MLflow",
        **{f"{r.feature}: agreement": _percent(r.value) for r in agreement},
    }
    if status != OK and rules.webhook_url:
        _notify(rules.webhook_url, {"model": name, "version": str(champion.version), **summary})
    return summary


def scored_window(ctx: Context) -> tuple[str, DataFrame]:
    """The window `monitor` judges (monitoring.source) and its id: the newest batch of
    `inference`, or the last inference.window_days days of transactions `stream` scored."""
    names = ctx.config.tables
    if ctx.config.monitoring.source == "batch":
        # absent: the adapter's error names the step that writes it
        predictions = ctx.tables.read(names.predictions)
        batch_id = predictions.agg(F.max(BATCH_ID)).first()[0]
        if batch_id is None:
            raise MonitoringError(_empty(ctx, names.predictions, "inference"))
        return batch_id, predictions.filter(F.col(BATCH_ID) == batch_id)
    predictions = ctx.tables.read(names.stream_predictions)
    day = F.to_date(s.EVENT_TS)
    last = predictions.agg(F.max(day)).first()[0]
    if last is None:
        raise MonitoringError(_empty(ctx, names.stream_predictions, "stream"))
    first = last - timedelta(days=ctx.config.inference.window_days - 1)
    return f"stream-{last.isoformat()}", predictions.filter(day.between(first, last))


def _empty(ctx: Context, table: str, step: str) -> str:
    return f"'{ctx.tables.full_name(table)}' is empty: run `{step}` first."


def latest_window(ctx: Context) -> tuple[str, str] | None:
    """(window id, status) of the newest monitored window, or None when nothing was monitored."""
    names = ctx.config.tables
    if not ctx.tables.exists(names.monitoring):
        return None
    table = ctx.tables.read(names.monitoring)
    newest = table.agg(F.max("monitored_at")).first()[0]
    if newest is None:
        return None
    rows = table.filter(F.col("monitored_at") == newest).select("window_id", "status").distinct()
    rows = rows.collect()  # one window: a handful of statuses
    return rows[0].window_id, worst([r.status for r in rows])


def _series(row: MetricRow) -> str:
    """The MLflow metric of a row. A fairness row's feature also names the worse-off group
    (`age_band=18-29`), which may change between windows: its series is per attribute."""
    return f"{row.feature.split('=')[0]}.{row.metric}"


def _fairness_gaps(ctx: Context, window):
    """The fairness gate's gaps on the labelled rows of the window, from counts per group."""
    cfg, rules = ctx.config, ctx.config.fairness
    present, missing = present_attributes(ctx, rules.attributes)
    for attribute in missing:
        log.warning("fairness of %s %s", attribute, missing_attribute(ctx, attribute))
    if not present:
        return []
    rules = rules.model_copy(update={"attributes": present})
    attributes = transaction_attributes(ctx, present).drop(s.EVENT_TS)
    counts = (
        window.filter(F.col(cfg.model.target).isNotNull())
        .join(attributes, s.TRANSACTION_ID, "left")
        .groupBy(*present, cfg.model.target, PREDICTED)
        .agg(F.count("*").alias(COUNT))
        .toPandas()  # groups x 2 labels x 2 decisions: a few dozen rows
    )
    return window_gaps(counts, rules, cfg.model.target, PREDICTED)


def _challenger_rows(ctx: Context, window, batch_id: str) -> list[MetricRow]:
    """The batch shadow's comparison, when a challenger scored this window."""
    names = ctx.config.tables
    if not ctx.tables.exists(names.shadow_predictions):
        return []
    shadow = ctx.tables.read(names.shadow_predictions).filter(F.col(BATCH_ID) == batch_id)
    return challenger_rows(window, shadow, ctx.config.model.target)


def _online_rows(ctx: Context, labels: DataFrame, champion: str) -> list[MetricRow]:
    """The inference log's comparisons (`serve` under canary or shadow), over the same days as a
    batch (inference.window_days), with the `labels` that have arrived."""
    cfg, names = ctx.config, ctx.config.tables
    if not ctx.tables.exists(names.inference_log):
        return []
    return online_rows(
        ctx.tables.read(names.inference_log).filter(F.col("model_name") == ctx.tracking.model_name),
        labels,
        cfg.model.target,
        champion,
        cfg.inference.decision_threshold,
        cfg.inference.window_days,
    )


def _percent(value: float | None) -> str:
    return "no data (disjoint rows)" if value is None else f"{value:.2%}"


def _load_baseline(champion) -> dict[str, Any]:
    run_id = champion.run_id or champion.tags.get("run_id")
    try:
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{BASELINE_ARTIFACT}")
    except Exception as exc:
        raise MonitoringError(
            f"champion v{champion.version} has no monitoring baseline ({BASELINE_ARTIFACT} in "
            f"run {run_id}): retrain and deploy a model with this project version. ({exc})"
        ) from None


def _write_rows(ctx: Context, rows: list[MetricRow], batch_id: str, version: str, n: int) -> None:
    """All rows of a window in one atomic replace: no partial windows, re-runs replace."""
    frame = pd.DataFrame(
        {
            "window_id": batch_id,
            "model_version": version,
            "feature": [r.feature for r in rows],
            "kind": [r.kind for r in rows],
            "metric": [r.metric for r in rows],
            "value": [r.value for r in rows],
            "warn": [r.warn for r in rows],
            "alert": [r.alert for r in rows],
            "status": [r.status for r in rows],
            "window_rows": n,
            "monitored_at": datetime.now(UTC),
        }
    ).astype({"value": "float64"})
    ctx.tables.replace_where(
        ctx.spark.createDataFrame(frame), ctx.config.tables.monitoring, "window_id", batch_id
    )


def _save_report(report_dir: str | None, batch_id: str, report: str) -> str | None:
    if not report_dir:
        return None
    path = Path(report_dir) / f"monitoring-{batch_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report)
    return str(path)


def _notify(url: str, payload: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except OSError as exc:  # a broken webhook must not hide the verdict
        log.warning("monitoring webhook %s failed: %s", url, exc)
