"""The point-in-time training set and its time-ordered split."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..config import Config
from ..data import schema as s
from ..errors import ConfigError
from ..features.assemble import model_inputs


def training_set(
    labels: DataFrame,
    transaction_features: DataFrame,
    customer_features: DataFrame,
    config: Config,
) -> DataFrame:
    """Labelled transactions with the features known at the time of each transaction."""
    labelled = transaction_features.join(
        labels.select(s.TRANSACTION_ID, s.IS_FRAUD), s.TRANSACTION_ID, "inner"
    )
    inputs = model_inputs(labelled, customer_features, config.features.windows_days)
    wanted = feature_columns(config)
    missing = sorted(set(wanted) - set(inputs.columns))
    if missing:
        raise ConfigError(
            f"conf/project.yml: model features {missing} are not computed by the feature "
            f"pipeline. Available: {sorted(set(inputs.columns) - {s.IS_FRAUD})}."
        )
    return select_model_features(inputs, config, extra=[config.model.target])


def select_model_features(inputs: DataFrame, config: Config, extra: list[str]) -> DataFrame:
    """Ids, time and the model's features with the types of its signature, plus `extra`."""
    # numbers as doubles: a customer without history has nulls, which integer columns cannot hold
    numeric = [F.col(c).cast("double").alias(c) for c in config.model.numeric_features]
    categorical = [F.col(c) for c in config.model.categorical_features]
    return inputs.select(s.TRANSACTION_ID, s.EVENT_TS, *numeric, *categorical, *extra)


def feature_columns(config: Config) -> list[str]:
    return [*config.model.numeric_features, *config.model.categorical_features]


def time_split(frame: pd.DataFrame, test_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Older rows train, the newest `test_fraction` test: how the model will be used."""
    ordered = frame.sort_values([s.EVENT_TS, s.TRANSACTION_ID], kind="stable")
    cut = round(len(ordered) * (1 - test_fraction))
    return ordered.iloc[:cut], ordered.iloc[cut:]
