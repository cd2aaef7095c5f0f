"""Fast tier: the Databricks bundle of every rendered project (each CI provider with each cloud)
passes the offline checks of `checks/bundle.py`, and a bundle broken on purpose does not.

The Databricks CLI cannot be installed here; the generated project's CI runs the real
`databricks bundle validate --strict`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from checks import bundle as checks
from checks.render import CI_PROVIDERS, CLOUDS, rendered, writable_copy

MATRIX = [
    pytest.param((ci_provider, cloud), id=f"{ci_provider}-{cloud}")
    for ci_provider in CI_PROVIDERS
    for cloud in CLOUDS
]


@pytest.fixture(params=MATRIX)
def project(request: pytest.FixtureRequest) -> Path:
    ci_provider, cloud = request.param
    return rendered(ci_provider=ci_provider, cloud=cloud)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A writable copy of the default project, for a test to break."""
    return writable_copy(rendered(ci_provider="github_actions", cloud="aws"), tmp_path)


def answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


# -- every rendered bundle passes every check ---------------------------------------------------


def test_bundle_keys_are_ones_the_cli_knows(project: Path):
    assert checks.check_keys(checks.load_bundle(project)) == []


def test_every_resource_loads_into_its_databricks_bundles_model(project: Path):
    bundle = checks.load_bundle(project)
    kinds = {kind for target in bundle.targets for kind in bundle.resources(target)}
    assert {"jobs", "schemas", "registered_models", "experiments"} <= kinds
    assert checks.check_resources_load(bundle) == []


def test_every_reference_resolves(project: Path):
    assert checks.check_references(checks.load_bundle(project)) == []


def test_every_wheel_task_calls_an_entry_point_of_the_wheel(project: Path):
    assert checks.check_entry_points(checks.load_bundle(project), project / "pyproject.toml") == []


def test_task_dependencies_and_conditions_are_consistent(project: Path):
    assert checks.check_task_graph(checks.load_bundle(project)) == []


def test_deployment_policy(project: Path):
    assert checks.check_deployment_policy(checks.load_bundle(project)) == []


def test_bundle_names_agree_with_the_project_configuration(project: Path):
    assert checks.check_agrees_with_conf(checks.load_bundle(project), project) == []


# -- what the bundle deploys --------------------------------------------------------------------


def test_targets_use_the_answered_hosts_and_service_principals(project: Path):
    given, bundle = answers(project), checks.load_bundle(project)
    for target in ("dev", "staging", "prod"):
        assert bundle.targets[target]["workspace"]["host"] == given[f"databricks_host_{target}"]
    for target in ("staging", "prod"):
        principal = given[f"{target}_service_principal"]
        assert bundle.targets[target]["run_as"] == {"service_principal_name": principal}
        root = bundle.targets[target]["workspace"]["root_path"]
        assert root.startswith(f"/Workspace/Users/{principal}/"), "deployed to the principal's home"
    assert bundle.variable_value("notification_email", "prod") == given["notification_email"]


def test_wheel_is_built_with_uv(project: Path):
    artifacts = checks.load_bundle(project).config["artifacts"]
    assert [spec["build"] for spec in artifacts.values()] == ["uv build --wheel"]


def test_training_runs_train_then_validate_then_deploy(project: Path):
    bundle, slug = checks.load_bundle(project), answers(project)["project_slug"]
    tasks = bundle.resources("prod")["jobs"]["training"]["tasks"]
    assert [t["python_wheel_task"]["entry_point"] for t in tasks] == [
        f"{slug}-train",
        f"{slug}-validate",
        f"{slug}-deploy",
    ]
    assert [t.get("depends_on") for t in tasks] == [
        None,
        [{"task_key": "train"}],
        [{"task_key": "validate"}],
    ]


def test_monitoring_always_runs_retrain_which_decides_from_the_monitoring_table(project: Path):
    bundle, slug = checks.load_bundle(project), answers(project)["project_slug"]
    tasks = {t["task_key"]: t for t in bundle.resources("prod")["jobs"]["monitoring"]["tasks"]}
    assert list(tasks) == ["monitor", "retrain"]  # no condition on task values
    assert tasks["monitor"]["python_wheel_task"]["entry_point"] == f"{slug}-monitor"
    assert tasks["retrain"]["depends_on"] == [{"task_key": "monitor"}]
    assert tasks["retrain"]["python_wheel_task"]["entry_point"] == f"{slug}-retrain"


