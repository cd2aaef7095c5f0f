"""Batch shadow: the challenger scores the same batch as the champion, into a table of its own.

Nothing reads these scores to act on a transaction; `monitor` compares them with the champion's
on the same transactions (agreement, scores, and precision and recall once labels arrive:
monitoring/challenger.py), so a new model meets real traffic before any of it depends on it.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..data import schema as s
from ..registry import CHALLENGER
from ..runtime import Context
from ..training.dataset import select_model_features
from .scoring import (
    BATCH_ID,
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTED,
    PROBABILITY,
    SCORED_AT,
    downloaded,
    score,
)


def score_shadow(ctx: Context, inputs: DataFrame, batch_id: str, champion: str) -> str:
    """Score `inputs` (the batch's model inputs) with `@challenger`, if there is one other than
    the champion, and replace the batch's rows of the shadow table. Returns what it did."""
    cfg, names = ctx.config, ctx.config.tables
    if not cfg.inference.shadow:
        return "off (inference.shadow: false)"
    challenger = ctx.tracking.registry().version_by_alias(CHALLENGER)
    if challenger is None or str(challenger.version) == champion:
        return "no challenger"
    name, version = ctx.tracking.model_name, str(challenger.version)
    with downloaded(name, version) as (model_dir, features):
        scored = score(
            select_model_features(inputs, cfg, extra=[], features=features),
            model_dir,
            features.columns,
            cfg.inference.decision_threshold,
        )
        rows = scored.select(
            s.TRANSACTION_ID,
            PROBABILITY,
            PREDICTED,
            F.lit(name).alias(MODEL_NAME),
            F.lit(version).alias(MODEL_VERSION),
            F.current_timestamp().alias(SCORED_AT),
            F.lit(batch_id).alias(BATCH_ID),
        )
        ctx.tables.replace_where(rows, names.shadow_predictions, BATCH_ID, batch_id)
    return f"challenger v{version} scored the same rows ({names.shadow_predictions})"


def shadow_rows(ctx: Context, version: str) -> int:
    """How many transactions `version` has scored in shadow: the traffic it has met."""
    names = ctx.config.tables
    if not ctx.tables.exists(names.shadow_predictions):
        return 0
    mine = ctx.tables.read(names.shadow_predictions).filter(
        (F.col(MODEL_NAME) == ctx.tracking.model_name) & (F.col(MODEL_VERSION) == str(version))
    )
    return mine.select(s.TRANSACTION_ID).distinct().count()
