"""No answer is ever executed or injected (hooks/answers.jinja is the one place of the rules).

Three layers, each tested here:
- the rules: every hostile answer below gets a one-line message naming its question, every
  unusual but legitimate answer passes (rendered directly with the same Jinja filters Copier uses);
- the wiring: every question of copier.yml checks its answer through those rules, both as its
  `validator` (interactive) and in its `when` (`--data`, before anything is written), and the
  first-commit task runs without a shell;
- the outcome: the real `copier` command, with tasks enabled, refuses shell and YAML payloads with
  one line and no traceback, runs nothing and writes nothing; legitimate answers full of quotes,
  colons and non-ASCII letters render projects whose YAML and TOML parse to exactly the answer.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import jinja2
import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

REPO_ROOT = Path(__file__).resolve().parents[1]

# (question, answer): each must be refused. `{canary}`: a file that a successful injection creates.
HOSTILE = [
    # shell: the first-commit task, release scripts of the CI files
    ("default_branch", "main;touch {canary}"),
    ("default_branch", "m$(touch {canary})"),
    ("default_branch", "m`touch {canary}`"),
    ("default_branch", "main&&touch {canary}"),
    ("default_branch", "main|tee {canary}"),
    ("default_branch", "main>{canary}"),
    ("default_branch", "$HOME"),
    ("default_branch", "*"),
    ("default_branch", "main,dev"),
    ("default_branch", "main dev"),
    ("default_branch", "-main"),
    ("default_branch", "main\ntouch {canary}"),
    ("default_branch", "../main"),
    ("default_branch", "main..x"),
    ("default_branch", "main.lock"),
    ("default_branch", "HEAD"),
    ("default_branch", "release/1.0"),
    ("default_branch", "main'"),
    ("default_branch", 'main"'),
    ("repository_path", "../escape"),
    ("repository_path", "org/.."),
    ("repository_path", "/org/repo"),
    ("repository_path", "org"),
    ("repository_path", "org/repo;touch {canary}"),
    ("repository_path", "org/re po"),
    ("repository_path", "org/-repo"),
    # YAML: a line break adds keys, an indicator character changes the value's type
    ("project_name", "Fraud\nrun_as:\n  service_principal_name: evil"),
    ("project_name", "Fraud\r\nx"),
    ("project_name", "a\tb"),
    ("project_name", "Fraud\u2028run_as: x"),
    ("project_name", "${workspace.current_user.userName}"),
    ("project_name", ""),
    ("project_name", "   "),
    ("project_name", "x" * 201),
    ("description", "x\nrun_as:\n  service_principal_name: evil"),
    ("description", "Scores ${var.catalog} data"),
    ("author_name", "a\nb"),
    ("author_name", " "),
    ("author_email", "@x.com"),
    ("author_email", "a@"),
    ("author_email", "a b@x.com"),
    ("author_email", "a@x.com\nrun_as: y"),
    ("author_email", "a@x.com;touch {canary}"),
    ("notification_email", "alerts"),
    ("notification_email", "a@x.com,b@y.com"),
    ("databricks_host_dev", "https://x.com?a=b"),
    ("databricks_host_dev", "https://x.com/path"),
    ("databricks_host_staging", "http://x.com"),
    ("databricks_host_staging", "https://x.com:8443"),
    ("databricks_host_prod", "https://user@x.com"),
    ("databricks_host_prod", "https://x.com\nrun_as: y"),
    ("databricks_host_prod", "https://x.com#frag"),
    # names: Python imports, folders, Unity Catalog and SQL
    ("package_name", "email"),
    ("package_name", "json"),
    ("package_name", "class"),
    ("package_name", "flask"),
    ("package_name", "mlflow"),
    ("package_name", "Fraud"),
    ("package_name", "9lives"),
    ("package_name", "a-b"),
    ("project_slug", "Fraud"),
    ("project_slug", "-x"),
    ("project_slug", "x--y"),
    ("project_slug", "../x"),
    ("catalog_dev", "ml-dev"),
    ("catalog_staging", "Dev"),
    ("catalog_prod", "prod; DROP SCHEMA x"),
    ("schema_name", "x.y"),
    ("model_name", "m`1`"),
    ("staging_service_principal", "sp-staging"),
    ("prod_service_principal", "00000000-0000-0000-0000-000000000000;x"),
    ("team_group", " team"),
    ("team_group", "team\nx"),
    ("team_group", "team;touch {canary}"),
    ("team_group", "${var.x}"),
    # choices
    ("cloud", "ibm"),
    ("ci_provider", "jenkins"),
    ("python_version", "3.10"),
    ("ci_auth", "token"),
]

# Unusual but legitimate: each must pass, and (below) render into parseable files.
LEGITIMATE = [
    ("project_name", 'Fraud "Detection": v2 # beta'),
    ("project_name", "Détection de fraude Œuvre"),
    ("project_name", "O'Brien's {{ model }} [beta] &anchor *alias"),
    ("description", 'Scores "card not present" payments: fast # really'),
    ("description", r"Reads C:\data exports; - item ? key {% raw %}"),
    ("author_name", 'O\'Brien "Risk" Team, Équipe ML'),
    ("author_email", "ml.platform+fraud@bank-example.co.uk"),
    ("default_branch", "1.0"),
    ("default_branch", "dev/main_2"),
    ("team_group", "Data Science @ Bank+"),
    ("repository_path", "group/sub-group/project.name"),
    ("databricks_host_dev", "https://adb-1234567890123456.7.azuredatabricks.net"),
    ("databricks_host_prod", "https://DBC-1.cloud.databricks.com/"),  # accepted by 0.1.0: kept
    ("notification_email", "ml-team@corp"),  # accepted by 0.1.0: kept
]


@pytest.fixture(scope="module")
def rules():
    """hooks/answers.jinja as Copier loads it: sandboxed, with Copier's default Ansible filters."""
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(REPO_ROOT),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
    )
    return env.get_template("hooks/answers.jinja").module


