"""Shared fixtures of the template's tests: named scenarios, cached renders, and commands.

A scenario is an answer file in `tests/scenarios/` (the one source of truth for "what we
support", reused by the docs). Tests get a rendered project from `render_scenario(name)`, which
renders each scenario once per session with Copier's Python API.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from checks.render import render

REPO_ROOT = Path(__file__).resolve().parents[1]
SCENARIOS_DIR = REPO_ROOT / "tests" / "scenarios"
SCENARIOS = sorted(path.stem for path in SCENARIOS_DIR.glob("*.yml"))


def load_scenario(name: str) -> dict[str, Any]:
    """The answers of a scenario file (`{}` means every question at its default)."""
    answers = yaml.safe_load((SCENARIOS_DIR / f"{name}.yml").read_text()) or {}
    assert isinstance(answers, dict), f"tests/scenarios/{name}.yml must hold a mapping"
    return answers


@dataclass(frozen=True)
class RenderedProject:
    scenario: str
    path: Path
    given: dict[str, Any]  # the scenario's answers; the rest are defaults

    @property
    def recorded(self) -> dict[str, Any]:
        """The answers Copier wrote to the project's `.copier-answers.yml`."""
        return yaml.safe_load((self.path / ".copier-answers.yml").read_text())

    def files(self) -> list[str]:
        """Sorted paths of every generated file, relative to the project, without `.git`."""
        return sorted(
            path.relative_to(self.path).as_posix()
            for path in self.path.rglob("*")
            if path.is_file() and ".git" not in path.relative_to(self.path).parts
        )


@pytest.fixture(scope="session")
def render_scenario(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], RenderedProject]:
    """Render a named scenario once per session; later calls return the same folder.

    Shared renders are read-only: a test that writes into a project renders its own copy.
    """
    cache: dict[str, RenderedProject] = {}

    def render_once(name: str) -> RenderedProject:
        if name not in cache:
            dst = tmp_path_factory.mktemp(f"render-{name}") / "project"
            answers = load_scenario(name)
            cache[name] = RenderedProject(name, render(dst, answers), answers)
        return cache[name]

    return render_once


@pytest.fixture(scope="session")
def render_writable(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Render a named scenario into a new folder of its own, for tests that write into it."""

    def render_new(name: str) -> Path:
        return render(tmp_path_factory.mktemp(f"writable-{name}") / "project", load_scenario(name))

    return render_new


@pytest.fixture(params=SCENARIOS)
def project(request: pytest.FixtureRequest, render_scenario) -> RenderedProject:
    """Each named scenario, rendered (tests using this fixture run once per scenario)."""
    return render_scenario(request.param)


# Variables of the caller's environment that would make a project's `uv run` use another venv,
# interpreter or pytest configuration than its own. PYENV_VERSION is set by pyenv's shims when
# this session was started through one: it would pin the project's interpreter lookup to ours
# (a Python 3.12 project would then find no 3.12 and uv would try to download one).
FOREIGN_ENV_VARIABLES = (
    "VIRTUAL_ENV",
    "PYENV_VERSION",
    "PYENV_DIR",
    "UV",
    "CONDA_PREFIX",
    "PYTHONHOME",
    "PYTHONPATH",
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",
    "UV_RUN_RECURSION_DEPTH",
    "PYTEST_ADDOPTS",
    "PYTEST_CURRENT_TEST",
    "PYTEST_VERSION",
)


def project_env() -> dict[str, str]:
    """This process's environment minus the venv it runs in, for commands run in a project."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV_VARIABLES}
    if sys.prefix != sys.base_prefix:  # running in a venv: keep its bin folder off the PATH
        own_bin = str(Path(sys.prefix) / "bin")
        paths = env.get("PATH", "").split(os.pathsep)
        env["PATH"] = os.pathsep.join(p for p in paths if p != own_bin)
    return env


def uv_executable() -> str:
    """uv from PATH, found before this venv's bin folder is dropped from the PATH."""
    found = shutil.which("uv")
    assert found, "uv is not on PATH: install it (pip install uv) to run the slow tier"
    return found


def run_in(cwd: Path, command: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command in a project with its own environment; fail the test with its output."""
    shown = " ".join(command)
    try:
        result = subprocess.run(
            list(command),
            cwd=cwd,
            env=project_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`{shown}` timed out after {timeout:.0f}s\n{_tail(exc.stdout, exc.stderr)}")
    if result.returncode != 0:
        pytest.fail(
            f"`{shown}` exited with {result.returncode} in {cwd}\n"
            f"{_tail(result.stdout, result.stderr)}"
        )
    return result


def _tail(stdout: str | bytes | None, stderr: str | bytes | None, lines: int = 80) -> str:
    def last(text: str | bytes | None) -> str:
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        return "\n".join((text or "").splitlines()[-lines:])

    return f"--- stdout (last {lines} lines) ---\n{last(stdout)}\n--- stderr ---\n{last(stderr)}"


@pytest.fixture(scope="session")
def run_command() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`run_command(cwd, command, timeout)`: see `run_in`."""
    return run_in


@pytest.fixture(scope="session")
def uv() -> str:
    return uv_executable()


@pytest.fixture
def render_answers(tmp_path: Path) -> Callable[[Mapping[str, Any]], Path]:
    """`render_answers(answers)` renders into a fresh temp folder (for one-off answer sets)."""
    counter = iter(range(1_000_000))

    def render_fresh(answers: Mapping[str, Any]) -> Path:
        return render(tmp_path / f"project-{next(counter)}", answers)

    return render_fresh
