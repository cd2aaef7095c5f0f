"""Helpers shared by the benchmark scripts: render a scenario, run and time commands in it."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the tests' render helper, as conftest.py imports it
from checks.render import render  # noqa: E402

# the caller's venv and pyenv selection (set by pyenv's shims), not the project's
FOREIGN_ENV_VARIABLES = (
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "PYTHONHOME",
    "PYTHONPATH",
    "PYENV_VERSION",
    "PYENV_DIR",
    "UV",
    "UV_RUN_RECURSION_DEPTH",
)


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"a 10M-step Python loop in {core_speed():.2f} s"
    )


def core_speed() -> float:
    """Seconds for a fixed pure-Python loop: one core's speed. Quiet VMs of the same size
    differ by up to 2x (docs/benchmarks.md), so compare figures across VMs with this beside them.
    """
    started = time.perf_counter()
    total = 0
    for step in range(10_000_000):
        total += step
    return time.perf_counter() - started


def load_average() -> float:
    """1-minute load average: other work on the machine slows every figure down."""
    return round(os.getloadavg()[0], 2)


def render_scenario(name: str, dst: Path) -> Path:
    """Render tests/scenarios/<name>.yml from this working tree, without tasks."""
    answers = yaml.safe_load((REPO_ROOT / "tests" / "scenarios" / f"{name}.yml").read_text())
    return render(dst, answers or {})


def project_env(**extra: str) -> dict[str, str]:
    """This environment without its venv, so that `uv run` in a project uses the project's."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV_VARIABLES}
    if sys.prefix != sys.base_prefix:
        own_bin = str(Path(sys.prefix) / "bin")
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != own_bin)
    return {**env, "COLUMNS": "200", **extra}  # a wide console: one summary row per line


def uv() -> str:
    found = shutil.which("uv")
    if not found:
        sys.exit("uv is not on PATH")
    return found


def timed(cwd: Path, command: list[str], **env: str) -> tuple[float, str]:
    """Run a command in a project; returns (wall seconds, stdout+stderr); exits on failure."""
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=cwd,
        env=project_env(**env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    output = result.stdout + result.stderr
    if result.returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed ({result.returncode}):\n{output[-4000:]}")
    return seconds, output
