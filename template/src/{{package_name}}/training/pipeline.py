"""The `train` step: point-in-time training set, fit, held-out evaluation, log and register."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from skops import io as skops_io

from ..config import Config
from ..model_card.pipeline import write_card
from ..monitoring.profile import BASELINE_ARTIFACT, baseline_profile
from ..runtime import Context
from ..runtime.tracking import GIT_COMMIT_TAG, RUN_GIT_COMMIT_TAG, code_version
from .dataset import FeatureSet, feature_columns, time_split, training_set
from .evaluate import classification_metrics
from .explain import REFERENCE_KEY, log_global_importance, reference_values
from .handoff import record_registration
from .lineage import lineage_tags
from .model import build_model
from .packaging import input_example, model_signature, nullable_features, pip_requirements

MODEL_DESCRIPTION = (
    "Card-transaction fraud classifier. Input: one row per transaction with the features listed "
    "in the signature. Output: [P(legitimate), P(fraud)] per row."
)


@dataclass(frozen=True)
class TrainedModel:
    model: Pipeline
    metrics: dict[str, float]
    train: pd.DataFrame
    test: pd.DataFrame
    test_scores: np.ndarray


def train_model(ctx: Context) -> dict[str, Any]:
    lineage = source_lineage(ctx)  # versions read before the data: they describe what was used
    frame = load_training_frame(ctx)
    trained = fit_and_evaluate(frame, ctx.config)
    version, run_id = log_and_register(ctx, trained, lineage)
    return {
        "model": f"{ctx.tracking.model_name} v{version}",
        "run": run_id,
        "train/test rows": f"{len(trained.train)}/{len(trained.test)}",
        "roc_auc": round(trained.metrics["roc_auc"], 4),
        "precision_recall_auc": round(trained.metrics["precision_recall_auc"], 4),
    }


def training_sources(config: Config) -> list[str]:
    names = config.tables
    return [names.raw_labels, names.transaction_features, names.customer_features]


def source_lineage(ctx: Context) -> dict[str, str]:
    return lineage_tags(ctx, training_sources(ctx.config))


def load_training_frame(ctx: Context, features: FeatureSet | None = None, **kwargs) -> pd.DataFrame:
    """The labelled rows with `features` (default: the configured ones); `kwargs` go to
    `training_set`."""
    sources = (ctx.tables.read(t) for t in training_sources(ctx.config))
    return training_set(*sources, ctx.config, features, **kwargs).toPandas()


def fit_and_evaluate(frame: pd.DataFrame, config: Config) -> TrainedModel:
    train, test = time_split(frame, config.model.test_fraction)
    features, target = feature_columns(config), config.model.target
    model = build_model(
        config.model.numeric_features,
        config.model.categorical_features,
        config.model.params,
        config.data.seed,
    )
    model.fit(train[features], train[target])
    scores = model.predict_proba(test[features])[:, 1]
    metrics = classification_metrics(test[target].to_numpy(), scores)
    return TrainedModel(model, metrics, train, test, scores)


def log_and_register(
    ctx: Context, trained: TrainedModel, lineage: dict[str, str]
) -> tuple[str, str]:
    """Log the model with signature, input example, metrics and lineage; register a version
    and hand it to this job run's validate and deploy."""
    cfg = ctx.config
    features = feature_columns(cfg)
    commit = code_version(cfg.run.git_commit)
    ctx.tracking.activate()
    with mlflow.start_run(run_name="train") as run:
        run_tags = {**lineage, "step": "train", "env": cfg.env, "job_run_id": cfg.run.id}
        mlflow.set_tags(run_tags | ({RUN_GIT_COMMIT_TAG: commit} if commit else {}))
        mlflow.log_params(
            {**cfg.model.params, "features": ",".join(features), "train_rows": len(trained.train)}
            | {"test_rows": len(trained.test), "estimator": type(trained.model[-1]).__name__}
            | {"nullable_features": ",".join(nullable_features(trained.train, features))}
        )
        mlflow.log_metrics(trained.metrics)
        # what the monitor compares scoring windows with: the held-out data and its scores
        mlflow.log_dict(_monitoring_baseline(trained, cfg), BASELINE_ARTIFACT)
        target, seed = cfg.model.target, cfg.data.seed
        log_global_importance(trained.model, trained.test, features, target, seed)
        example = input_example(trained.train, features)
        info = mlflow.sklearn.log_model(
            trained.model,
            name="model",
            signature=model_signature(trained.model, example),
            input_example=example,
            pip_requirements=pip_requirements(),
            pyfunc_predict_fn="predict_proba",
            # what top reasons reset each input to (inference.reasons, the REST `reasons`)
            metadata={REFERENCE_KEY: _reference(trained, cfg)},
            serialization_format="skops",
            # trust exactly the types of the object we just trained, nothing more
            skops_trusted_types=skops_io.get_untrusted_types(data=skops_io.dumps(trained.model)),
        )
    tags = {**lineage, "run_id": run.info.run_id, "job_run_id": cfg.run.id}
    version = ctx.tracking.registry().register(
        info.model_uri, MODEL_DESCRIPTION, tags | ({GIT_COMMIT_TAG: commit} if commit else {})
    )
    record_registration(ctx, version.version, commit)
    write_card(ctx, version.version)  # the facts of training; validate adds its checks
    return str(version.version), run.info.run_id


def _reference(trained: TrainedModel, cfg: Config) -> dict[str, Any]:
    numeric, categorical = cfg.model.numeric_features, cfg.model.categorical_features
    return reference_values(trained.train, numeric, categorical)


def _monitoring_baseline(trained: TrainedModel, cfg: Config) -> dict[str, Any]:
    return baseline_profile(
        trained.test,
        trained.test_scores,
        cfg.model.numeric_features,
        cfg.model.categorical_features,
        cfg.model.target,
        bins=cfg.monitoring.bins,
        score_bins=cfg.monitoring.score_bins,
        threshold=cfg.inference.decision_threshold,
    )
