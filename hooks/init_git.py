"""Copier task, run once after `copier copy`: make the new project a git repository.

It only runs git: it never moves, deletes or rewrites a rendered file. It does nothing when the
destination already is a git work tree (for example when a project adopts the template).
"""

from __future__ import annotations

import subprocess
import sys


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def main(default_branch: str) -> int:
    if git("rev-parse", "--is-inside-work-tree").returncode == 0:
        print("Already a git repository: left as it is.")
        return 0
    if git("--version").returncode != 0:
        print("git not found: skipping `git init` (run it yourself later).")
        return 0
    git("init", "--quiet", f"--initial-branch={default_branch}")
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
