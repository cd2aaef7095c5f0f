"""What is logged with a model besides its weights: signature, input example, pip requirements."""

from __future__ import annotations

from importlib.metadata import version

import pandas as pd
from mlflow.models import infer_signature
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema
from sklearn.pipeline import Pipeline

# What loading and scoring the model needs (skops-serialized scikit-learn), pinned to the versions
# that trained it. MLflow adds its own pin. Listing them beats MLflow's inference, which starts a
# subprocess per log_model (~4-8 s) and, in a uv project, pins the whole lock file, Spark included.
MODEL_RUNTIME = ("scikit-learn", "skops", "numpy", "pandas", "scipy")
EXAMPLE_ROWS = 5


def pip_requirements(packages: tuple[str, ...] = MODEL_RUNTIME) -> list[str]:
    return [f"{package}=={version(package)}" for package in packages]


def input_example(train: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The newest training rows with every feature known: what a typical request looks like.

    (The oldest rows belong to customers without history, all NaN in their aggregates.)"""
    rows = train[features]
    complete = rows.dropna()
    return (complete if len(complete) else rows).tail(EXAMPLE_ROWS)


def model_signature(model: Pipeline, example: pd.DataFrame) -> ModelSignature:
    """Types from the example; every input required.

    In an MLflow signature "optional" means the column may be left out of a request. The model
    cannot score without any of its columns, so none is optional: a request that leaves one out
    fails schema enforcement naming it, instead of failing inside scikit-learn. A null *value*
    (a customer without history) is still accepted in any numeric column."""
    inferred = infer_signature(example, model.predict_proba(example))
    inputs = Schema([ColSpec(c.type, c.name, required=True) for c in inferred.inputs.inputs])
    return ModelSignature(inputs=inputs, outputs=inferred.outputs)


def nullable_features(frame: pd.DataFrame, features: list[str]) -> list[str]:
    """Features with missing values in the training data (logged as a parameter)."""
    return [c for c in features if frame[c].isna().any()]
