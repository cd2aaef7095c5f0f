"""The model: a scikit-learn pipeline. Change the estimator or its preprocessing here."""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder


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
    classifier = HistGradientBoostingClassifier(random_state=seed, **params)
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])
