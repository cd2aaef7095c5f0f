"""Fast tier: every named scenario renders into a clean, parseable, lint-clean project.

The exact file set of each scenario is kept in `tests/snapshots/<scenario>.txt`. When the
template gains or loses files on purpose, regenerate the snapshots and review the diff:

    UPDATE_SNAPSHOTS=1 uv run pytest tests/test_render.py
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

if TYPE_CHECKING:
    from conftest import RenderedProject

REPO_ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS_DIR = REPO_ROOT / "tests" / "snapshots"
UPDATE_SNAPSHOTS = os.environ.get("UPDATE_SNAPSHOTS") == "1"

# What Jinja leaves when a file was not rendered: an expression over a name (`{{ project_slug }}`,
# `{{package_name|upper}}`), a statement (`{% if ... %}`) or a comment (`{# ... #}`). Lookalikes
# that must stay are spared: `${{ ... }}` (GitHub Actions, Azure Pipelines), `${#x}` (shell), and
# doubled braces in Python f-strings (`f"body{{margin:0}}"`).
JINJA_LEFTOVER = re.compile(
    r"(?<!\$)\{\{-?\s*[A-Za-z_][\w.]*\s*(?:-?\}\}|\||~|\(|\[|==|!=|\bif\b|\band\b|\bor\b)"
    r"|\{%-?\s*(?:if|elif|else|endif|for|endfor|set|endset|raw|endraw|macro|endmacro|include"
    r"|import|from|block|endblock|with|endwith|filter|endfilter|call|endcall)\b"
    r"|(?<!\$)\{#"
)
# Databricks job "dynamic value references" look like Jinja but are meant to stay:
# {{job.id}}, {{tasks.<task>.values.<key>}}, {{workspace.url}}, legacy {{run_id}}, ...
DATABRICKS_DYNAMIC_VALUE = re.compile(
    r"\{\{\s*(?:(?:job|task|tasks|workspace|backfill)\.[\w.\[\]<>-]+"
    r"|job_id|run_id|parent_run_id|task_key|task_retry_count|start_date|start_time)\s*\}\}"
)


def jinja_leftover(line: str) -> bool:
    return bool(JINJA_LEFTOVER.search(DATABRICKS_DYNAMIC_VALUE.sub("", line)))


CI_FILES = (".github", ".gitlab-ci.yml", "azure-pipelines.yml", ".azure-pipelines")


def text_files(project: RenderedProject, *suffixes: str) -> list[Path]:
    """The project's text files, optionally only those ending with one of `suffixes`."""
    found = []
    for relative in project.files():
        path = project.path / relative
        if suffixes and not path.name.endswith(suffixes):
            continue
        if b"\0" not in path.read_bytes():
            found.append(path)
    return found


class CiYamlLoader(yaml.SafeLoader):
    """A safe loader that also reads GitLab's `!reference [job, key]` tags."""


CiYamlLoader.add_constructor(
    "!reference", lambda loader, node: loader.construct_sequence(node, deep=True)
)


# -- what is generated --------------------------------------------------------------------------


def test_generated_file_set_matches_the_snapshot(project: RenderedProject):
    snapshot = SNAPSHOTS_DIR / f"{project.scenario}.txt"
    actual = project.files()
    if UPDATE_SNAPSHOTS:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text("\n".join(actual) + "\n")
    assert snapshot.exists(), f"no snapshot {snapshot.name}: run with UPDATE_SNAPSHOTS=1"
    expected = snapshot.read_text().split()
    missing = sorted(set(expected) - set(actual))
    unexpected = sorted(set(actual) - set(expected))
    hint = "if intended, run: UPDATE_SNAPSHOTS=1 uv run pytest tests/test_render.py"
    assert not missing, f"scenario {project.scenario!r} no longer renders {missing} ({hint})"
    assert not unexpected, f"scenario {project.scenario!r} now renders {unexpected} ({hint})"


def test_no_jinja_is_left_in_paths_or_contents(project: RenderedProject):
    leftovers = [p for p in project.files() if p.endswith(".jinja") or "{{" in p or "{%" in p]
    for path in text_files(project):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if jinja_leftover(line):
                leftovers.append(f"{path.relative_to(project.path)}:{number}: {line.strip()}")
    assert not leftovers, "Jinja left in the rendered project:\n" + "\n".join(leftovers)


@pytest.mark.parametrize(
    "line",
    [
        'name = "{{ project_slug }}"',
        "import {{package_name}}.cli",
        "model: {{ package_name | lower }}_model",
        "{{- model_name -}}",
        "{% if ci_provider == 'gitlab' %}",
        "{%- endif %}",
        "{# a template comment #}",
    ],
)
def test_the_leftover_check_flags_unrendered_jinja(line: str):
    assert jinja_leftover(line)


