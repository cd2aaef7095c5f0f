"""Held-out metrics of a binary classifier. The names match MLflow's classifier evaluator."""

from __future__ import annotations

import numpy as np
from sklearn import metrics


def classification_metrics(
    y_true: np.ndarray, scores: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    predicted = (scores >= threshold).astype(int)
    return {
        "roc_auc": float(metrics.roc_auc_score(y_true, scores)),
        "precision_recall_auc": float(metrics.average_precision_score(y_true, scores)),
        "precision_score": float(metrics.precision_score(y_true, predicted, zero_division=0)),
        "recall_score": float(metrics.recall_score(y_true, predicted, zero_division=0)),
        "f1_score": float(metrics.f1_score(y_true, predicted, zero_division=0)),
        "log_loss": float(metrics.log_loss(y_true, scores, labels=[0, 1])),
        "example_count": float(len(y_true)),
    }
