"""The steps of the pipeline, in order, and what each one produces. `all` runs them in order."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .config import Config, load_config
from .errors import TableNotFoundError

if TYPE_CHECKING:
    from .runtime import Context

# Steps name their code as "module:function", imported when the step runs: `--help`, `steps`
# and a typo answer at once, without importing Spark, MLflow or scikit-learn.


def load_checked_config(env: str, overrides: dict[str, Any] | None = None) -> Config:
    """The configuration, also checked against what only the steps know (the estimator's
    parameters and their search space), so that a mistake fails before any step starts."""
    from .training.model import check_params, check_search_space

    config = load_config(env, overrides=overrides)
    check_params(config.model.params)
    check_search_space(config.tuning.space)
    return config


@dataclass(frozen=True)
class Step:
    name: str
    code: str  # "module:function" below this package; the function takes the Context
    produces: tuple[str, ...]  # logical table names (attributes of config.tables)
    description: str
    in_all: bool = True  # part of `run all`

    def run(self, ctx: Context) -> dict[str, Any]:
        module, function = self.code.split(":")
        return getattr(import_module(f"{__package__}.{module}"), function)(ctx)

    def produces_tables(self, ctx: Context) -> list[str]:
        return [getattr(ctx.config.tables, name) for name in self.produces]


def retrain_if_alert(ctx: Context) -> dict[str, Any]:
    """On an alert in the newest monitored window: train -> validate -> deploy, once per alert.

    Decided from the monitoring table, which every task can read (a job's task values reach no
    wheel task). Once a model was trained for an alert, the alert is consumed: a failed
    validation stops here and fails the run, and is not retried on the same data.
    """
    from .monitoring.pipeline import latest_window
    from .training.handoff import mark_retrain, registered_version, trained_for_window

    latest = latest_window(ctx)
    enabled = ctx.config.monitoring.retrain_on_alert
    reason = skip_retrain_reason(latest, enabled, lambda window: trained_for_window(ctx, window))
    if reason:
        return {"retrained": f"no ({reason})"}
    window = latest[0]
    run_step("train", ctx)
    mark_retrain(ctx, registered_version(ctx), window)
    results = [run_step(step, ctx) for step in ("validate", "deploy")]
    return {"retrained": f"yes (alert of window {window})", **results[-1].summary}


def skip_retrain_reason(
    latest: tuple[str, str] | None, enabled: bool, trained_for: Callable[[str], str | None]
) -> str | None:
    """Why not to retrain, or None to retrain. `trained_for(window)`: the version already
    trained for that window's alert, if any."""
    if latest is None:
        return "nothing monitored yet"
    from .monitoring.drift import ALERT

    window, status = latest
    if status != ALERT:
        return f"latest monitoring status: {status} (window {window})"
    if not enabled:
        return "monitoring.retrain_on_alert is false"
    done = trained_for(window)
    if done is not None:
        return f"the alert of window {window} was already acted on: v{done}"
    return None


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "data",
            "data.pipeline:generate_raw_data",
            ("raw_customers", "raw_transactions", "raw_labels"),
            "generate synthetic raw data (stands in for ingestion)",
        ),
        Step(
            "features",
            "features.pipeline:build_features",
            ("quarantine", "transaction_features", "customer_features"),
            "data contract, feature computation, upsert into feature tables",
        ),
        Step(
            "train",
            "training.pipeline:train_model",
            (),
            "train, evaluate, log and register a model version",
        ),
        Step(
            "validate",
            "validation.pipeline:validate_model",
            ("evaluations",),
            "compliance and metric checks; alias `challenger` on a pass",
        ),
        Step(
            "deploy",
            "deployment.pipeline:deploy_model",
            (),
            "move `champion` to the validated `challenger`",
        ),
        Step(
            "inference",
            "inference.pipeline:score_batch",
            ("predictions",),
            "score the transactions since the previous batch with `@champion`",
        ),
        Step(
            "stream",
            "inference.stream:score_stream",
            ("stream_predictions",),
            "score the feature rows added since the last run with `@champion` (streaming)",
            in_all=False,
        ),
        Step(
            "monitor",
            "monitoring.pipeline:monitor_window",
            ("monitoring",),
            "drift and performance of the latest window vs the training baseline",
        ),
        Step(
            "retrain",
            "pipelines:retrain_if_alert",
            (),
            "on a monitoring alert: train, validate, deploy",
        ),
        Step(
            "tune",
            "training.tune:tune_model",
            (),
            "search model.params (tuning.space); propose the best, change nothing",
            in_all=False,
        ),
        Step(
            "promote",
            "deployment.pipeline:promote_challenger",
            (),
            "move `champion` to `challenger` after its shadow traffic (through the gate)",
            in_all=False,
        ),
        Step(
            "rollback",
            "deployment.pipeline:rollback_model",
            ("evaluations",),
            "restore the previous champion",
            in_all=False,
        ),
        Step(
            "card",
            "model_card.pipeline:write_alias_cards",
            (),
            "write the model card of every version holding an alias again",
            in_all=False,
        ),
        Step(
            "check",
            "inference.pipeline:check_deployment",
            (),
            "smoke check: a champion exists and wrote predictions",
            in_all=False,
        ),
    )
}


@dataclass
class StepResult:
    step: str
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)


def run_step(name: str, ctx: Context) -> StepResult:
    step = STEPS[name]
    started = time.perf_counter()
    try:
        summary = step.run(ctx)
    except TableNotFoundError as missing:
        producer = producer_of(missing.table, ctx)
        raise TableNotFoundError(
            missing.table, ctx.tables.full_name(missing.table), produced_by=producer
        ) from None
    return StepResult(name, time.perf_counter() - started, summary)


def plan_all(ctx: Context) -> list[str]:
    """`all`: every step, but keep existing raw data (it stands in for a real source)."""
    raw_present = all(ctx.tables.exists(t) for t in STEPS["data"].produces_tables(ctx))
    return [
        name for name, step in STEPS.items() if step.in_all and not (name == "data" and raw_present)
    ]


def producer_of(table_name: str, ctx: Context) -> str | None:
    for step in STEPS.values():
        if table_name in step.produces_tables(ctx):
            return step.name
    return None
