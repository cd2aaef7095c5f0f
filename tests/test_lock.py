"""Fast tier: in every scenario the first commit holds a uv.lock that matches pyproject.toml.

Each scenario's render gets the first-commit task (hooks/init_git.py) exactly as `copier copy`
runs it. The locks run side by side: they mostly wait on the package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import SCENARIOS

FIRST_COMMIT = Path(__file__).resolve().parents[1] / "hooks" / "init_git.py"


# as from a user's shell: a uv installed by pyenv pins its own Python in PYENV_VERSION for what
# it starts, which hides pyenv's other Pythons (the custom scenario wants 3.12)
SHELL_ENV = {key: value for key, value in os.environ.items() if key != "PYENV_VERSION"}


@pytest.fixture(scope="module")
def first_commits(render_scenario, tmp_path_factory, uv) -> dict[str, Path]:
    projects = {}
    for name in SCENARIOS:
        projects[name] = tmp_path_factory.mktemp("first-commit") / name
        shutil.copytree(render_scenario(name).path, projects[name])

    def commit(project: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(FIRST_COMMIT), "main"],
            cwd=project,
            env={**SHELL_ENV, "UV": uv},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        for name, done in zip(projects, pool.map(commit, projects.values()), strict=True):
            assert done.returncode == 0, (name, done.stderr)
            assert not done.stdout.strip(), f"{name}: the task had something to say"
    return projects


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_first_commit_holds_a_lock_that_matches_pyproject(first_commits, scenario, uv):
    project = first_commits[scenario]
    tracked = run(project, "git", "ls-files", "--error-unmatch", "uv.lock", "pyproject.toml")
    assert tracked.returncode == 0, tracked.stderr
    check = run(project, uv, "lock", "--check", "--offline")
    assert check.returncode == 0, check.stderr
    status = run(project, "git", "status", "--porcelain")
    assert status.stdout == "", "the first commit left files out"


def run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=project, env=SHELL_ENV, capture_output=True, text=True, check=False
    )
