"""Bad answers fail before anything is rendered, with a message that says what to answer.

A `--data` answer is checked in its question's `when` (hooks/answers.jinja): through the Python
API a failure is Copier's `UserMessageError` (the command line prints it as one line, no
traceback: tests/test_answer_safety.py), whose text names the question. Good but unusual answers
derive into valid names instead.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from copier.errors import UserMessageError

REJECTED = [
    pytest.param(
        {"project_name": ""},
        "project_name",
        r"the project name must not be empty",
        id="empty project name",
    ),
    pytest.param(
        {"project_name": "   "},
        "project_name",
        r"the project name must not be empty",
        id="blank project name",
    ),
    pytest.param(
        {"project_name": "+++"},
        "project_slug",
        r"the project slug is empty: the project name has no letters or digits",
        id="project name without letters or digits",
    ),
    pytest.param(
        {"project_slug": "Fraud_Detection"},
        "project_slug",
        r"characters not allowed in a folder name \(F_D\)",
        id="slug with capitals and underscore",
    ),
    pytest.param(
        {"package_name": "mlflow"},
        "package_name",
        r'"mlflow" would shadow a package the project depends on',
        id="package shadowing a dependency",
    ),
    pytest.param(
        {"project_slug": "a" * 61},
        "project_slug",
        r"is 61 characters long; keep it to 60",
        id="slug too long",
    ),
    pytest.param(
        {"package_name": "a" * 41},
        "package_name",
        r"is 41 characters long; keep it to 40",
        id="package name too long",
    ),
    pytest.param(
        {"package_name": "fraud-detection"},
        "package_name",
        r"only lowercase letters, digits and underscores are allowed \(found -\)",
        id="package name with a dash",
    ),
    pytest.param(
        {"databricks_host_dev": "http://x"},
        "databricks_host_dev",
        r'"http://x" is not a workspace URL: use the form https://<workspace-host>',
        id="dev host not https",
    ),
    pytest.param(
        {"databricks_host_prod": "https://dbc-1.cloud.databricks.com/some/path"},
        "databricks_host_prod",
        r"is not a workspace URL: .* with no path",
        id="prod host with a path",
    ),
    pytest.param(
        {"catalog_staging": "ml-staging"},
        "catalog_staging",
        r'"ml-staging" is not a plain Unity Catalog name',
        id="catalog with a dash",
    ),
    pytest.param(
        {"schema_name": "Fraud"},
        "schema_name",
        r'"Fraud" is not a plain Unity Catalog name',
        id="schema with a capital",
    ),
    pytest.param(
        {"author_email": "ml platform"},
        "author_email",
        r"does not look like an e-mail address",
        id="e-mail without @",
    ),
    pytest.param(
        {"default_branch": "release/1.0"},
        "default_branch",
        r"cannot be the default branch",
        id="release branch as default branch",
    ),
    pytest.param(
        {"staging_service_principal": "sp-staging"},
        "staging_service_principal",
        r'"sp-staging" is not an application ID: use the lowercase UUID',
        id="service principal that is not a UUID",
    ),
    pytest.param(
        {"prod_service_principal": "6f1c2d3e-4a5b-6c7d-8e9f"},
        "prod_service_principal",
        r"is not an application ID",
        id="truncated service principal UUID",
    ),
    pytest.param(
        {"repository_path": "fraud-detection"},
        "repository_path",
        r'"fraud-detection" is not a repository path: use the form owner/name',
        id="repository path without its owner",
    ),
    pytest.param(
        {"team_group": " data science "},
        "team_group",
        r"without leading or trailing spaces",
        id="team group with surrounding spaces",
    ),
    pytest.param(
        {"notification_email": "alerts"},
        "notification_email",
        r'"alerts" does not look like an e-mail address',
        id="notification e-mail without @",
    ),
    pytest.param(
        {"cloud": "ibm"},
        "cloud",
        r'"ibm" is not one of the choices: answer aws, azure, gcp',
        id="unknown cloud",
    ),
]


@pytest.mark.parametrize(("answers", "question", "message"), REJECTED)
def test_bad_answer_is_rejected_with_a_clear_message(render_answers, answers, question, message):
    with pytest.raises(UserMessageError, match=message) as failure:
        render_answers(answers)
    assert f"{question}: " in str(failure.value), f"the error should name the question {question}"


def test_nothing_is_rendered_when_an_answer_is_rejected(render_answers, tmp_path):
    with pytest.raises(UserMessageError, match="workspace URL"):
        render_answers({"databricks_host_staging": "staging.example.com"})
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not leftovers


@pytest.mark.parametrize(
    ("project_name", "slug", "package"),
    [
        ("ml/fraud", "ml-fraud", "ml_fraud"),
        ("Fraud Detection v2!", "fraud-detection-v2", "fraud_detection_v2"),
        ("  Credit   Risk  ", "credit-risk", "credit_risk"),
        ("Détection de fraude Œuvre", "detection-de-fraude-oeuvre", "detection_de_fraude_oeuvre"),
        # a derived package name is always valid: a prefix or a suffix where it would not be
        ("3d model", "3d-model", "project_3d_model"),
        ("class", "class", "class_project"),
        ("Email", "email", "email_project"),
        ("MLflow", "mlflow", "mlflow_project"),
    ],
)
def test_project_name_derives_a_folder_and_package_name(
    render_answers, project_name, slug, package
):
    project = render_answers({"project_name": project_name})
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == slug
    assert (project / "src" / package / "__init__.py").is_file()


def test_a_name_starting_with_a_digit_keeps_its_slug_once_the_package_is_answered(render_answers):
    project = render_answers({"project_name": "3d model", "package_name": "model_3d"})
    recorded = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert recorded["name"] == "3d-model"
    assert recorded["scripts"]["3d-model"] == "model_3d.cli:main"


def test_answers_override_the_derived_names(render_answers):
    project = render_answers(
        {"project_name": "Fraud Detection", "project_slug": "fd", "package_name": "fd_core"}
    )
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "fd"
    assert pyproject["project"]["scripts"]["fd"] == "fd_core.cli:main"
    assert (project / "src" / "fd_core").is_dir()


# where a free-text answer lands in the rendered pyproject.toml
IN_PYPROJECT = {
    "description": lambda project: project["description"],
    "author_name": lambda project: project["authors"][0]["name"],
}


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("description", 'Scores "card not present" payments'),
        ("description", r"Reads C:\data exports"),
        ("author_name", 'O\'Brien "Risk" Team'),
    ],
)
def test_free_text_is_either_rejected_or_kept_exactly(render_answers, question, answer):
    """Quotes and backslashes must not break pyproject.toml: reject them clearly or escape them."""
    try:
        project = render_answers({question: answer})
    except UserMessageError as exc:
        rejection = str(exc)
        assert question in rejection, f"the error should name the question: {rejection}"
        return
    text = (project / "pyproject.toml").read_text()
    try:
        pyproject = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"{question}={answer!r} breaks pyproject.toml ({exc}):\n{text[:400]}")
    assert IN_PYPROJECT[question](pyproject["project"]) == answer


def test_readme_documents_every_question():
    root = Path(__file__).resolve().parents[1]
    questions = yaml.safe_load((root / "copier.yml").read_text())
    readme = (root / "README.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", readme, flags=re.MULTILINE))
    asked = {name for name in questions if not name.startswith("_")}
    assert not asked - documented, f"README.md's question table lacks {sorted(asked - documented)}"
    assert not documented - asked, f"README.md documents removed questions {documented - asked}"
