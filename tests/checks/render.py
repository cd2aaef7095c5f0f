"""Render the template once per answer set and session (Copier's Python API, no tasks)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

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

Answers = tuple[tuple[str, str], ...]

# Every answer set the checks render: each CI provider with each cloud (OIDC, the default), and
# each CI provider with client secrets. The first render asked for renders them all, in parallel.
MATRIX: list[dict[str, str]] = [
    {"ci_provider": ci_provider, "cloud": cloud} for ci_provider in CI_PROVIDERS for cloud in CLOUDS
] + [
    {"ci_provider": ci_provider, "cloud": "aws", "ci_auth": "secrets"}
    for ci_provider in CI_PROVIDERS
    if ci_provider != "none"
]
_cache: dict[Answers, Path] = {}


def _key(answers: dict[str, str]) -> Answers:
    return tuple(sorted(answers.items()))


def render(
    dst: Path, answers: Mapping[str, Any], template: Path = REPO_ROOT, vcs_ref: str = "HEAD"
) -> Path:
    """Render `template` (this repository's working tree by default) at `vcs_ref` into `dst`,
    non-interactively, without tasks: the one way tests and benchmarks render."""
    with warnings.catch_warnings():
        # a dirty working tree, an old version without a Copier minimum: expected here
        warnings.simplefilter("ignore", copier.errors.CopierWarning)
        copier.run_copy(
            src_path=str(template),
            dst_path=str(dst),
            data=dict(answers),
            defaults=True,
            unsafe=True,
            skip_tasks=True,
            vcs_ref=vcs_ref,
            quiet=True,
        )
    return dst


def _render_into(dst: Path, answers: Answers) -> Path:
    return render(dst, dict(answers))


def _render_all(keys: list[Answers]) -> None:
    todo = [key for key in keys if key not in _cache]
    targets = [_RENDERS / f"project-{len(_cache) + index}" for index in range(len(todo))]
    workers = min(len(todo), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_render_into, targets, todo))
    else:
        for dst, key in zip(targets, todo, strict=True):
            _render_into(dst, key)
    _cache.update(zip(todo, targets, strict=True))


def rendered(**answers: str) -> Path:
    """A rendered project for these answers (the rest at their defaults). Read-only: shared."""
    key = _key(answers)
    if key not in _cache:
        matrix = [_key(other) for other in MATRIX]
        _render_all(matrix if key in matrix else [key])
    return _cache[key]


def writable_copy(project: Path, dst: Path) -> Path:
    """A copy of a rendered project that a test may break on purpose."""
    return Path(shutil.copytree(project, dst / "project"))
