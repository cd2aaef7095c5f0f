"""The `train` step: point-in-time training set, fit, held-out evaluation, log and register."""

from __future__ import annotations

import subprocess
from typing import Any

import mlflow
from mlflow.models import infer_signature
from skops import io as skops_io

from ..runtime import Context
from .dataset import feature_columns, time_split, training_set
from .evaluate import classification_metrics
from .model import build_model

MODEL_DESCRIPTION = (
    "Card-transaction fraud classifier. Input: one row per transaction with the features listed "
    "in the signature. Output: [P(legitimate), P(fraud)] per row."
)


def train_model(ctx: Context) -> dict[str, Any]:
    cfg, names, tables = ctx.config, ctx.config.tables, ctx.tables
    sources = [names.raw_labels, names.transaction_features, names.customer_features]
    lineage = {}
    for table in sources:  # versions read before the data, so they describe what was used
        lineage[f"lineage.{table}.table"] = tables.full_name(table)
        lineage[f"lineage.{table}.version"] = str(tables.version(table))
    frame = training_set(*(tables.read(t) for t in sources), cfg).toPandas()
    train, test = time_split(frame, cfg.model.test_fraction)

    features, target = feature_columns(cfg), cfg.model.target
    model = build_model(
        cfg.model.numeric_features, cfg.model.categorical_features, cfg.model.params, cfg.data.seed
    )
    model.fit(train[features], train[target])
    scores = model.predict_proba(test[features])[:, 1]
    metrics = classification_metrics(test[target].to_numpy(), scores)

    ctx.tracking.activate()
    with mlflow.start_run(run_name="train") as run:
        mlflow.set_tags({**lineage, "step": "train", "env": cfg.env, **_code_version()})
        mlflow.log_params(
            {**cfg.model.params, "features": ",".join(features), "train_rows": len(train)}
        )
        mlflow.log_metrics(metrics)
        example = train[features].head(5)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(example, model.predict_proba(example)),
            input_example=example,
            pyfunc_predict_fn="predict_proba",
            serialization_format="skops",
            # trust exactly the types of the object we just trained, nothing more
            skops_trusted_types=skops_io.get_untrusted_types(data=skops_io.dumps(model)),
            registered_model_name=ctx.tracking.model_name,
        )
    version = str(info.registered_model_version)
    client = ctx.tracking.client()
    client.update_model_version(ctx.tracking.model_name, version, description=MODEL_DESCRIPTION)
    for key, value in {**lineage, "run_id": run.info.run_id}.items():
        client.set_model_version_tag(ctx.tracking.model_name, version, key, value)
    return {
        "model": f"{ctx.tracking.model_name} v{version}",
        "run": run.info.run_id,
        "train/test rows": f"{len(train)}/{len(test)}",
        "roc_auc": round(metrics["roc_auc"], 4),
        "precision_recall_auc": round(metrics["precision_recall_auc"], 4),
    }


def _code_version() -> dict[str, str]:
    """The git commit being trained from, when there is one (it is not on Databricks)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"mlflow.source.git.commit": commit}
