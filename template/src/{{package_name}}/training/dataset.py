"""The point-in-time training set, its time-ordered split, and the feature set of a model."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from mlflow.models.signature import ModelSignature
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..config import Config
from ..data import schema as s
from ..errors import ConfigError
from ..features.assemble import model_inputs

NUMBER_TYPES = {"double", "float", "long", "integer"}


@dataclass(frozen=True)
class FeatureSet:
    """The inputs of a model: numbers (as doubles) and categories (as text), in order."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...] = ()

    @classmethod
    def of_config(cls, config: Config) -> FeatureSet:
        return cls(tuple(config.model.numeric_features), tuple(config.model.categorical_features))

    @classmethod
    def of_signature(cls, signature: ModelSignature) -> FeatureSet:
        """What a logged model takes, read from its signature: a model trained on another
        feature list is scored on its own columns."""
        specs = signature.inputs.inputs
        return cls(
            tuple(c.name for c in specs if c.type.name in NUMBER_TYPES),
            tuple(c.name for c in specs if c.type.name not in NUMBER_TYPES),
        )

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def union(self, other: FeatureSet) -> FeatureSet:
        new = [c for c in other.columns if c not in self.columns]
        return FeatureSet(
            self.numeric + tuple(c for c in new if c in other.numeric),
            self.categorical + tuple(c for c in new if c in other.categorical),
        )

    def changes_from(self, other: FeatureSet) -> str | None:
        """'+added, -removed' going from `other` to this set, or None when they are equal."""
        added = [f"+{c}" for c in self.columns if c not in other.columns]
        removed = [f"-{c}" for c in other.columns if c not in self.columns]
        return ", ".join(added + removed) or None


def training_set(
    labels: DataFrame,
    transaction_features: DataFrame,
    customer_features: DataFrame,
    config: Config,
    features: FeatureSet | None = None,
    wanted_by: str = "conf/project.yml: model features",
) -> DataFrame:
    """Labelled transactions with the features known at the time of each transaction.

    `features`: the columns to keep (default: the configured ones); `wanted_by` says who asked
    for them when one is missing."""
    features = features or FeatureSet.of_config(config)
    labelled = transaction_features.join(
        labels.select(s.TRANSACTION_ID, s.IS_FRAUD), s.TRANSACTION_ID, "inner"
    )
    inputs = model_inputs(labelled, customer_features, config.features.windows_days)
    missing = sorted(set(features.columns) - set(inputs.columns))
    if missing:
        raise ConfigError(
            f"{wanted_by} {missing} are not computed by the feature "
            f"pipeline. Available: {sorted(set(inputs.columns) - {s.IS_FRAUD})}."
        )
    return select_model_features(inputs, config, extra=[config.model.target], features=features)


def select_model_features(
    inputs: DataFrame, config: Config, extra: list[str], features: FeatureSet | None = None
) -> DataFrame:
    """Ids, time and the model's features with the types of its signature, plus `extra`."""
    features = features or FeatureSet.of_config(config)
    # numbers as doubles: a customer without history has nulls, which integer columns cannot hold
    numeric = [F.col(c).cast("double").alias(c) for c in features.numeric]
    categorical = [F.col(c) for c in features.categorical]
    return inputs.select(s.TRANSACTION_ID, s.EVENT_TS, *numeric, *categorical, *extra)


def feature_columns(config: Config) -> list[str]:
    return FeatureSet.of_config(config).columns


def time_split(frame: pd.DataFrame, test_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Older rows train, the newest `test_fraction` test: how the model will be used."""
    ordered = frame.sort_values([s.EVENT_TS, s.TRANSACTION_ID], kind="stable")
    cut = round(len(ordered) * (1 - test_fraction))
    return ordered.iloc[:cut], ordered.iloc[cut:]
