"""Fast tier: the first-commit task (hooks/init_git.py) says what to do when it cannot lock."""

from __future__ import annotations

import importlib.util
import platform
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[1] / "hooks" / "init_git.py"


@pytest.fixture
def init_git():
    spec = importlib.util.spec_from_file_location("init_git", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_python_version_this_machine_lacks_points_back_to_the_answer(
    init_git, uv, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".python-version").write_text("3.99\n")
    message = init_git.missing_python(uv)
    assert message.startswith("Python 3.99, your answer to python_version, is not installed")
    assert "`uv python install 3.99`" in message
    assert "--data python_version=<version>" in message


def test_the_python_running_here_is_found(init_git, uv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".python-version").write_text(".".join(platform.python_version_tuple()[:2]))
    assert init_git.missing_python(uv) is None


def test_without_uv_the_first_commit_says_how_to_add_the_lock(init_git, capsys):
    init_git.lock(None)
    assert "run `uv lock` and commit uv.lock" in capsys.readouterr().out
