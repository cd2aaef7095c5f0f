"""The named scenarios as a matrix: which answers they cover and which of them differ in code.

A scenario is an answer file in `tests/scenarios/`. Most questions only shape the deployment
files (bundle, CI/CD, docs); a few reach the code that the generated project installs, tests and
runs (`src/`, `tests/`, `conf/`, `pyproject.toml`, `.python-version`). Scenarios that give the
same answers to those few questions render byte-identical code, so the slow tier needs to
install and run only one of them: `code_variants()` groups the scenarios without rendering
anything (it reads `copier.yml` and the template), and `tests/test_scenarios.py` checks the
grouping against real renders.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template"
SCENARIOS_DIR = REPO_ROOT / "tests" / "scenarios"

# Rendered paths that make up the project's code: what `uv sync`, `pytest` and `run all` use.
CODE_PATHS = ("src/", "tests/", "conf/", "pyproject.toml", ".python-version")

_JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@cache
def questions() -> dict[str, dict[str, Any]]:
    """The questions of copier.yml, in order (settings starting with `_` and hidden values,
    `when: false`, which are never asked nor recorded, left out)."""
    raw = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    return {
        name: spec
        for name, spec in raw.items()
        if not name.startswith("_") and spec.get("when") is not False
    }


def choice_values(question: str) -> list[Any]:
    """The values a choice question accepts (a list, or a mapping of label to value)."""
    choices = questions()[question].get("choices") or []
    return list(choices.values()) if isinstance(choices, dict) else list(choices)


def scenario_names() -> list[str]:
    return sorted(path.stem for path in SCENARIOS_DIR.glob("*.yml"))


def scenario_answers(name: str) -> dict[str, Any]:
    return yaml.safe_load((SCENARIOS_DIR / f"{name}.yml").read_text()) or {}


def is_code_path(relative: str) -> bool:
    return relative.startswith(CODE_PATHS)


def _names_in_jinja(text: str) -> set[str]:
    return {
        word for block in _JINJA_BLOCK.findall(text) for word in _IDENTIFIER.findall(block)
    } & set(questions())


@cache
def code_questions() -> frozenset[str]:
    """Questions whose answer can change a code file, directly or through a derived default.

    Direct: named in a Jinja expression of a rendered code file's path or contents (only
    `.jinja` files render; others are copied as they are). Indirect: named in the default of a
    question that is already in the set (the package name derives from the project name).
    """
    found: set[str] = set()
    for path in TEMPLATE.rglob("*"):
        relative = path.relative_to(TEMPLATE).as_posix()
        if not path.is_file() or not is_code_path(relative):
            continue
        found |= _names_in_jinja(relative)
        if path.name.endswith(".jinja"):
            found |= _names_in_jinja(path.read_text())
    pending = list(found)
    while pending:
        default = questions()[pending.pop()].get("default")
        for name in _names_in_jinja(str(default)) - found:
            found.add(name)
            pending.append(name)
    return frozenset(found)


def code_variant(name: str) -> tuple[tuple[str, Any], ...]:
    """What a scenario answers to the code questions (unanswered: the default, shown as None)."""
    answers = scenario_answers(name)
    return tuple((question, answers.get(question)) for question in sorted(code_questions()))


def code_variants() -> dict[tuple[tuple[str, Any], ...], list[str]]:
    """Scenarios grouped by the code they render; `default` first when it is in a group."""
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
    for name in sorted(scenario_names(), key=lambda n: (n != "default", n)):
        groups.setdefault(code_variant(name), []).append(name)
    return groups


def slow_tier_scenarios() -> list[str]:
    """One scenario per code variant: the ones the slow tier needs to install and run."""
    return [group[0] for group in code_variants().values()]