@pytest.mark.parametrize(
    "line",
    [
        "run: echo ${{ github.sha }}",
        "condition: ${{ eq(variables.isMain, true) }}",
        'echo "${#items[@]}"',
        'html = f"<style>body{{margin:0}}table{{border-collapse:collapse}}</style>"',
        'left: "{{tasks.monitor.values.status}}"',
        "A job task value (`{{tasks.<task>.values.<key>}}`)",
        "run_id: '{{job.run_id}}'",
    ],
)
def test_the_leftover_check_spares_lookalikes(line: str):
    assert not jinja_leftover(line)


def test_answers_file_records_the_scenario_answers(project: RenderedProject):
    recorded = project.recorded
    assert recorded["_src_path"]
    assert recorded["_commit"]
    for question, answer in project.given.items():
        assert recorded[question] == answer, f"{question} recorded as {recorded[question]!r}"
    questions = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    always_asked = [
        name
        for name, spec in questions.items()
        if not name.startswith("_") and not (isinstance(spec, dict) and "when" in spec)
    ]
    assert set(always_asked) <= set(recorded), "questions missing from .copier-answers.yml"


# -- it parses ----------------------------------------------------------------------------------


def test_every_python_file_compiles(project: RenderedProject):
    for path in text_files(project, ".py"):
        compile(path.read_text(), str(path), "exec", dont_inherit=True)


def test_test_files_have_distinct_names(project: RenderedProject):
    """The project's tests run without __init__.py files (pytest's default import mode): two test
    files of one name in different folders fail collection ("import file mismatch")."""
    names = Counter(path.name for path in (project.path / "tests").rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


def test_every_yaml_file_parses(project: RenderedProject):
    files = text_files(project, ".yml", ".yaml")
    assert files, "a project always has YAML (conf/, .copier-answers.yml)"
    for path in files:
        try:
            yaml.load(path.read_text(), Loader=CiYamlLoader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            pytest.fail(f"{path.relative_to(project.path)} is not valid YAML: {exc}")


def test_every_toml_and_json_file_parses(project: RenderedProject):
    for path in text_files(project, ".toml"):
        tomllib.loads(path.read_text())
    for path in text_files(project, ".json"):
        json.loads(path.read_text())


# -- it is a real, clean Python project ---------------------------------------------------------


def ruff(project: RenderedProject, *args: str) -> subprocess.CompletedProcess[str]:
    """Ruff run in the project, so that it uses the project's own ruff.toml."""
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--no-cache", "."],
        cwd=project.path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_ruff_finds_no_lint_errors(project: RenderedProject):
    assert (project.path / "ruff.toml").is_file()
    result = ruff(project, "check", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_would_change_nothing(project: RenderedProject):
    result = ruff(project, "format", "--diff")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_console_script_points_to_a_function(project: RenderedProject):
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    scripts = pyproject["project"]["scripts"]
    slug = project.recorded["project_slug"]
    assert slug in scripts, "the CLI is named after the project"
    for name, target in scripts.items():
        assert name.startswith(slug), f"script {name} is not prefixed with {slug}"
        module, _, function = target.partition(":")
        source = module_source(project.path / "src", module)
        defined = {
            node.name
            for node in ast.parse(source.read_text()).body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert function in defined, f"{name} = {target!r}: no function {function} in {source}"


def module_source(src: Path, module: str) -> Path:
    base = src.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    pytest.fail(f"module {module} not found under {src}")


# -- answers that shape the project -------------------------------------------------------------


def test_custom_project_name_derives_slug_package_and_names(render_scenario):
    # the longest names the questions accept (60 and 40), from an accented name
    project = render_scenario("no_ci")
    recorded = project.recorded
    slug = "prevision-de-l-attrition-des-clienteles-bancaires-europeenne"
    package = "prevision_de_l_attrition_des_clienteles"
    assert (len(slug), len(package)) == (60, 39)  # the 40th character was an "_"
    assert recorded["project_slug"] == slug
    assert recorded["package_name"] == package
    assert recorded["schema_name"] == package
    assert recorded["model_name"] == f"{package}_model"
    assert (project.path / "src" / package / "__init__.py").is_file()
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == slug
    assert pyproject["project"]["scripts"][slug] == f"{package}.cli:main"
    assert not (project.path / "src" / "fraud_detection").exists()


def test_python_version_answer_reaches_the_project(render_scenario):
    for scenario, version in (("default", "3.11"), ("no_ci", "3.12")):
        project = render_scenario(scenario)
        assert (project.path / ".python-version").read_text().strip() == version
        pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
        assert pyproject["project"]["requires-python"] == f">={version}"


def test_no_ci_scenario_has_no_ci_files(render_scenario):
    project = render_scenario("no_ci")
    present = [name for name in CI_FILES if (project.path / name).exists()]
    assert not present, f"ci_provider none still renders {present}"
