"""The `inference` step: score a window of transactions with `@champion`; and the `check` step."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..data import schema as s
from ..errors import PipelineError
from ..features.assemble import model_inputs
from ..registry import CHAMPION, require_alias
from ..runtime import Context
from ..training.dataset import select_model_features
from .scoring import (
    BATCH_ID,
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTED,
    SCORED_AT,
    downloaded,
    score,
)
from .shadow import score_shadow

NO_CHAMPION_HINT = "Run `validate` and `deploy` first (or `run all`)."


def score_batch(ctx: Context) -> dict[str, Any]:
    cfg, names = ctx.config, ctx.config.tables
    client, name = ctx.tracking.client(), ctx.tracking.model_name
    ctx.tracking.activate()
    champion = require_alias(client, name, CHAMPION, NO_CHAMPION_HINT)

    transactions = ctx.tables.read(names.transaction_features)
    last_day = _batch_date(transactions, cfg.inference.batch_date)
    first_day = _first_unscored_day(ctx, last_day, cfg.inference.window_days)
    window = transactions.filter(F.to_date(s.EVENT_TS).between(F.lit(first_day), F.lit(last_day)))
    inputs = model_inputs(
        window, ctx.tables.read(names.customer_features), cfg.features.windows_days
    )
    batch_id = last_day.isoformat()
    if window.isEmpty():
        raise PipelineError(
            f"no transactions between {first_day} and {last_day} in "
            f"'{ctx.tables.full_name(names.transaction_features)}': nothing to score. "
            "Check inference.batch_date and that the `features` step ran on new data."
        )
    with downloaded(name, champion.version, cfg.inference.reasons) as (model_dir, features):
        scored = score(
            select_model_features(inputs, cfg, extra=[], features=features),
            model_dir,
            features.columns,
            cfg.inference.decision_threshold,
            cfg.inference.reasons,
        )
        predictions = scored.select(
            "*",
            F.lit(name).alias(MODEL_NAME),
            F.lit(str(champion.version)).alias(MODEL_VERSION),
            F.current_timestamp().alias(SCORED_AT),
            F.lit(batch_id).alias(BATCH_ID),
        )
        ctx.tables.replace_where(predictions, names.predictions, BATCH_ID, batch_id)
    shadow = score_shadow(ctx, inputs, batch_id, str(champion.version))
    batch = ctx.tables.read(names.predictions).filter(F.col(BATCH_ID) == batch_id)
    stats = batch.agg(F.count("*").alias("rows"), F.avg(PREDICTED).alias("flagged")).first()
    return {
        "batch": f"{first_day} .. {batch_id}",
        "model": f"{name} v{champion.version}",
        "rows": stats["rows"],
        "flagged": f"{(stats['flagged'] or 0):.2%}",
        "shadow": shadow,
    }


def check_deployment(ctx: Context) -> dict[str, Any]:
    """Smoke check after a deployment: a champion exists and it has written predictions."""
    client, name = ctx.tracking.client(), ctx.tracking.model_name
    champion = require_alias(client, name, CHAMPION, NO_CHAMPION_HINT)
    written = (
        ctx.tables.read(ctx.config.tables.predictions)
        .filter(F.col(MODEL_VERSION) == str(champion.version))
        .count()
    )
    if written == 0:
        raise PipelineError(
            f"champion {name} v{champion.version} has written no predictions to "
            f"'{ctx.tables.full_name(ctx.config.tables.predictions)}'. Run the `inference` step."
        )
    return {"champion": f"v{champion.version}", "predictions": written}


def _first_unscored_day(ctx: Context, last_day: date, window_days: int) -> date:
    """The batch's first day: `window_days` back, but after the newest earlier batch, so that
    batches never overlap and each transaction is scored once (and monitored in one window).
    Re-running a batch recomputes the same window: only earlier batches bound it."""
    first_day = last_day - timedelta(days=window_days - 1)
    predictions = ctx.config.tables.predictions
    if not ctx.tables.exists(predictions):
        return first_day
    earlier = ctx.tables.read(predictions).filter(F.col(BATCH_ID) < last_day.isoformat())
    newest = earlier.agg(F.max(BATCH_ID)).first()[0]
    if newest is None:
        return first_day
    return max(first_day, date.fromisoformat(newest) + timedelta(days=1))


def _batch_date(transactions: DataFrame, configured: str | None) -> date:
    if configured:
        return date.fromisoformat(configured)
    newest = transactions.agg(F.max(F.to_date(s.EVENT_TS))).first()[0]
    if newest is None:
        raise PipelineError("the transaction feature table is empty: nothing to score.")
    return newest
