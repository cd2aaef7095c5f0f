"""The business baseline a first model must beat: the red-flag rule a fraud analyst would write."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

NEEDED = ("amount_to_avg_ratio", "is_foreign", "is_night")
LARGE_RATIO = 3.0  # three times the customer's average amount is a red flag


class RuleBasedBaseline(ClassifierMixin, BaseEstimator):
    """Risk = share of red flags raised: a large amount for the customer, abroad, at night.

    `fit` learns nothing; it only checks that the features the rule reads are there.
    """

    def fit(self, X: pd.DataFrame, y=None) -> RuleBasedBaseline:  # noqa: N803 - sklearn API
        missing = sorted(set(NEEDED) - set(X.columns))
        if missing:
            raise ValueError(f"the rule-based baseline needs the features {missing}")
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803 - sklearn API
        flags = (
            (X["amount_to_avg_ratio"].fillna(1.0) >= LARGE_RATIO).astype(float)
            + X["is_foreign"].fillna(0)
            + X["is_night"].fillna(0)
        )
        risk = (flags / len(NEEDED)).to_numpy(dtype=float)
        return np.column_stack([1 - risk, risk])

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803 - sklearn API
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
