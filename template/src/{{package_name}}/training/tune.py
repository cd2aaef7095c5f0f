"""The `tune` step: search `model.params` with Optuna and propose the best set, never apply it.

Trials fit on the older training rows and are judged on the newest `tuning.validation_fraction`
of them. The held-out rows that `train` and the gate evaluate on stay unseen, so the gate's
numbers remain honest. The proposal is a YAML file logged with the tuning run: a person reviews
it and copies it into conf/project.yml, and the change then goes through `train` and the gate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mlflow
import optuna
import pandas as pd
import yaml

from ..config import Config, SearchRange
from ..runtime import Context
from ..validation.gate import LOWER_IS_BETTER
from .dataset import feature_columns, time_split
from .evaluate import classification_metrics
from .model import ESTIMATOR, build_model
from .pipeline import load_training_frame, source_lineage

PROPOSAL_ARTIFACT = "proposal.yml"

# on_trial(number, params, value): called after each trial, e.g. to log it as a nested run
TrialHook = Callable[[int, dict[str, Any], float], None]


@dataclass(frozen=True)
class Search:
    metric: str
    current_value: float  # the current model.params, on the same rows as every trial
    best_value: float
    best_params: dict[str, Any]  # the full model.params to propose
    trials: int  # trials that finished (fewer than asked when the time budget ran out)

    @property
    def improved(self) -> bool:
        if self.metric in LOWER_IS_BETTER:
            return self.best_value < self.current_value
        return self.best_value > self.current_value

    @property
    def proposed_params(self) -> dict[str, Any]:
        return self.best_params if self.improved else {}


def tune_model(ctx: Context) -> dict[str, Any]:
    cfg = ctx.config
    lineage = source_lineage(ctx)
    frame = load_training_frame(ctx)
    ctx.tracking.activate()
    with mlflow.start_run(run_name="tune") as parent:
        mlflow.set_tags({**lineage, "step": "tune", "env": cfg.env, "job_run_id": cfg.run.id})
        mlflow.log_dict(cfg.tuning.model_dump(mode="json"), "tuning.json")

        def log_trial(number: int, params: dict[str, Any], value: float) -> None:
            with mlflow.start_run(run_name=f"trial {number}", nested=True):
                mlflow.log_params(params)
                mlflow.log_metric(cfg.tuning.metric, value)

        result = search(frame, cfg, on_trial=log_trial)
        metric = result.metric
        mlflow.log_metrics(
            {f"current_{metric}": result.current_value, f"best_{metric}": result.best_value}
        )
        mlflow.log_text(proposal(result, cfg, parent.info.run_id), PROPOSAL_ARTIFACT)
        proposal_uri = mlflow.get_artifact_uri(PROPOSAL_ARTIFACT)
    changes = {k: v for k, v in result.proposed_params.items() if cfg.model.params.get(k) != v}
    return {
        "run": parent.info.run_id,
        "trials": result.trials,
        f"{result.metric} now": round(result.current_value, 4),
        f"{result.metric} best": round(result.best_value, 4),
        "proposal": proposal_uri,
        "try it": " ".join(f"--set model.params.{k}={v}" for k, v in changes.items())
        or "nothing to change",
    }


def search(frame: pd.DataFrame, config: Config, on_trial: TrialHook | None = None) -> Search:
    """Seeded TPE search of `tuning.space` over the training rows of `frame`."""
    tuning, model = config.tuning, config.model
    train, _ = time_split(frame, model.test_fraction)  # the second part is the gate's: unseen
    fit_rows, judge_rows = time_split(train, tuning.validation_fraction)
    features, target = feature_columns(config), model.target

    def score(params: dict[str, Any]) -> float:
        fitted = build_model(
            model.numeric_features, model.categorical_features, params, config.data.seed
        )
        fitted.fit(fit_rows[features], fit_rows[target])
        scores = fitted.predict_proba(judge_rows[features])[:, 1]
        return classification_metrics(judge_rows[target].to_numpy(), scores)[tuning.metric]

    def objective(trial: optuna.Trial) -> float:
        sampled = {name: _suggest(trial, name, space) for name, space in tuning.space.items()}
        params = {**model.params, **sampled}
        value = score(params)
        trial.set_user_attr("params", params)  # as judged (Optuna keeps the unrounded ones)
        if on_trial is not None:
            on_trial(trial.number, params, value)
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the step reports its own summary
    study = optuna.create_study(
        direction="minimize" if tuning.metric in LOWER_IS_BETTER else "maximize",
        sampler=optuna.samplers.TPESampler(seed=config.data.seed),
    )
    # the parameters in use (the estimator's defaults where model.params is silent) go first:
    # the search starts from them
    current = ESTIMATOR.get_params() | model.params
    study.enqueue_trial(
        {n: current[n] for n, space in tuning.space.items() if _inside(space, current[n])}
    )
    study.optimize(objective, n_trials=tuning.trials, timeout=tuning.timeout_minutes * 60)
    first, best = study.trials[0], study.best_trial
    # the first trial judged exactly the parameters in use, unless one lies outside the space
    in_use = {**model.params, **{name: current[name] for name in tuning.space}}
    same = first.user_attrs["params"] == in_use
    return Search(
        metric=tuning.metric,
        current_value=float(first.value) if same else score(model.params),
        best_value=float(best.value),
        best_params=best.user_attrs["params"],
        trials=len(study.trials),
    )


def proposal(result: Search, config: Config, run_id: str) -> str:
    """The reviewable change: a model.params block to copy into conf/project.yml."""
    direction = "lower" if result.metric in LOWER_IS_BETTER else "higher"
    share = f"{config.tuning.validation_fraction:.0%}"
    header = [
        f"Proposed by `tune` (MLflow run {run_id}, {result.trials} trials, seed "
        f"{config.data.seed}).",
        f"{result.metric} on the newest {share} of the training rows ({direction} is better):",
        f"  current model.params: {result.current_value:.4f}",
        f"  best trial:           {result.best_value:.4f}",
    ]
    if result.improved:
        header += [
            "Nothing was changed. To adopt it, replace model.params in conf/project.yml with the",
            "block below, then run `train`: the gate judges it on the held-out rows.",
        ]
        params = result.best_params
    else:
        header += ["No trial beat the current model.params: keep them (below, unchanged)."]
        params = config.model.params
    comment = "".join(f"# {line}\n" for line in header)
    return comment + yaml.safe_dump({"model": {"params": params}}, sort_keys=False)


def _suggest(trial: optuna.Trial, name: str, space: SearchRange) -> Any:
    if space.choices is not None:
        return trial.suggest_categorical(name, space.choices)
    if space.whole_numbers:
        return trial.suggest_int(name, space.low, space.high, log=space.log)
    # 4 significant digits: the value a person copies is the value that was judged
    value = trial.suggest_float(name, float(space.low), float(space.high), log=space.log)
    return float(f"{value:.4g}")


def _inside(space: SearchRange, value: Any) -> bool:
    if space.choices is not None:
        return value in space.choices
    return isinstance(value, int | float) and space.low <= value <= space.high