@pytest.mark.parametrize(("question", "answer"), HOSTILE)
def test_hostile_answer_gets_one_line_naming_the_question(rules, question, answer):
    message = str(rules.problem(question, answer.replace("{canary}", "/tmp/canary"))).strip()
    assert message.startswith(f"{question}: "), message
    assert "\n" not in message


@pytest.mark.parametrize(("question", "answer"), LEGITIMATE)
def test_legitimate_answer_passes(rules, question, answer):
    assert not str(rules.problem(question, answer)).strip()


def test_no_standard_library_module_can_be_the_package(rules):
    names = sorted(name for name in sys.stdlib_module_names if not name.startswith("_"))
    accepted = [name for name in names if not str(rules.problem("package_name", name)).strip()]
    # names with capitals (cProfile) fail the alphabet already
    assert not accepted, f"hooks/answers.jinja STDLIB lacks {accepted}"


def test_every_question_checks_its_answer_both_ways():
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    questions = {
        name: spec
        for name, spec in config.items()
        if not name.startswith("_") and spec.get("when") is not False  # computed, never asked
    }
    rule_source = (REPO_ROOT / "hooks" / "answers.jinja").read_text()
    for name, spec in questions.items():
        reject = f"{{{{ reject('{name}', {name}) }}}}"
        assert reject in spec.get("when", ""), f"{name}: `when` must call {reject}"
        if "choices" not in spec:  # choices are refused by Copier itself when typed
            problem = f"{{{{ problem('{name}', {name}) }}}}"
            assert problem in spec.get("validator", ""), f"{name}: `validator` must call {problem}"
        assert (
            f'"{name}"' in rule_source
            or name.startswith(("databricks_host_", "catalog_"))
            or (name.endswith("_service_principal"))
        ), f"hooks/answers.jinja has no rule for {name}"


def test_the_first_commit_task_runs_without_a_shell():
    tasks = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())["_tasks"]
    assert all(isinstance(task["command"], list) for task in tasks), "a str command runs in a shell"


# The real command line, tasks enabled: a representative of each way in.
THROUGH_THE_CLI = [
    ("default_branch", "main;touch {canary}"),
    ("default_branch", "m$(touch {canary})"),
    ("default_branch", "m`touch {canary}`"),
    ("default_branch", "*"),
    ("project_name", "Fraud\nrun_as:\n  service_principal_name: evil"),
    ("author_email", "a@x.com;touch {canary}"),
    ("team_group", "team;touch {canary}"),
    ("cloud", "ibm"),
]


@pytest.mark.parametrize(("question", "answer"), THROUGH_THE_CLI)
def test_copier_refuses_in_one_line_runs_nothing_writes_nothing(tmp_path, question, answer):
    canary = tmp_path / "canary"
    destination = tmp_path / "project"
    answer = answer.replace("{canary}", str(canary))
    result = subprocess.run(
        [
            sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD",
            "--data", f"{question}={answer}", str(REPO_ROOT), str(destination),
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert f"Invalid answer. {question}: " in result.stderr
    assert not canary.exists(), "the answer ran a command"
    assert not destination.exists() or not any(destination.iterdir()), "files were written"


@pytest.mark.parametrize("ci_provider", ["github_actions", "gitlab", "azure_devops"])
def test_legitimate_answers_land_exactly_as_given(render_answers, ci_provider):
    """All the awkward legitimate answers at once: every YAML and TOML file parses, the bundle keeps
    its shape, and each answer reads back unchanged where it is a value."""
    answers = {question: answer for question, answer in LEGITIMATE if question != "project_name"}
    answers |= {"project_name": LEGITIMATE[2][1], "package_name": "fraud_model"}
    answers |= {"ci_provider": ci_provider, "default_branch": "1.0"}
    project = render_answers(answers)
    default = render_answers({"ci_provider": ci_provider})

    for path in sorted(project.rglob("*.y*ml")):
        if ".git" not in path.parts:
            yaml.safe_load(path.read_text())  # raises on a broken file
    bundle = yaml.safe_load((project / "databricks.yml").read_text())
    assert bundle.keys() == yaml.safe_load((default / "databricks.yml").read_text()).keys()
    assert bundle["variables"]["team_group"]["default"] == answers["team_group"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert pyproject["description"] == answers["description"]
    author = {"name": answers["author_name"], "email": answers["author_email"]}
    assert pyproject["authors"] == [author]
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {k: recorded[k] for k in answers} == answers
    if ci_provider == "github_actions":
        workflow = yaml.safe_load((project / ".github/workflows/pull-request.yml").read_text())
        assert workflow[True]["pull_request"]["branches"] == ["1.0"]  # a string, not 1.0 the float
    if ci_provider == "azure_devops":
        pipeline = yaml.safe_load((project / ".azure-pipelines/staging.yml").read_text())
        assert pipeline["trigger"]["branches"]["include"] == ["1.0"]
