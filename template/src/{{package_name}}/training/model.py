"""The model: a scikit-learn pipeline. Change the estimator or its preprocessing here."""

from __future__ import annotations

from typing import Any

from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils._param_validation import InvalidParameterError

from ..config import SearchRange
from ..errors import ConfigError

# The estimator. Swap it here; its parameters are `model.params` in conf/project.yml.
ESTIMATOR = HistGradientBoostingClassifier()


def build_model(
    numeric: list[str], categorical: list[str], params: dict[str, Any], seed: int
) -> Pipeline:
    """Gradient-boosted trees; they take missing values (new customers) as they are."""
    preprocess = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
            ("numeric", "passthrough", numeric),
        ]
    )
    classifier = clone(ESTIMATOR).set_params(random_state=seed, **params)
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


def check_params(params: dict[str, Any], key: str = "model.params") -> None:
    """Fail before any step runs when `params` do not fit the estimator (names, values).

    scikit-learn's own parameter rules decide; they are otherwise only checked inside `fit`.
    """
    _check_names(list(params), key)
    try:
        clone(ESTIMATOR).set_params(**params)._validate_params()
    except InvalidParameterError as exc:
        raise ConfigError(f"conf/project.yml: key '{key}': {exc}") from None


def check_search_space(space: dict[str, SearchRange]) -> None:
    """Every value `tune` may propose is one the estimator takes: both ends of a range, and
    each choice."""
    _check_names(list(space), key="tuning.space")
    for param, values in space.items():
        ends = values.choices if values.choices is not None else [values.low, values.high]
        for value in ends:
            check_params({param: value}, key=f"tuning.space.{param}")


def _check_names(params: list[str], key: str) -> None:
    name = type(ESTIMATOR).__name__
    known = ESTIMATOR.get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(
            f"conf/project.yml: key '{key}.{unknown[0]}': {name} has no parameter "
            f"{', '.join(unknown)}. It takes: {', '.join(sorted(known))}."
        )
