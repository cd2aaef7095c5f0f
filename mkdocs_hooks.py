"""MkDocs hook: links from a page of docs/ to a file of the repository outside docs/.

Such links (`[README](../README.md)`) work where the pages are read in the repository, but the
site has no page for their target, and a strict build rejects them. This hook checks that the
target exists in the repository (a missing one is a warning, so a strict build fails on it) and
writes the link as the target's path, pointing into the repository when `repo_url` is set.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.outside_links")

# [text](../path) outside code; images (`![...]`) are left alone
OUTSIDE_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((\.\./[^)\s#]+)(#[^)\s]*)?\)")
FENCE = re.compile(r"^(```|~~~)")


def on_page_markdown(markdown, page, config, files):
    docs_dir = Path(config["docs_dir"])
    repository = docs_dir.parent
    page_dir = posixpath.dirname(page.file.src_uri)
    repo_url = (config.get("repo_url") or "").rstrip("/")

    def rewrite(match: re.Match[str]) -> str:
        text, target, _anchor = match.groups()
        path = posixpath.normpath(posixpath.join("docs", page_dir, target))
        if path.startswith("../") or not (repository / path).exists():
            log.warning("%s links to %s, which is not in the repository", page.file.src_uri, path)
            return match.group(0)
        shown = f"{text} (`{path}`)" if text.strip("`") != path else f"`{path}`"
        return f"[{shown}]({repo_url}/blob/HEAD/{path})" if repo_url else shown

    lines, in_code = [], False
    for line in markdown.split("\n"):
        if FENCE.match(line.lstrip()):
            in_code = not in_code
        lines.append(line if in_code else OUTSIDE_LINK.sub(rewrite, line))
    return "\n".join(lines)
