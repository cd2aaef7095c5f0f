"""A one-page HTML report: the verdict, a table of every metric, and plots of what drifted."""

from __future__ import annotations

import base64
import html
import io
from itertools import pairwise
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

from .drift import ALERT, OK, WARN, MetricRow
from .stats import proportions

HEADERS = ("feature", "kind", "metric", "value", "warn", "alert", "status")
COLOURS = {OK: "#2e7d32", WARN: "#ef6c00", ALERT: "#c62828"}

# What each metric measures, in the words a reader of the report needs (thresholds:
# conf/project.yml, monitoring.*)
METRIC_MEANINGS = {
    "scored_rows": "rows the challenger scored: the window's transactions (batch shadow), or the "
    "rows of the requests it met in the last inference.window_days days (online)",
    "agreement": "share of the rows both models scored that they decide alike (batch shadow and "
    "online shadow; a canary's arms score different customers: no data)",
    "mean_score_delta": "challenger's mean P(fraud) minus the champion's, over the rows each "
    "scored",
    "score_psi": "population stability index between the two models' score distributions (in "
    "tenths of P(fraud)): 0 when they score alike, above 0.25 a large difference",
    "score_ks": "largest gap between the two models' cumulative score distributions (0 to 1)",
    "flagged_share_delta": "challenger's share of flagged transactions minus the champion's",
    "precision_delta": "challenger's precision minus the champion's, on the labelled rows",
    "recall_delta": "challenger's recall minus the champion's, on the labelled rows",
    "psi": "population stability index of the binned values: how much the shares per bin moved "
    "(0: identical; 0.1: a shift worth a look; 0.25: a large one)",
    "ks": "largest gap between the two cumulative distributions (0 to 1)",
    "js_distance": "Jensen-Shannon distance between the category shares (0: identical, 1: "
    "disjoint)",
    "chi2_pvalue": "chance of shares this different if nothing changed: small means a real "
    "change (lower is worse)",
    "roc_auc_drop": "ROC AUC at training minus ROC AUC in this window, once labels arrived: how "
    "much worse the model ranks fraud",
    "recall_drop": "share of fraud caught at training minus in this window, at the decision "
    "threshold",
    "precision_drop": "share of flagged payments that were fraud, at training minus in this "
    "window, at the decision threshold",
    "false_positive_rate_gap": "false-alarm rate of the worst-off customer group (named in the "
    "feature column) minus the best group's, once labels arrived (fairness.max_gap)",
    "false_negative_rate_gap": "share of fraud missed in the worst-off group minus the best "
    "group's (fairness.max_gap)",
    "recall_gap": "share of fraud caught in the best group minus the worst-off group's "
    "(fairness.max_gap)",
    "selection_rate_gap": "share of payments flagged in the most flagged group minus the least "
    "flagged (fairness.max_gap)",
}
NEXT_STEPS = {
    OK: "Nothing to do: the inputs, the scores and the model's performance look like training.",
    WARN: "Look at the drifted features below: a change in the feed (a new category, a unit, a "
    "bug upstream) is fixed at the source; a real change in behaviour usually leads to an alert "
    "in the next windows. No model change is needed yet.",
    ALERT: "First rule out a data problem (the plots below, the quarantine table, the feed's "
    "owners). If the world changed, the `retrain` step trains on the newest data and the "
    "validation gate decides whether the new model replaces the champion (it runs on its own "
    "when monitoring.retrain_on_alert is true). If the champion itself got worse, `rollback` "
    "restores the previous one (docs/runbook.md).",
}


def render_report(
    title: str,
    status: str,
    rows: list[MetricRow],
    baseline: dict[str, Any],
    window: dict[str, Any],
) -> str:
    drifted = sorted(
        {r.feature for r in rows if r.status in (WARN, ALERT) and r.feature in baseline["features"]}
    )
    plots = "".join(
        _plot_section(name, baseline["features"][name], window["features"][name])
        for name in drifted
    )
    table = "".join(
        _table_row(r) for r in sorted(rows, key=lambda r: (-_rank(r.status), r.feature, r.metric))
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}}
.verdict{{font-size:1.4rem;color:{COLOURS.get(status, "#555")}}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="verdict">Status: <b>{status.upper()}</b>, {window["rows"]} rows in the window,
{baseline["rows"]} in the baseline; {len(drifted)} feature(s) drifted.</p>
<h2>What to do next</h2>
<p>{html.escape(NEXT_STEPS.get(status, "No verdict: too few rows or no labels yet."))}</p>
<h2>Metrics</h2>
<table><tr>{"".join(f"<th>{h}</th>" for h in HEADERS)}</tr>
{table}</table>
<h2>What the metrics mean</h2>
<dl>{_meanings(rows)}</dl>
<h2>Distributions of drifted features</h2>
{plots or "<p>No feature drifted.</p>"}
</body></html>
"""


def _plot_section(name: str, baseline: dict[str, Any], window: dict[str, Any]) -> str:
    labels = _bucket_labels(baseline)
    figure, axis = plt.subplots(figsize=(8, 3))
    positions = range(len(labels))
    axis.bar(
        [p - 0.2 for p in positions], proportions(baseline["counts"]), width=0.4, label="baseline"
    )
    axis.bar([p + 0.2 for p in positions], proportions(window["counts"]), width=0.4, label="window")
    axis.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=7)
    axis.set_ylabel("share of rows")
    axis.set_title(name)
    axis.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    image = base64.b64encode(buffer.getvalue()).decode()
    title = html.escape(name)
    return f'<h3>{title}</h3><img alt="{title}" src="data:image/png;base64,{image}">'


def _bucket_labels(spec: dict[str, Any]) -> list[str]:
    if spec["kind"] == "categorical":
        return [*spec["categories"], "other", "missing"]
    edges = spec["edges"]
    bounds = ["-inf", *[f"{e:.3g}" for e in edges], "inf"]
    return [*(f"[{low}, {high})" for low, high in pairwise(bounds)), "missing"]


def _table_row(row: MetricRow) -> str:
    value = "" if row.value is None else f"{row.value:.4f}"
    colour = COLOURS.get(row.status, "#555")
    cells = [
        html.escape(row.feature),
        row.kind,
        row.metric,
        value,
        _limit(row.warn),
        _limit(row.alert),
    ]
    status = f"<td style='color:{colour};font-weight:bold'>{row.status}</td>"
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + status + "</tr>"


def _limit(value: float) -> str:
    return "" if value != value else f"{value:g}"  # NaN: a row without limits (info)


def _meanings(rows: list[MetricRow]) -> str:
    used = sorted({r.metric for r in rows} & METRIC_MEANINGS.keys())
    return "".join(f"<dt><b>{m}</b></dt><dd>{html.escape(METRIC_MEANINGS[m])}</dd>" for m in used)


def _rank(status: str) -> int:
    return {ALERT: 2, WARN: 1}.get(status, 0)
