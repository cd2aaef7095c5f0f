"""Docs tier: the documentation site builds, explains every question, and links resolve.

Two tables in docs/ are generated from the sources they describe (the questions of copier.yml,
the scenarios of tests/scenarios/); a test fails when one is out of date, and rewrites it with

    UPDATE_DOCS=1 uv run pytest tests/test_docs.py

The generated projects' own docs (README.md, docs/*.md) are checked in every scenario: no
relative link may point to a file the project does not have.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scenario_matrix as matrix
import yaml

if TYPE_CHECKING:
    from conftest import RenderedProject

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
UPDATE_DOCS = os.environ.get("UPDATE_DOCS") == "1"

# [text](target) and [text](<target>), not images' sources; targets end at a space or ")"
MARKDOWN_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\)")


# -- the site -----------------------------------------------------------------------------------


def test_the_site_builds_in_strict_mode(tmp_path: Path):
    """Strict: a broken link, a missing anchor or a page left out of the nav fails the build."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    built = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("index.html")}
    for page in ("getting-started", "questions", "architecture", "updating", "adopting", "ci-cd"):
        assert f"{page}/index.html" in built, f"the site has no {page} page"
    assert "faq/index.html" in built


def test_a_link_to_a_missing_repository_file_fails_the_build(tmp_path: Path):
    """Links out of docs/ are checked by mkdocs_hooks.py: a missing target is a warning."""
    docs = tmp_path / "repo" / "docs"
    docs.mkdir(parents=True)
    (docs / "index.md").write_text("# Home\n\n[notes](../NOTES.md) and [readme](../README.md)\n")
    (tmp_path / "repo" / "README.md").write_text("# Readme\n")
    config = tmp_path / "repo" / "mkdocs.yml"
    config.write_text(f"site_name: t\nhooks:\n  - {REPO_ROOT / 'mkdocs_hooks.py'}\n")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)],
        cwd=tmp_path / "repo",
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert "WARNING -  index.md links to NOTES.md, which is not in the repository" in warnings
    assert all("NOTES.md" in line for line in warnings), "the README link is fine"


