"""Copier task, run after `copier update`: make uv.lock match the updated pyproject.toml.

`uv lock` keeps every pinned version that the new constraints allow and changes only what they
force, so the lock's diff in the update is small and reviewable; a project that had no lock gets
one. It never fails the update: when it cannot lock (no uv, no network, conflict markers left
in pyproject.toml), it says so and how to lock later.
"""

from __future__ import annotations

import sys
from pathlib import Path

from init_git import find_uv, lock  # this file's folder: Python runs it as a script


def main() -> int:
    had_lock = Path("uv.lock").is_file()
    if lock(find_uv(), without="uv.lock may not match pyproject.toml"):
        print("uv.lock matches pyproject.toml." if had_lock else "uv.lock written: commit it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
