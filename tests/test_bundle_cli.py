"""The bundle tier: the real Databricks CLI validates and deploys every scenario's bundle.

The CLI (pinned by tests/workspace/go.mod, built and cached by checks.databricks_cli) runs
`bundle validate --strict` for every scenario and target against the CLI's own fake workspace
on 127.0.0.1, then `bundle deploy`s each target and reads back what the workspace received:
jobs and tasks, schedules, serverless environments, permissions, grants, the experiment, the
registered model and the schema. Nothing leaves the machine: the targets' hosts are pointed at
the fake workspace in a copy of the rendered project (the only edit made to it).

Identities are the ones CI uses: dev is deployed by a person, staging and prod by their service
principal (a token `dbapi1<application id>` makes the fake workspace answer as that principal).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from checks import databricks_cli as cli
from conftest import SCENARIOS, RenderedProject, project_env

pytestmark = pytest.mark.cli

TARGETS = ("dev", "staging", "prod")
SERVING = "serving/databricks.yml"  # the endpoint's own bundle, deployed once a champion exists
SERVED = ("staging", "prod")
VALIDATE_TIMEOUT = 60
DEPLOY_TIMEOUT = 240  # builds the wheel with uv, uploads it, creates every resource
SERVERLESS_ENVIRONMENT = "5"  # pairs with Databricks Connect 18 (Python 3.12)
DEVELOPER = "tester@databricks.com"  # the fake workspace's user


@pytest.fixture(scope="session")
def binaries() -> cli.Binaries:
    try:
        return cli.build()
    except cli.CliBuildError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def workspace(
    binaries: cli.Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[cli.Workspace]:
    """One fake workspace for the module's validations (each identity gets its own state)."""
    log = tmp_path_factory.mktemp("workspace") / "requests.jsonl"
    with cli.fake_workspace(binaries, log) as served:
        yield served


def point_at(project: RenderedProject, url: str, dst: Path) -> Path:
    """A copy of the rendered project whose three targets' hosts are the fake workspace."""
    shutil.copytree(project.path, dst, ignore=shutil.ignore_patterns(".git"))
    for config, targets in ((dst / "databricks.yml", TARGETS), (dst / SERVING, SERVED)):
        text = config.read_text()
        for target in targets:
            line = f"      host: {project.recorded[f'databricks_host_{target}']}\n"
            assert line in text, f"{config.name} has no `{line.strip()}`"
            text = text.replace(line, f"      host: {url}\n")
        config.write_text(text)
    return dst


def token_for(project: RenderedProject, target: str) -> str:
    """CI's identity of the target: a person in dev, the target's service principal elsewhere."""
    if target == "dev":
        return cli.USER_TOKEN_PREFIX + uuid.uuid4().hex
    return cli.SP_TOKEN_PREFIX + project.recorded[f"{target}_service_principal"].replace("-", "")


def identity(project: RenderedProject, target: str) -> str:
    return DEVELOPER if target == "dev" else project.recorded[f"{target}_service_principal"]


def who(entry: dict[str, str]) -> str:
    """The principal of an access-control entry."""
    return entry.get("group_name") or entry.get("service_principal_name") or entry["user_name"]


def diagnostics(result) -> str:
    return (
        f"exit {result.returncode}\n--- stdout ---\n{result.stdout[-4000:]}\n"
        f"--- stderr ---\n{result.stderr[-4000:]}"
    )


