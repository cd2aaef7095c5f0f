"""The model card of each registered version: written by `train` (facts of training), again by
`validate` (with its checks and fairness rates) and by `rollback` (a withdrawn validation), and
on demand by the `card` step for every version holding an alias (after editing `card:` in
conf/project.yml, for instance).

The card is the version's description in the registry (Unity Catalog shows it on the version's
page) and two artifacts of its training run: `model_card/card.md` and a standalone
`model_card/card.html`.
"""

from __future__ import annotations

from typing import Any

from ..runtime import Context
from .facts import gather
from .render import card_html, card_markdown

CARD_MD, CARD_HTML = "model_card/card.md", "model_card/card.html"


def write_card(ctx: Context, version: str) -> str:
    """Write the card of `version`; returns its Markdown."""
    facts = gather(ctx, version)
    markdown = card_markdown(facts, ctx.config.card)
    client = ctx.tracking.client()
    client.log_text(facts.run_id, markdown, CARD_MD)
    client.log_text(facts.run_id, card_html(markdown, facts), CARD_HTML)
    ctx.tracking.registry().describe(version, markdown)  # last: the registry shows the card
    return markdown


def write_alias_cards(ctx: Context) -> dict[str, Any]:
    """The `card` step: write the card of every version that holds an alias again."""
    ctx.tracking.activate()
    holders = ctx.tracking.registry().aliases()
    if not holders:
        return {"cards": "none written: no version holds an alias (run `all` first)"}
    versions = sorted(set(holders.values()), key=int)
    for version in versions:
        write_card(ctx, version)
    return {
        "cards": ", ".join(f"v{v}" for v in versions),
        "aliases": ", ".join(f"{a}=v{v}" for a, v in sorted(holders.items())),
        "artifacts": f"{CARD_MD}, {CARD_HTML} in each version's training run",
    }
