"""Lineage tags of a registered version: which tables trained it, at which Delta version.

`train` writes them (`lineage_<table>_table`, `lineage_<table>_version`); the compliance check
and the model card read them back through `read_lineage`, so the key scheme lives here only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..registry import tag_key

if TYPE_CHECKING:
    from ..runtime import Context

PREFIX, TABLE, VERSION = "lineage", "table", "version"


def lineage_tags(ctx: Context, tables: list[str]) -> dict[str, str]:
    """The tags naming each of `tables` and the Delta version about to be read."""
    lineage = {}
    for table in tables:
        lineage[tag_key(PREFIX, table, TABLE)] = ctx.tables.full_name(table)
        lineage[tag_key(PREFIX, table, VERSION)] = str(ctx.tables.version(table))
    return lineage


def read_lineage(tags: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """Source -> (full table name, Delta version or None when not recorded), sorted by source."""
    start, end = f"{PREFIX}_", f"_{TABLE}"
    sources = sorted(
        k[len(start) : -len(end)] for k in tags if k.startswith(start) and k.endswith(end)
    )
    return {t: (tags[f"{start}{t}{end}"], tags.get(f"{start}{t}_{VERSION}")) for t in sources}
