"""The model card as Markdown (the version's description in the registry) and as a standalone
HTML page (the same text, with the importance plot inline).

Every number comes from `CardFacts`; the only prose a person writes is `card:` in
conf/project.yml. Markdown becomes HTML with markdown-it-py and raw HTML off, so text from the
configuration or a check's detail cannot inject markup into the page.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable

import pandas as pd
from markdown_it import MarkdownIt

from ..config import CardConfig
from ..validation.record import WITHDRAWN
from .facts import CardFacts, Validation

IMPORTANCE_ROWS = 15  # the card lists the most important inputs; the run keeps them all
NOT_WRITTEN = "_Not written yet: set `card.{key}` in conf/project.yml._"
EXPLANATIONS = "Explanations"


def card_markdown(facts: CardFacts, text: CardConfig) -> str:
    title = f"# Model card: {facts.model_name} v{facts.version}"
    notice = (
        "> Generated from what the pipeline recorded for this version (`train`, `validate`, "
        "`run card`). Do not edit it: the text a person writes lives in `card:` of "
        "conf/project.yml, and the next card replaces this one."
    )
    sections = [
        title,
        notice,
        _summary(facts, text),
        _section("Intended use", text.intended_use or NOT_WRITTEN.format(key="intended_use")),
        _section("Out of scope", text.out_of_scope or NOT_WRITTEN.format(key="out_of_scope")),
        _section("Training data", _training_data(facts)),
        _section("Features", _features(facts)),
        _section("Parameters", _table(["parameter", "value"], facts.params.items())),
        _section("Metrics on the held-out rows", _metrics(facts)),
        _section("Validation", _validation(facts.validation)),
        _section("Fairness", _fairness(facts)),
        _section(EXPLANATIONS, _explanations(facts)),
        _section("Known limits", _limits(facts, text)),
    ]
    return "\n\n".join(sections) + "\n"


def card_html(markdown: str, facts: CardFacts) -> str:
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    if facts.importance_plot:
        encoded = base64.b64encode(facts.importance_plot).decode()
        plot = f'<img alt="global feature importance" src="data:image/png;base64,{encoded}">'
        heading = f"<h2>{EXPLANATIONS}</h2>"
        body = body.replace(heading, f"{heading}\n{plot}", 1)
    title = html.escape(f"Model card: {facts.model_name} v{facts.version}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def _summary(facts: CardFacts, text: CardConfig) -> str:
    owners = ", ".join(text.owners) or NOT_WRITTEN.format(key="owners")
    model = facts.estimator or "an estimator (class not recorded)"
    lines = [
        f"- **Status:** {_status(facts.validation)}",
        f"- **Model:** {model} in a scikit-learn pipeline (training/model.py); input: one row "
        "per transaction with the inputs below; output: [P(legitimate), P(fraud)]",
        f"- **Registered:** {_when(facts.registered_at)}, training run `{facts.run_id}`"
        + (f", job run `{facts.job_run_id}`" if facts.job_run_id else ""),
        f"- **Code:** {f'commit `{facts.git_commit}`' if facts.git_commit else 'not recorded'}",
        f"- **Owners:** {owners}",
    ]
    return "\n".join(lines)


def _status(validation: Validation | None) -> str:
    if validation is None:
        return "not validated yet (`validate` writes the checks below)"
    mode = " (report only: no alias set)" if validation.mode == "report_only" else ""
    if validation.status == WITHDRAWN:
        return f"validation withdrawn on {_when(validation.at)}: {validation.checks[0].detail}"
    return (
        f"validation {validation.status}{mode} against {validation.compared_with}, "
        f"{_when(validation.at)}"
    )


def _training_data(facts: CardFacts) -> str:
    rows = [(s.table, _code(s.full_name), s.delta_version) for s in facts.sources]
    table = _table(["source", "table", "Delta version read"], rows)
    counts = (
        f"{_count(facts.train_rows)} training rows; {_count(facts.test_rows)} held-out rows "
        "(the newest, by time), which the metrics, validation and fairness below were measured on."
    )
    return f"{table}\n\n{counts}"


def _features(facts: CardFacts) -> str:
    nullable = set(facts.nullable)
    rows = [(f"`{n}`", t, "yes" if n in nullable else "no") for n, t in facts.features]
    attributes = _attributes(facts)
    note = (
        f"\n\nSensitive attributes, used to evaluate fairness only and never as inputs: "
        f"{', '.join(f'`{a}`' for a in attributes)}."
        if attributes
        else ""
    )
    return _table(["input", "type", "missing values seen in training"], rows) + note


def _metrics(facts: CardFacts) -> str:
    return _table(["metric", "value"], ((k, figure(v)) for k, v in facts.metrics.items()))


def _validation(validation: Validation | None) -> str:
    if validation is None:
        return "Not validated yet."
    if validation.status == WITHDRAWN:
        return (
            f"Withdrawn by a rollback: {validation.checks[0].detail}. The checks of validation "
            f"run `{validation.run_id}` no longer count; the version needs a new validation."
        )
    rows = [
        (
            f"`{c.name}`",
            "pass" if c.passed else "**FAIL**",
            figure(c.value),
            figure(c.threshold),
            c.detail,
        )
        for c in validation.checks
        if not c.name.startswith("fairness.")
    ]
    return f"Run `{validation.run_id}`.\n\n" + _table(
        ["check", "result", "value", "limit", "detail"], rows
    )


def _fairness(facts: CardFacts) -> str:
    validation = facts.validation
    checks = (
        []
        if validation is None
        else [c for c in validation.checks if c.name.startswith("fairness.")]
    )
    if not checks:
        return (
            "Not measured: the version has no standing validation, or `fairness.attributes` "
            "was empty."
        )
    gaps = _table(
        ["check", "result", "gap", "largest gap allowed", "detail"],
        [
            (
                f"`{c.name}`",
                "pass" if c.passed else "**FAIL**",
                figure(c.value),
                figure(c.threshold),
                c.detail,
            )
            for c in checks
        ],
    )
    at = (
        f" at decision threshold {validation.decision_threshold}"
        if validation.decision_threshold
        else ""
    )
    if facts.by_group is None or facts.by_group.empty:
        return gaps
    # one row per group that exists, one column per metric
    per_group = facts.by_group.set_index(["attribute", "group", "metric"])["value"].unstack()
    rows = [(a, g, *(figure(v) for v in values)) for (a, g), values in per_group.iterrows()]
    groups = _table(["attribute", "group", *per_group.columns], rows)
    return f'{gaps}\n\nRates per group{at} ("-": too few rows to judge):\n\n{groups}'


def _explanations(facts: CardFacts) -> str:
    if facts.importance is None:
        return "Not recorded for this version (trained before explanations existed)."
    top = facts.importance.head(IMPORTANCE_ROWS)
    rows = [(f"`{r.feature}`", figure(r.importance), figure(r.std)) for r in top.itertuples()]
    return (
        "Global importance: the drop in held-out ROC AUC when the input is shuffled "
        "(permutation importance, training/explain.py); the run keeps all of them in "
        "`explain/importance.csv`.\n\n" + _table(["input", "importance", "std"], rows)
    )


def _limits(facts: CardFacts, text: CardConfig) -> str:
    limits = list(text.limitations) or [NOT_WRITTEN.format(key="limitations")]
    validation = facts.validation
    if validation is not None:
        failed = [c.name for c in validation.checks if not c.passed]
        if failed and validation.status != WITHDRAWN:
            limits.append(f"Failed validation checks: {', '.join(f'`{n}`' for n in failed)}.")
        for check in validation.checks:
            if check.name.startswith("fairness.") and check.detail.startswith("not measured"):
                limits.append(f"`{check.name}` {check.detail}.")
    if facts.by_group is not None:
        small = facts.by_group[facts.by_group["value"].isna()]
        for (attribute, metric), rows in small.groupby(["attribute", "metric"]):
            groups = ", ".join(f"{attribute}={g}" for g in rows["group"])
            limits.append(
                f"{metric} not judged for {groups}: too few rows (fairness.min_group_size)."
            )
    return "\n".join(f"- {line}" for line in limits)


def _attributes(facts: CardFacts) -> list[str]:
    if facts.by_group is not None and not facts.by_group.empty:
        return sorted(facts.by_group["attribute"].unique())
    checks = facts.validation.checks if facts.validation else []
    return sorted({c.name.split(".")[1] for c in checks if c.name.startswith("fairness.")})


def _section(heading: str, body: str) -> str:
    return f"## {heading}\n\n{body}"


def _table(headers: list[str], rows: Iterable[Iterable[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    # a pipe would end the cell, a newline the row
    return str(value).replace("|", "\\|").replace("\n", " ")


def figure(value: float | None) -> str:
    """How the card writes a number: counts and whole numbers plainly, rates to 4 places."""
    if value is None or pd.isna(value):
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4f}"


def _code(text: str) -> str:
    """A Markdown code span, also around text holding backticks (Delta path names do)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _count(value: str | None) -> str:
    return "an unrecorded number of" if value is None else f"{int(value):,}"


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.45;color:#1b1f24}table{border-collapse:collapse;margin:.5rem 0}"
    "th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}code{background:#f6f8fa;padding:0 .2rem}"
    "blockquote{color:#57606a;border-left:.25rem solid #d0d7de;margin:0;padding:0 1rem}"
    "img{max-width:100%}"
)