def test_every_page_is_in_the_nav():
    config = yaml.load((REPO_ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    listed = {next(iter(entry.values())) for entry in config["nav"]}
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert pages == listed, f"pages not in the nav: {pages - listed}; missing: {listed - pages}"


# -- generated tables ---------------------------------------------------------------------------


def replace_block(path: Path, name: str, generated: str) -> None:
    """Compare the block between `<!-- name:start -->` and `<!-- name:end -->` with `generated`."""
    text = path.read_text()
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    assert start in text, f"{path.name} has no {start.strip()} marker"
    assert end in text, f"{path.name} has no {end} marker"
    before, rest = text.split(start, 1)
    current, after = rest.split(end, 1)
    if UPDATE_DOCS:
        path.write_text(before + start + generated + end + after)
        return
    assert current == generated, (
        f"the table in {path.relative_to(REPO_ROOT)} is out of date: "
        "UPDATE_DOCS=1 uv run pytest tests/test_docs.py"
    )


def cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ").strip()


def is_jinja(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def questions_table(defaults: dict[str, Any]) -> str:
    rows = ["| question | default | choices | asked | help |", "|---|---|---|---|---|"]
    for name, spec in matrix.questions().items():
        default = f"`{cell(defaults[name])}`" + (" (derived)" if is_jinja(spec["default"]) else "")
        choices = ", ".join(f"`{cell(value)}`" for value in matrix.choice_values(name))
        # every `when` starts with the answer check of hooks/answers.jinja; then the condition
        condition = spec.get("when", "true").rsplit(") }}", 1)[-1].strip("{} ")
        asked = "always" if condition == "true" else f"when `{cell(condition)}`"
        rows.append(f"| `{name}` | {default} | {choices} | {asked} | {cell(spec['help'])} |")
    return "\n".join(rows) + "\n"


def test_the_questions_table_is_generated_from_copier_yml(render_scenario):
    """Defaults as a project with every default records them (derived ones computed)."""
    recorded = render_scenario("default").recorded
    replace_block(DOCS / "questions.md", "questions-table", questions_table(recorded))


def test_every_question_is_explained():
    text = (DOCS / "questions.md").read_text()
    explained = re.findall(r"^### `([a-z_]+)`$", text, flags=re.MULTILINE)
    assert explained == list(matrix.questions()), (
        "docs/questions.md needs one `### `name`` section per question, in copier.yml's order"
    )
    sections = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    for section in sections:
        body = section.split("\n", 1)[1].strip()
        assert len(body) > 40, f"the section {section.splitlines()[0]} says too little"


def scenarios_table() -> str:
    rows = ["| scenario | answers | covers |", "|---|---|---|"]
    for name in matrix.scenario_names():
        answers = matrix.scenario_answers(name)
        if not answers:
            given = "every default"
        elif len(answers) > 8:
            given = f"every question ({len(answers)} answers)"
        else:
            given = ", ".join(f"{key}={value}" for key, value in answers.items())
        text = (matrix.SCENARIOS_DIR / f"{name}.yml").read_text()
        comment = " ".join(
            line.removeprefix("#").strip() for line in text.splitlines() if line.startswith("#")
        )
        rows.append(f"| `{name}` | {cell(given)} | {cell(comment)} |")
    return "\n".join(rows) + "\n"


def test_the_scenarios_table_lists_every_scenario():
    replace_block(DOCS / "development.md", "scenarios-table", scenarios_table())


def test_the_slow_tier_scenarios_named_in_the_docs_are_current():
    text = (DOCS / "development.md").read_text()
    named = ", ".join(f"`{name}`" for name in matrix.slow_tier_scenarios())
    assert f"({named} today)" in text


# -- a generated project's docs -----------------------------------------------------------------


def relative_links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)  # code is not a link
    return [
        target
        for target in MARKDOWN_LINK.findall(text)
        if not re.match(r"^[a-z]+:", target) and not target.startswith("#")
    ]


def test_generated_docs_have_no_broken_relative_link(project: RenderedProject):
    pages = [project.path / name for name in project.files() if name.endswith(".md")]
    assert project.path / "README.md" in pages
    broken = []
    checked = 0
    for page in pages:
        for target in relative_links(page):
            checked += 1
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(project.path)} -> {target}")
    assert checked >= 10, "the README and the guides link to each other"
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_generated_docs_include_the_guides(project: RenderedProject):
    for guide in ("onboarding", "runbook", "updating", "ci-cd-setup"):
        assert f"docs/{guide}.md" in project.files()
    onboarding = (project.path / "docs" / "onboarding.md").read_text()
    package = project.recorded["package_name"]
    assert f"src/{package}/features/transactions.py" in onboarding
    for place in ("model.numeric_features", "validation:", "monitoring:"):
        assert place in onboarding, f"the onboarding guide does not say where {place} lives"


def test_the_readme_starts_with_the_two_commands(project: RenderedProject):
    readme = (project.path / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    slug = project.recorded["project_slug"]
    assert [line.split("#")[0].strip() for line in block] == [
        f"uv run {slug} run all",
        "uv run pytest",
    ]


def test_the_example_request_matches_the_model_features(project: RenderedProject):
    """docs/example-request.json is what `serve` suggests to curl: the model's columns and the
    key that routes a request (deployment.traffic.request_key), one customer's."""
    request = json.loads((project.path / "docs" / "example-request.json").read_text())
    conf = yaml.safe_load((project.path / "conf" / "project.yml").read_text())
    model, key = conf["model"], conf["deployment"]["traffic"]["request_key"]
    columns = request["dataframe_split"]["columns"]
    assert columns == model["numeric_features"] + model["categorical_features"] + [key]
    assert len({row[-1] for row in request["dataframe_split"]["data"]}) == 1
    categories = yaml.safe_load((project.path / "conf" / "project.yml").read_text())["contract"][
        "merchant_categories"
    ]
    n_numeric = len(model["numeric_features"])
    for row in request["dataframe_split"]["data"]:
        assert len(row) == len(columns)
        assert all(isinstance(value, float) for value in row[:n_numeric])
        assert all(value in categories for value in row[n_numeric:-1])


def test_a_project_without_ci_never_says_that_ci_does_something(render_scenario):
    """The no-CI onboarding tells people what to run by hand instead of what CI would do."""
    project = render_scenario("no_ci").path
    for page in [project / "README.md", *sorted((project / "docs").glob("*.md"))]:
        text = " ".join(page.read_text().split())
        for claim in ("CI deploys", "the push to `release/", "CI runs"):
            assert claim not in text, f"{page.name} says {claim!r} in a project without CI"
