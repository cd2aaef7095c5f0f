"""Fast tier: the named scenarios cover every CI provider, every cloud and every option.

Each file in `tests/scenarios/` is rendered and checked by every test that uses the `project`
fixture (tests/test_render.py). This module checks the matrix itself: that together the files
cover what the template supports, and that `scenario_matrix.code_variants()`, which tells the
slow tier which scenarios differ in code, agrees with what the scenarios really render.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
import scenario_matrix as matrix

SCENARIOS = matrix.scenario_names()


def answered(question: str) -> set:
    """Every value the scenarios give to a question, with its default for those that do not."""
    default = matrix.questions()[question].get("default")
    return {matrix.scenario_answers(name).get(question, default) for name in SCENARIOS}


@pytest.mark.parametrize(
    "question", [q for q, spec in matrix.questions().items() if spec.get("choices")]
)
def test_every_choice_of_every_choice_question_is_a_scenario(question: str):
    given = answered(question)
    missing = [value for value in matrix.choice_values(question) if value not in given]
    assert not missing, f"no scenario answers {question} with {missing}: add one"


def test_every_ci_provider_meets_every_cloud():
    pairs = {
        (answers.get("ci_provider", "github_actions"), answers.get("cloud", "aws"))
        for answers in map(matrix.scenario_answers, SCENARIOS)
    }
    wanted = itertools.product(matrix.choice_values("ci_provider"), matrix.choice_values("cloud"))
    missing = sorted(set(wanted) - pairs)
    assert not missing, f"no scenario for these (ci_provider, cloud) pairs: {missing}"


def test_client_secrets_are_a_scenario_for_every_ci_provider():
    providers = {
        answers.get("ci_provider", "github_actions")
        for answers in map(matrix.scenario_answers, SCENARIOS)
        if answers.get("ci_auth") == "secrets"
    }
    assert providers == set(matrix.choice_values("ci_provider")) - {"none"}


def test_every_free_text_question_is_answered_by_some_scenario():
    """Answered, not left to its default: a value of its own reaches every file that uses it."""
    free_text = [q for q, spec in matrix.questions().items() if not spec.get("choices")]
    given = {q for name in SCENARIOS for q in matrix.scenario_answers(name)}
    assert not set(free_text) - given, "answer them in tests/scenarios/custom.yml"


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_scenario_answers_only_questions_that_exist_and_are_asked(name: str):
    answers = matrix.scenario_answers(name)
    unknown = set(answers) - set(matrix.questions())
    assert not unknown, f"{name}.yml answers questions copier.yml does not have: {unknown}"
    if answers.get("ci_provider") == "none":
        assert "ci_auth" not in answers, "ci_auth is not asked without a CI provider"
        assert "repository_path" not in answers, "repository_path is not asked without CI"


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_scenario_says_what_it_covers(name: str):
    first = (matrix.SCENARIOS_DIR / f"{name}.yml").read_text().splitlines()[0]
    assert first.startswith("# "), f"{name}.yml: start with a comment saying what it covers"
    assert len(first) > 20, f"{name}.yml: say what the scenario covers in its first line"


def code_fingerprint(project) -> str:
    """A hash of the rendered code files: the paths and contents the slow tier would install."""
    digest = hashlib.sha256()
    for relative in project.files():
        if matrix.is_code_path(relative):
            digest.update(relative.encode() + b"\0" + (project.path / relative).read_bytes())
    return digest.hexdigest()


def test_code_questions_are_those_that_reach_the_code():
    # the names the code is built from, and the answers they derive from
    assert {"package_name", "project_slug", "project_name", "python_version"} <= (
        matrix.code_questions()
    )
    # deployment-only questions: they shape databricks.yml, resources/ and CI/CD files only
    assert not {"cloud", "ci_provider", "ci_auth", "databricks_host_prod"} & (
        matrix.code_questions()
    )


def test_scenarios_render_the_same_code_exactly_when_they_are_grouped_together(render_scenario):
    """The slow tier runs one scenario per group: a group must not hide a code difference, and
    two groups must not install the same code twice."""
    fingerprints = {name: code_fingerprint(render_scenario(name)) for name in SCENARIOS}
    groups = list(matrix.code_variants().values())
    for group in groups:
        rendered = {fingerprints[name] for name in group}
        assert len(rendered) == 1, f"{group} are grouped but render different code"
    representatives = [fingerprints[group[0]] for group in groups]
    assert len(set(representatives)) == len(groups), (
        "two groups render the same code: a scenario answers a code question with its default"
    )
    assert matrix.slow_tier_scenarios()[0] == "default"
