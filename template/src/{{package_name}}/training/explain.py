"""Why the model scores as it does: global feature importance per trained version, and the top
reasons of each score.

Global importance is permutation importance on the held-out rows: how much the ROC AUC drops
when one input column is shuffled. Chosen over the alternatives for fidelity at a cost of
seconds: it measures the fitted pipeline end to end on data it never saw (a category counts
once, not per one-hot column), works for any estimator swapped into model.py, and is not
biased towards features with many distinct values as impurity importance is (which
HistGradientBoostingClassifier does not expose anyway). Cost: `repeats` x features predictions
of at most `MAX_ROWS` rows.

Reasons of one score: each input is set in turn to its reference value (the training median,
or the most frequent category) and the row is scored again; the features whose reset lowers
the score most are the ones that pushed it up most. One batched prediction of rows x features
rows: exact for the model as served, with no extra dependency, at a cost measured by
benchmarks/in_project/reasons.py.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

MAX_ROWS = 20_000  # held-out rows permuted: enough for a stable ranking, seconds to compute
REFERENCE_KEY = "reason_reference"  # in the logged model's metadata: the reference values


def global_importance(
    model: Any, test: pd.DataFrame, features: list[str], target: str, seed: int, repeats: int = 5
) -> pd.DataFrame:
    """feature, importance (mean ROC AUC drop), std; the most important first."""
    rows = test.sample(n=MAX_ROWS, random_state=seed) if len(test) > MAX_ROWS else test
    result = permutation_importance(
        model,
        rows[features],
        rows[target],
        scoring="roc_auc",
        n_repeats=repeats,
        random_state=seed,
    )
    table = pd.DataFrame(
        {"feature": features, "importance": result.importances_mean, "std": result.importances_std}
    )
    return table.sort_values("importance", ascending=False, ignore_index=True)


def importance_plot(table: pd.DataFrame):
    """A horizontal bar chart of `global_importance` (a matplotlib figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = table.iloc[::-1]
    figure, axis = plt.subplots(figsize=(7, 0.35 * len(table) + 1))
    axis.barh(ordered["feature"], ordered["importance"], xerr=ordered["std"], color="#1565c0")
    axis.set_xlabel("drop in held-out ROC AUC when the feature is shuffled")
    axis.set_title("Global feature importance (permutation)")
    figure.tight_layout()
    plt.close(figure)
    return figure


def importance_csv(table: pd.DataFrame) -> str:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue()


def log_global_importance(
    model: Any, test: pd.DataFrame, features: list[str], target: str, seed: int
) -> pd.DataFrame:
    """Log the importance of each input in the active MLflow run: `explain/importance.json`
    (a table MLflow shows), `.csv` and a plot `.png`."""
    import mlflow

    table = global_importance(model, test, features, target, seed)
    mlflow.log_table(table, "explain/importance.json")
    mlflow.log_text(importance_csv(table), "explain/importance.csv")
    mlflow.log_figure(importance_plot(table), "explain/importance.png")
    return table


def reference_values(train: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict:
    """What "an ordinary value" of each input is: the training median or most frequent category
    (JSON-serialisable, logged in the model's metadata)."""
    values: dict[str, Any] = {}
    for name in numeric:
        median = train[name].median()
        values[name] = None if pd.isna(median) else float(median)
    for name in categorical:
        counts = train[name].value_counts()
        values[name] = None if counts.empty else str(counts.index[0])
    return values


def top_reasons(
    predict: Any,
    inputs: pd.DataFrame,
    reference: dict[str, Any],
    top: int,
    scores: np.ndarray | None = None,
) -> list[list[str]]:
    """Per row, up to `top` features whose reference value lowers its fraud score most (only
    those that lower it: a row at its reference values has no reasons).

    `predict(frame)` returns P(fraud) per row; it is called once, on one copy of the rows per
    feature with that feature reset (and on the rows themselves unless `scores` has them)."""
    features = [c for c in inputs.columns if c in reference]
    n = len(inputs)
    if n == 0 or top <= 0:
        return [[] for _ in range(n)]
    copies = [] if scores is not None else [inputs]
    for name in features:
        reset = inputs.copy()
        reset[name] = pd.Series([reference[name]] * n, index=inputs.index, dtype=inputs[name].dtype)
        copies.append(reset)
    predicted = np.asarray(predict(pd.concat(copies, ignore_index=True)), dtype=float)
    predicted = predicted.reshape(len(copies), n)
    if scores is None:
        scores, predicted = predicted[0], predicted[1:]
    pushed_up = (
        np.asarray(scores, dtype=float) - predicted
    )  # features x rows: how much each raised it
    order = np.argsort(-pushed_up, axis=0, kind="stable")[:top]
    return [[features[f] for f in order[:, row] if pushed_up[f, row] > 0] for row in range(n)]
