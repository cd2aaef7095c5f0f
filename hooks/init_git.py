"""Copier task, run once after `copier copy`: make the new project a git repository.

It locks the dependencies (`uv lock`, so that the first commit pins what CI and every clone
install) and commits. It never moves, deletes or rewrites a rendered file. It does nothing when
the destination already is a git work tree (for example when a project adopts the template).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def missing_python(uv: str) -> str | None:
    """What to do when the Python of the python_version answer is not on this machine."""
    wanted = Path(".python-version").read_text().strip()
    found = subprocess.run(
        [uv, "python", "find", "--no-project", wanted], capture_output=True, timeout=60, check=False
    )
    if found.returncode == 0:
        return None
    return (
        f"Python {wanted}, your answer to python_version, is not installed on this machine. "
        f"`uv sync` will try to download it; if it cannot, run `uv python install {wanted}`, "
        "or answer again with one you have: "
        "`copier update --trust --defaults --data python_version=<version>`."
    )


def lock(uv: str | None, without: str = "the first commit has no uv.lock") -> bool:
    """Write uv.lock; without uv or a package index, say what is missing (`without`) and how
    to lock later. True when uv.lock was written."""
    later = "run `uv lock` and commit uv.lock"
    if uv is None:
        print(f"uv not found: {without} ({later}).")
        return False
    problem = missing_python(uv)
    if problem:
        print(problem)
    try:
        done = subprocess.run(
            [uv, "lock", "--quiet"], capture_output=True, text=True, timeout=600, check=False
        )
    except subprocess.TimeoutExpired:
        print(f"`uv lock` took over 10 minutes: {without} ({later}).")
        return False
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"`uv lock` failed ({reason}): {without} ({later}).")
        return False
    return True


def find_uv() -> str | None:
    return os.environ.get("UV") or shutil.which("uv")  # UV: set by `uvx` and `uv run`


def main(default_branch: str) -> int:
    if git("rev-parse", "--is-inside-work-tree").returncode == 0:
        print("Already a git repository: left as it is.")
        return 0
    if git("--version").returncode != 0:
        print("git not found: skipping `git init` (run it yourself later).")
        return 0
    git("init", "--quiet", f"--initial-branch={default_branch}")
    lock(find_uv())
    git("add", "--all")
    commit = git(
        "-c", "user.name=copier", "-c", "user.email=copier@localhost",
        "commit", "--quiet", "--no-verify", "-m", "Initial commit from the MLOps template",
    )  # fmt: skip
    if commit.returncode != 0:
        print(f"git commit failed, commit yourself: {commit.stderr.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "main"))