def test_every_task_gets_the_job_run_and_the_git_commit(project: Path):
    bundle = checks.load_bundle(project)
    for target in bundle.targets:
        for job in bundle.resources(target)["jobs"].values():
            for task in job["tasks"]:
                if "python_wheel_task" not in task:
                    continue  # run_job_task: the job it runs passes them
                parameters = task["python_wheel_task"]["parameters"]
                assert "run.id={{job.run_id}}" in parameters
                assert "run.git_commit=${bundle.git.commit}" in parameters


def test_tasks_pass_the_target_as_env(project: Path):
    bundle = checks.load_bundle(project)
    for target in bundle.targets:
        for job in bundle.resources(target)["jobs"].values():
            for task in job["tasks"]:
                if "python_wheel_task" in task:
                    assert task["python_wheel_task"]["parameters"][:2] == [
                        "--env",
                        "${bundle.target}",
                    ]


def test_synthetic_data_never_reaches_prod(project: Path):
    bundle, slug = checks.load_bundle(project), answers(project)["project_slug"]
    for target in bundle.targets:
        entry_points = {
            task["python_wheel_task"]["entry_point"]
            for job in bundle.resources(target)["jobs"].values()
            for task in job["tasks"]
            if "python_wheel_task" in task
        }
        assert (f"{slug}-data" in entry_points) == (target != "prod"), target
    assert "smoke_test" not in bundle.resources("prod")["jobs"]


def test_pipeline_entry_points_are_those_the_issue_names(project: Path):
    """The wheel exposes one console script per step; the bundle references every one."""
    slug = answers(project)["project_slug"]
    bundle = checks.load_bundle(project)
    named = {
        task["python_wheel_task"]["entry_point"]
        for target in bundle.targets
        for job in bundle.resources(target)["jobs"].values()
        for task in job["tasks"]
        if "python_wheel_task" in task
    }
    steps = ("data", "features", "train", "validate", "deploy", "rollback", "inference", "monitor")
    extra = ("retrain", "check", "tune", "stream", "promote", "card")
    assert named == {f"{slug}-{step}" for step in (*steps, *extra)}
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    assert named <= set(scripts)


# -- a broken bundle fails the checks -----------------------------------------------------------


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def test_a_typo_in_a_resource_key_is_reported(broken: Path):
    edit(broken / "resources" / "training.yml", "max_concurrent_runs:", "max_concurent_runs:")
    problems = checks.check_resources_load(checks.load_bundle(broken))
    assert problems
    assert all("max_concurent_runs" in p for p in problems)
    assert {p.split(":")[0] for p in problems} == {"dev", "staging", "prod"}


def test_a_typo_in_a_task_key_is_reported(broken: Path):
    edit(broken / "resources" / "features.yml", "entry_point:", "entrypoint:")
    problems = checks.check_resources_load(checks.load_bundle(broken))
    assert any("entrypoint" in p and "PythonWheelTask" in p for p in problems)


def test_a_bad_enum_value_is_reported(broken: Path):
    bad_condition = (BREACH % "monitor").replace("op: EQUAL_TO", "op: EQUALS")
    edit(broken / "resources" / "monitoring.yml", "        - task_key: retrain\n", bad_condition)
    problems = checks.check_resources_load(checks.load_bundle(broken))
    assert any("EQUALS" in p for p in problems)


def test_a_missing_required_key_is_reported(broken: Path):
    edit(
        broken / "resources" / "ml_assets.yml",
        "      catalog_name: ${var.catalog}\n      name:",
        "      name:",
    )
    problems = checks.check_resources_load(checks.load_bundle(broken))
    assert any("schemas.project" in p and "catalog_name" in p for p in problems)


def test_an_undeclared_variable_is_reported(broken: Path):
    edit(broken / "resources" / "inference.yml", "${var.notification_email}", "${var.notify_email}")
    problems = checks.check_references(checks.load_bundle(broken))
    assert problems == [
        f"{target}: ${{var.notify_email}} is not declared under variables"
        for target in ("dev", "staging", "prod")
    ]