# -- validate --------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_bundle_validates_strictly(
    scenario: str, target: str, render_scenario, binaries, workspace, tmp_path: Path
):
    """`databricks bundle validate --strict` passes with no warning and no recommendation."""
    project = render_scenario(scenario)
    copy = point_at(project, workspace.url, tmp_path / "project")
    env = cli.cli_env(token_for(project, target), tmp_path / "home", project_env())
    result = cli.run_cli(
        binaries, ["bundle", "validate", "--strict", "-t", target, "-o", "json"], copy, env,
        VALIDATE_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, diagnostics(result)
    for finding in ("Warning:", "Error:", "Recommendation:"):
        assert finding not in result.stderr, diagnostics(result)
    resolved = json.loads(result.stdout)
    assert resolved["bundle"]["target"] == target
    assert resolved["workspace"]["current_user"]["userName"] == identity(project, target)


# -- deploy ----------------------------------------------------------------------------------------


@dataclass
class Deployment:
    project: RenderedProject
    target: str
    requests: list[dict[str, Any]]

    def bodies(self, method: str, path: str | re.Pattern[str]) -> list[dict[str, Any]]:
        def hit(request_path: str) -> bool:
            if isinstance(path, re.Pattern):
                return bool(path.fullmatch(request_path))
            return request_path == path

        return [
            r.get("body") or {} for r in self.requests if r["method"] == method and hit(r["path"])
        ]

    def jobs(self) -> dict[str, dict[str, Any]]:
        """Every job created, by the key of its resource (read from the job's name)."""
        return {job["name"]: job for job in self.bodies("POST", "/api/2.2/jobs/create")}

    def acl(self, kind: str) -> list[list[dict[str, Any]]]:
        pattern = re.compile(rf"/api/2\.0/permissions/{kind}/[^/]+")
        return [body["access_control_list"] for body in self.bodies("PUT", pattern)]


def bundle_digest(project: Path) -> str:
    """What `bundle deploy` reads from the project, apart from the hosts: equal digests deploy
    equal resources, so the tier deploys each distinct bundle once per target."""
    digest = hashlib.sha256()
    files = [
        project / "databricks.yml",
        project / "pyproject.toml",
        *sorted(project.glob("resources/*.yml")),
    ]
    for path in files:
        text = re.sub(r"^ *host: .*$", "", path.read_text(), flags=re.M)
        digest.update(f"{path.relative_to(project).as_posix()}\n{text}".encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def deploy(
    binaries: cli.Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[RenderedProject, str], Deployment]:
    """`deploy(project, target)`: deploy a copy of the project to a fresh fake workspace as CI's
    identity of the target, and return the requests the workspace received."""
    done: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def run(project: RenderedProject, target: str) -> Deployment:
        key = (bundle_digest(project.path), target)
        if key not in done:
            folder = tmp_path_factory.mktemp(f"deploy-{project.scenario}-{target}")
            with cli.fake_workspace(binaries, folder / "requests.jsonl") as served:
                copy = point_at(project, served.url, folder / "project")
                env = cli.cli_env(token_for(project, target), folder / "home", project_env())
                env["DATABRICKS_BUNDLE_ENGINE"] = "direct"  # no Terraform download
                result = cli.run_cli(
                    binaries, ["bundle", "deploy", "-t", target], copy, env, DEPLOY_TIMEOUT
                )
                assert result.returncode == 0, diagnostics(result)
                assert "Deployment complete!" in result.stderr, diagnostics(result)
                done[key] = served.requests()
            shutil.rmtree(folder / "project")
        return Deployment(project, target, done[key])

    return run


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_deploy_creates_the_jobs_the_bundle_declares(scenario, target, render_scenario, deploy):
    project = render_scenario(scenario)
    given = project.recorded
    deployed = deploy(project, target)
    slug, package = given["project_slug"], given["project_slug"].replace("-", "_")
    prefix = f"[dev {DEVELOPER.split('@')[0]}] " if target == "dev" else ""
    # each job's tasks, each after the tasks it depends on (directly or through another task)
    expected = {
        f"{slug}-features": ["features"],
        f"{slug}-training": ["train", "validate", "deploy"],
        f"{slug}-model-rollback": ["rollback"],
        f"{slug}-model-promotion": ["promote"],
        f"{slug}-model-cards": ["card"],
        f"{slug}-tuning": ["tune"],
        f"{slug}-inference": ["inference"],
        f"{slug}-streaming": ["stream"],
        f"{slug}-monitoring": ["monitor", "retrain"],
    }
    if target != "prod":  # synthetic data exists only in dev and staging
        expected[f"{slug}-smoke-test"] = ["data", "features", "training", "inference", "check"]
    jobs = deployed.jobs()
    assert sorted(jobs) == sorted(prefix + name for name in expected)
    for name, order in expected.items():
        job = jobs[prefix + name]
        graph = {
            task["task_key"]: {dep["task_key"] for dep in task.get("depends_on") or []}
            for task in job["tasks"]
        }
        assert set(order) <= set(graph), f"{name}: tasks {sorted(graph)}"
        for before, after in itertools.pairwise(order):
            assert runs_after(graph, after, before), f"{name}: {after} does not run after {before}"
        assert job["email_notifications"]["on_failure"] == [given["notification_email"]]
        for environment in job.get("environments") or []:
            assert environment["spec"]["environment_version"] == SERVERLESS_ENVIRONMENT
            assert environment["spec"]["dependencies"][0].endswith(
                f"/artifacts/.internal/{package}-0.1.0-py3-none-any.whl"
            )
        for task in job["tasks"]:
            wheel = task.get("python_wheel_task")
            if wheel:
                assert wheel["package_name"] == package
                assert wheel["parameters"][:2] == ["--env", target]
        if target == "dev":
            assert "run_as" not in job or job["run_as"].get("user_name") == DEVELOPER
        else:
            assert job["run_as"] == {"service_principal_name": identity(project, target)}


def runs_after(graph: dict[str, set[str]], task: str, before: str) -> bool:
    pending, seen = list(graph[task]), set()
    while pending:
        current = pending.pop()
        if current == before:
            return True
        if current not in seen:
            seen.add(current)
            pending.extend(graph.get(current, ()))
    return False


@pytest.mark.parametrize("target", TARGETS)
def test_schedules_run_in_prod_only(target, render_scenario, deploy):
    deployed = deploy(render_scenario("default"), target)
    statuses = {
        name: job["schedule"]["pause_status"]
        for name, job in deployed.jobs().items()
        if "schedule" in job
    }
    assert len(statuses) == 5  # features, training, inference, streaming, monitoring
    assert set(statuses.values()) == {"UNPAUSED" if target == "prod" else "PAUSED"}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("scenario", ["default", "custom"])
def test_deploy_creates_schema_model_and_experiment(scenario, target, render_scenario, deploy):
    project = render_scenario(scenario)
    given = project.recorded
    deployed = deploy(project, target)
    catalog = given[f"catalog_{target}"]
    schema = given["schema_name"] if target != "dev" else f"dev_tester_{given['schema_name']}"
    model = given["model_name"] if target != "dev" else f"dev_tester_{given['model_name']}"
    assert [
        (s["catalog_name"], s["name"])
        for s in deployed.bodies("POST", "/api/2.1/unity-catalog/schemas")
    ] == [(catalog, schema)]
    models = deployed.bodies("POST", "/api/2.1/unity-catalog/models")
    assert [(m["catalog_name"], m["schema_name"], m["name"]) for m in models] == [
        (catalog, schema, model)
    ]
    experiments = [e["name"] for e in deployed.bodies("POST", "/api/2.0/mlflow/experiments/create")]
    if target == "dev":
        assert experiments == [f"/Shared/{given['project_slug']}/[dev tester] dev"]
    else:
        assert experiments == [
            f"/Users/{identity(project, target)}/{given['project_slug']}-{target}"
        ]


@pytest.mark.parametrize("target", ["staging", "prod"])
@pytest.mark.parametrize("scenario", ["default", "custom"])
def test_staging_and_prod_experiments_are_owned_by_the_service_principal(
    scenario, target, render_scenario, deploy
):
    """Defect 4: not in /Shared (where every user can manage it) but in the service principal's
    home, with exactly the bundle's permissions: the principal manages, the team reads."""
    project = render_scenario(scenario)
    given = project.recorded
    deployed = deploy(project, target)
    (experiment,) = deployed.bodies("POST", "/api/2.0/mlflow/experiments/create")
    principal = identity(project, target)
    assert experiment["name"].startswith(f"/Users/{principal}/")
    (acl,) = deployed.acl("experiments")
    assert {(who(e), e["permission_level"]) for e in acl} == {
        (principal, "CAN_MANAGE"),
        (given["team_group"], "CAN_READ"),
    }


@pytest.mark.parametrize("target", ["staging", "prod"])
def test_the_team_can_view_jobs_and_read_tables_and_model(target, render_scenario, deploy):
    project = render_scenario("custom")
    given = project.recorded
    deployed = deploy(project, target)
    principal = identity(project, target)
    job_acls = deployed.acl("jobs")
    assert len(job_acls) == len(deployed.jobs())
    for acl in job_acls:  # the principal owns each job (which includes managing it), the team views
        assert {(who(e), e["permission_level"]) for e in acl} - {(principal, "CAN_MANAGE")} == {
            (principal, "IS_OWNER"),
            (given["team_group"], "CAN_VIEW"),
        }
    catalog, schema, model = given[f"catalog_{target}"], given["schema_name"], given["model_name"]
    schema_grants = deployed.bodies(
        "PATCH", f"/api/2.1/unity-catalog/permissions/schema/{catalog}.{schema}"
    )
    assert [change["principal"] for body in schema_grants for change in body["changes"]] == [
        given["team_group"]
    ]
    assert sorted(schema_grants[0]["changes"][0]["add"]) == ["EXECUTE", "SELECT", "USE_SCHEMA"]
    model_grants = deployed.bodies(
        "PATCH", f"/api/2.1/unity-catalog/permissions/function/{catalog}.{schema}.{model}"
    )
    assert [(c["principal"], c["add"]) for body in model_grants for c in body["changes"]] == [
        (given["team_group"], ["EXECUTE"])
    ]


# -- a deliberate mistake makes the tier fail ------------------------------------------------------


def mistaken_copy(project: RenderedProject, url: str, dst: Path, file: str, old: str, new: str):
    copy = point_at(project, url, dst)
    path = copy / file
    assert old in path.read_text(), f"{file} no longer holds {old!r}: update this test"
    path.write_text(path.read_text().replace(old, new))
    return copy


@pytest.mark.parametrize(
    ("file", "old", "new", "reported"),
    [
        pytest.param(
            "resources/inference.yml",
            "      max_concurrent_runs: 1\n",
            "      max_concurrent_run: 1\n",
            "unknown field: max_concurrent_run",
            id="unknown-field",
        ),
        pytest.param(
            "resources/features.yml",
            "${var.notification_email}",
            "${var.notification_emails}",
            "reference does not exist: ${var.notification_emails}",
            id="undeclared-variable",
        ),
    ],
)
@pytest.mark.parametrize("target", TARGETS)
def test_a_mistake_in_a_bundle_file_fails_validation(
    file, old, new, reported, target, render_scenario, binaries, workspace, tmp_path
):
    project = render_scenario("default")
    copy = mistaken_copy(project, workspace.url, tmp_path / "project", file, old, new)
    env = cli.cli_env(token_for(project, target), tmp_path / "home", project_env())
    result = cli.run_cli(
        binaries, ["bundle", "validate", "--strict", "-t", target], copy, env, VALIDATE_TIMEOUT
    )
    assert result.returncode != 0, diagnostics(result)
    assert reported in result.stdout + result.stderr, diagnostics(result)


@pytest.mark.parametrize("target", TARGETS)
def test_a_reference_to_a_missing_resource_fails_the_plan(
    target, render_scenario, binaries, workspace, tmp_path
):
    """`bundle validate --strict` passes a `${resources...}` reference to a resource that does not
    exist (CLI 0.298.0): the plan, which every deploy of the tier computes first, rejects it."""
    project = render_scenario("default")
    missing = "${resources.schemas.projet.name}"
    copy = mistaken_copy(
        project, workspace.url, tmp_path / "project", "resources/training.yml",
        "${resources.schemas.project.name}", missing,
    )  # fmt: skip
    env = cli.cli_env(token_for(project, target), tmp_path / "home", project_env())
    env["DATABRICKS_BUNDLE_ENGINE"] = "direct"
    validated = cli.run_cli(
        binaries, ["bundle", "validate", "--strict", "-t", target], copy, env, VALIDATE_TIMEOUT
    )
    assert validated.returncode == 0, "validate now catches it: test it like the others"
    planned = cli.run_cli(binaries, ["bundle", "plan", "-t", target], copy, env, DEPLOY_TIMEOUT)
    assert planned.returncode != 0, diagnostics(planned)
    assert f'invalid dependency "{missing}"' in planned.stderr, diagnostics(planned)


@pytest.mark.parametrize("target", ["staging", "prod"])
def test_a_target_without_its_catalog_fails_validation(
    target, render_scenario, binaries, workspace, tmp_path
):
    """`catalog` has no default: a target that forgets it must not deploy."""
    project = render_scenario("default")
    line = f"      catalog: {project.recorded[f'catalog_{target}']}\n"
    copy = mistaken_copy(project, workspace.url, tmp_path / "project", "databricks.yml", line, "")
    env = cli.cli_env(token_for(project, target), tmp_path / "home", project_env())
    result = cli.run_cli(
        binaries, ["bundle", "validate", "--strict", "-t", target], copy, env, VALIDATE_TIMEOUT
    )
    assert result.returncode != 0, diagnostics(result)
    reported = "no value assigned to required variable catalog"
    assert reported in result.stdout + result.stderr, diagnostics(result)


@pytest.mark.parametrize("target", TARGETS)
def test_the_validation_identity_validates_every_target(
    target, render_scenario, binaries, workspace, tmp_path
):
    """Pull requests validate dev, staging and prod as the validation service principal, which
    holds no permission in the bundle: `--strict` still passes (the CLI only recommends that the
    deploying identity be in `permissions`, and this one never deploys)."""
    project = render_scenario("custom")
    principal = project.recorded["validation_service_principal"]
    copy = point_at(project, workspace.url, tmp_path / "project")
    token = cli.SP_TOKEN_PREFIX + principal.replace("-", "")
    env = cli.cli_env(token, tmp_path / "home", project_env())
    result = cli.run_cli(
        binaries, ["bundle", "validate", "--strict", "-t", target, "-o", "json"], copy, env,
        VALIDATE_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, diagnostics(result)
    assert json.loads(result.stdout)["workspace"]["current_user"]["userName"] == principal
    if target in SERVED:  # pull requests also validate the serving endpoint's bundle
        args = ["bundle", "validate", "--strict", "-t", target, "--var", "model_version=1"]
        serving = cli.run_cli(binaries, args, copy / "serving", env, VALIDATE_TIMEOUT)
        assert serving.returncode == 0, diagnostics(serving)


# -- the serving endpoint: its own bundle, deployed once a champion exists -------------------------


@pytest.mark.parametrize("target", SERVED)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_serving_bundle_validates_strictly(
    scenario, target, render_scenario, binaries, workspace, tmp_path
):
    project = render_scenario(scenario)
    copy = point_at(project, workspace.url, tmp_path / "project")
    env = cli.cli_env(token_for(project, target), tmp_path / "home", project_env())
    args = ["bundle", "validate", "--strict", "-t", target, "--var", "model_version=1"]
    result = cli.run_cli(binaries, [*args, "-o", "json"], copy / "serving", env, VALIDATE_TIMEOUT)
    assert result.returncode == 0, diagnostics(result)
    for finding in ("Warning:", "Error:", "Recommendation:"):
        assert finding not in result.stderr, diagnostics(result)


def serving_script(binaries, copy: Path, target: str, env: dict[str, str]):
    env = {**env, "PATH": f"{binaries.databricks.parent}{os.pathsep}{env['PATH']}"}
    return subprocess.run(
        ["bash", "serving/deploy.sh", target], cwd=copy, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=DEPLOY_TIMEOUT, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("target", SERVED)
def test_the_endpoint_is_deployed_with_the_champion_and_never_before(
    target, render_scenario, binaries, tmp_path
):
    """Defect 5 (mlops-stacks#217): the first deploy of a workspace has no model version; the
    main bundle deploys, serving/deploy.sh deploys nothing and succeeds. Once `champion` exists
    it deploys the endpoint serving that version, with its permissions and inference table; a
    later champion moves it, and a redeploy keeps what is served."""
    project = render_scenario("custom")
    given = project.recorded
    model = f"{given[f'catalog_{target}']}.{given['schema_name']}.{given['model_name']}"
    endpoint = f"{given['project_slug']}-{target}"
    with cli.fake_workspace(binaries, tmp_path / "requests.jsonl") as served:
        copy = point_at(project, served.url, tmp_path / "project")
        env = cli.cli_env(token_for(project, target), tmp_path / "home", project_env())
        env["DATABRICKS_BUNDLE_ENGINE"] = "direct"
        main = cli.run_cli(binaries, ["bundle", "deploy", "-t", target], copy, env, DEPLOY_TIMEOUT)
        assert main.returncode == 0, diagnostics(main)

        first = serving_script(binaries, copy, target, env)
        assert first.returncode == 0, diagnostics(first)
        assert f"No champion of {model} yet" in first.stdout, diagnostics(first)
        assert not [r for r in served.requests() if "serving-endpoints" in r["path"]]

        def promote(version: str) -> None:
            moved = cli.run_cli(
                binaries, ["registered-models", "set-alias", model, "champion", version], copy,
                env, VALIDATE_TIMEOUT,
            )  # fmt: skip
            assert moved.returncode == 0, diagnostics(moved)

        promote("3")
        second = serving_script(binaries, copy, target, env)
        assert second.returncode == 0, diagnostics(second)
        deployed = Deployment(project, target, served.requests())
        (created,) = deployed.bodies("POST", "/api/2.0/serving-endpoints")
        assert created["name"] == endpoint
        assert created["config"]["served_entities"] == [
            {"name": "champion", "entity_name": model, "entity_version": "3",
             "scale_to_zero_enabled": True, "workload_size": "Small"}
        ]  # fmt: skip
        assert created["config"]["traffic_config"] == {
            "routes": [{"served_model_name": "champion", "traffic_percentage": 100}]
        }
        inference_table = created["ai_gateway"]["inference_table_config"]
        assert inference_table["enabled"] is True
        assert inference_table["catalog_name"] == given[f"catalog_{target}"]
        (acl,) = deployed.acl("serving-endpoints")
        principal = identity(project, target)
        assert {(who(e), e["permission_level"]) for e in acl} == {
            (given["team_group"], "CAN_QUERY"),
            (principal, "CAN_MANAGE"),
        }

        promote("4")
        third = serving_script(binaries, copy, target, env)
        assert third.returncode == 0, diagnostics(third)
        configs = Deployment(project, target, served.requests()).bodies(
            "PUT", f"/api/2.0/serving-endpoints/{endpoint}/config"
        )
        assert [c["served_entities"][0]["entity_version"] for c in configs] == ["4"]

        # a canary in conf/<target>.yml (deployment.traffic) and a challenger: both are served,
        # 10% of the requests routed to the challenger (the `deploy` step's own mapping)
        conf = copy / "conf" / f"{target}.yml"
        conf.write_text(
            conf.read_text() + "  traffic: {strategy: canary, challenger_share: 0.1}\n"
        )
        moved = cli.run_cli(
            binaries, ["registered-models", "set-alias", model, "challenger", "5"], copy, env,
            VALIDATE_TIMEOUT,
        )  # fmt: skip
        assert moved.returncode == 0, diagnostics(moved)
        fourth = serving_script(binaries, copy, target, env)
        assert fourth.returncode == 0, diagnostics(fourth)
        assert "challenger: version 5" in fourth.stdout, diagnostics(fourth)
        (*_, canary) = Deployment(project, target, served.requests()).bodies(
            "PUT", f"/api/2.0/serving-endpoints/{endpoint}/config"
        )
        assert [(e["name"], e["entity_version"]) for e in canary["served_entities"]] == [
            ("champion", "4"), ("challenger", "5")
        ]  # fmt: skip
        assert canary["traffic_config"]["routes"] == [
            {"served_model_name": "champion", "traffic_percentage": 90},
            {"served_model_name": "challenger", "traffic_percentage": 10},
        ]


def test_a_registry_error_fails_the_serving_deploy(render_scenario, binaries, tmp_path):
    """Only "no champion" means "nothing to serve": a model the registry cannot return (here:
    the main bundle was never deployed) fails the script."""
    project = render_scenario("default")
    with cli.fake_workspace(binaries, tmp_path / "requests.jsonl") as served:
        copy = point_at(project, served.url, tmp_path / "project")
        env = cli.cli_env(token_for(project, "staging"), tmp_path / "home", project_env())
        result = serving_script(binaries, copy, "staging", env)
    assert result.returncode != 0, diagnostics(result)
    assert "No champion" not in result.stdout
