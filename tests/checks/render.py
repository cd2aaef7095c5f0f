"""Render the template once per answer set and session (Copier's Python API, no tasks)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import copier

REPO_ROOT = Path(__file__).resolve().parents[2]
CI_PROVIDERS = ("github_actions", "gitlab", "azure_devops", "none")
CLOUDS = ("aws", "azure", "gcp")

# With vcs_ref="HEAD" and a dirty tree Copier commits the changes in its temporary clone, which
# needs an identity a fresh CI machine may not have.
for _variable, _value in {
    "GIT_AUTHOR_NAME": "template-tests",
    "GIT_AUTHOR_EMAIL": "template-tests@localhost",
    "GIT_COMMITTER_NAME": "template-tests",
    "GIT_COMMITTER_EMAIL": "template-tests@localhost",
}.items():
    os.environ.setdefault(_variable, _value)

_RENDERS = Path(tempfile.mkdtemp(prefix="template-checks-"))
atexit.register(shutil.rmtree, _RENDERS, ignore_errors=True)


@functools.cache
def _render(answers: tuple[tuple[str, str], ...]) -> Path:
    dst = _RENDERS / f"project-{len(list(_RENDERS.iterdir()))}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", copier.errors.DirtyLocalWarning)
        copier.run_copy(
            src_path=str(REPO_ROOT),
            dst_path=str(dst),
            data=dict(answers),
            defaults=True,
            unsafe=True,
            skip_tasks=True,
            vcs_ref="HEAD",
            quiet=True,
        )
    return dst


def rendered(**answers: str) -> Path:
    """A rendered project for these answers (the rest at their defaults). Read-only: shared."""
    return _render(tuple(sorted(answers.items())))


def writable_copy(project: Path, dst: Path) -> Path:
    """A copy of a rendered project that a test may break on purpose."""
    return Path(shutil.copytree(project, dst / "project"))