def test_a_reference_to_a_missing_resource_is_reported(broken: Path):
    edit(
        broken / "resources" / "training.yml",
        "${resources.schemas.project.name}",
        "${resources.schemas.projet.name}",
    )
    problems = checks.check_references(checks.load_bundle(broken))
    assert any("resources.schemas.projet.name" in p for p in problems)


def test_an_unknown_reference_namespace_is_reported(broken: Path):
    edit(
        broken / "resources" / "features.yml",
        "${var.schedule_pause_status}",
        "${vars.schedule_pause_status}",
    )
    problems = checks.check_references(checks.load_bundle(broken))
    assert any("unknown namespace 'vars'" in p for p in problems)


def test_a_typo_in_a_top_level_key_is_reported(broken: Path):
    edit(broken / "databricks.yml", "\nvariables:\n", "\nvaraibles:\n")
    problems = checks.check_keys(checks.load_bundle(broken))
    assert "databricks.yml: unknown key 'varaibles'" in problems


def test_a_typo_in_a_target_key_is_reported(broken: Path):
    edit(broken / "databricks.yml", "    run_as:\n", "    runas:\n")
    problems = checks.check_keys(checks.load_bundle(broken))
    assert "targets.staging: unknown key 'runas'" in problems


def test_an_entry_point_missing_from_the_wheel_is_reported(broken: Path):
    slug = answers(broken)["project_slug"]
    edit(
        broken / "resources" / "training.yml",
        f"entry_point: {slug}-validate",
        f"entry_point: {slug}-validation",
    )
    problems = checks.check_entry_points(checks.load_bundle(broken), broken / "pyproject.toml")
    reported = [p for p in problems if f"'{slug}-validation' is not in [project.scripts]" in p]
    assert [p.split(":")[0] for p in reported] == ["dev", "staging", "prod"]


def test_a_wrong_wheel_name_is_reported(broken: Path):
    package = answers(broken)["project_slug"].replace("-", "_")
    edit(broken / "resources" / "inference.yml", f"package_name: {package}", "package_name: other")
    problems = checks.check_entry_points(checks.load_bundle(broken), broken / "pyproject.toml")
    assert any("package_name 'other'" in p for p in problems)


BREACH = """\
        - task_key: breach
          depends_on:
            - task_key: monitor
          condition_task:
            left: "{{tasks.%s.values.status}}"
            op: EQUAL_TO
            right: alert
        - task_key: retrain
"""


def test_a_condition_on_the_task_values_of_a_wheel_task_is_reported(broken: Path):
    edit(
        broken / "resources" / "monitoring.yml", "        - task_key: retrain\n", BREACH % "monitor"
    )
    problems = checks.check_task_graph(checks.load_bundle(broken))
    assert any("reads task values of 'monitor', a wheel task" in p for p in problems)


def test_a_condition_without_its_source_task_is_reported(broken: Path):
    edit(
        broken / "resources" / "monitoring.yml",
        "        - task_key: retrain\n",
        BREACH % "monitoring",
    )
    problems = checks.check_task_graph(checks.load_bundle(broken))
    assert any("reads values of 'monitoring' without depending on it" in p for p in problems)


def test_a_schedule_live_outside_prod_is_reported(broken: Path):
    edit(broken / "databricks.yml", "    default: PAUSED", "    default: UNPAUSED")
    problems = checks.check_deployment_policy(checks.load_bundle(broken))
    assert problems
    assert all(re.search(r"(dev|staging): .* UNPAUSED in", p) for p in problems)


def test_a_catalog_that_disagrees_with_the_configuration_is_reported(broken: Path):
    given = answers(broken)
    edit(
        broken / "databricks.yml",
        f"      catalog: {given['catalog_staging']}\n",
        "      catalog: other\n",
    )
    problems = checks.check_agrees_with_conf(checks.load_bundle(broken), broken)
    assert problems == [
        f"staging: variable catalog is 'other' but conf/staging.yml runtime.catalog is "
        f"{given['catalog_staging']!r}"
    ]
