"""Copier migration, run after `copier update`: carry the changes to a file the template moved.

Usage (from `_migrations` in copier.yml, one entry per moved file, at the version that moved it):

    python hooks/migrate.py move OLD_PATH NEW_PATH

Without it, an update from before the move deletes OLD_PATH (the template no longer has it) and
renders NEW_PATH afresh: whatever the user had changed in the file is gone from the working tree.
This migration runs after Copier's own merge, in the project's folder, and redoes the three-way
merge for the moved file:

- ours: OLD_PATH as committed in the project before the update (`git show HEAD:OLD_PATH`);
- base: OLD_PATH as the old template version rendered it (rendered again from the answers at
  HEAD, at the commit Copier passes as VERSION_FROM);
- theirs: NEW_PATH as the new template version just rendered it.

The merge goes to NEW_PATH and OLD_PATH is removed. A conflict leaves the usual markers
(`<<<<<<< before updating` ... `>>>>>>> after updating`) and marks NEW_PATH unmerged in the git
index, like Copier does for its own conflicts. It prints one line saying what it did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import yaml

ANSWERS_FILE = ".copier-answers.yml"
LABELS = ("before updating", "last update", "after updating")


def git(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], input=stdin, capture_output=True, check=False)


def committed(path: str) -> bytes | None:
    """The file as committed at HEAD, or None when HEAD has no such file."""
    shown = git("show", f"HEAD:{path}")
    return shown.stdout if shown.returncode == 0 else None


def old_render_of(path: str, answers_text: bytes, version: str) -> bytes:
    """`path` as the template at `version` rendered it with the project's answers (b"" if none)."""
    import copier  # the interpreter running Copier has it

    answers = yaml.safe_load(answers_text) or {}
    with tempfile.TemporaryDirectory(prefix="copier-migrate-") as folder:
        target = Path(folder, "old")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copier.run_copy(
                src_path=answers["_src_path"],
                dst_path=target,
                data={k: v for k, v in answers.items() if not k.startswith("_")},
                vcs_ref=version,
                defaults=True,
                unsafe=True,
                skip_tasks=True,
                quiet=True,
            )
        rendered = target / path
        return rendered.read_bytes() if rendered.is_file() else b""


def merge(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, bool]:
    """`git merge-file` of three versions; returns the result and whether it has conflicts."""
    with tempfile.TemporaryDirectory(prefix="copier-merge-") as folder:
        files = []
        for name, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder, name)
            path.write_bytes(content)
            files.append(str(path))
        labels = [arg for label in LABELS for arg in ("-L", label)]
        result = git("merge-file", "-p", *labels, *files)
    if result.returncode < 0 or result.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {result.stderr.decode(errors='replace')}")
    return result.stdout, result.returncode > 0


def mark_unmerged(path: str, ours: bytes, base: bytes, theirs: bytes) -> None:
    """Record the three versions as index stages 1-3, so `git status` lists `path` as unmerged."""
    lines = [f"0 {'0' * 40}\t{path}"]
    for stage, content in ((1, base), (2, ours), (3, theirs)):
        blob = git("hash-object", "-w", "--stdin", stdin=content).stdout.decode().strip()
        lines.append(f"100644 {blob} {stage}\t{path}")
    git("update-index", "--index-info", stdin=("\n".join(lines) + "\n").encode())


def move(old: str, new: str) -> int:
    version = os.environ.get("VERSION_CURRENT", "this version")
    ours = committed(old)
    if ours is None:
        print(f"{old}: not in the project, nothing to carry over to {new}.")
        return 0
    old_answers = committed(ANSWERS_FILE)
    version_from = os.environ.get("VERSION_FROM")
    if old_answers is None or not version_from:
        print(f"{old}: cannot find the previous template version; move it to {new} by hand.")
        return 1
    base = old_render_of(old, old_answers, version_from)
    target = Path(new)
    theirs = target.read_bytes() if target.is_file() else b""
    if ours == base:
        Path(old).unlink(missing_ok=True)
        print(f"{old} moved to {new} in template {version} (you had not changed it).")
        return 0
    merged, conflicted = merge(ours, base, theirs)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(merged)
    Path(old).unlink(missing_ok=True)
    if conflicted:
        mark_unmerged(new, ours, base, theirs)
        print(
            f"{old} moved to {new} in template {version}: CONFLICT merging your changes. "
            f"Resolve the markers in {new}, then `git add {new}`."
        )
    else:
        print(f"{old} moved to {new} in template {version}: your changes were carried over.")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "move":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return move(argv[1], argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
