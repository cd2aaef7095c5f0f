"""Fast tier: the CI/CD files of every rendered project (each CI provider with each cloud, and
each way of authenticating) pass the offline checks of `checks/ci.py`: actionlint and zizmor with
zero findings, the providers' JSON schemas, the hardening rules, and bundle targets that exist.
Files broken on purpose fail the same checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from checks import bundle as bundle_checks
from checks import ci as checks
from checks.render import CI_PROVIDERS, CLOUDS, rendered, writable_copy

MATRIX = [
    pytest.param((ci_provider, cloud, "oidc"), id=f"{ci_provider}-{cloud}")
    for ci_provider in CI_PROVIDERS
    for cloud in CLOUDS
] + [
    pytest.param((ci_provider, "aws", "secrets"), id=f"{ci_provider}-aws-secrets")
    for ci_provider in CI_PROVIDERS
    if ci_provider != "none"
]
GITHUB = [param for param in MATRIX if param.values[0][0] == "github_actions"]

PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "databricks/setup-cli": ("6bb7075f85b326f8b9ce160933dfe9bcd63c8121", "v1.13.0"),
}


def render(ci_provider: str, cloud: str, auth: str) -> Path:
    if auth == "oidc":  # the default answer: shares the renders of test_databricks_bundle.py
        return rendered(ci_provider=ci_provider, cloud=cloud)
    return rendered(ci_provider=ci_provider, cloud=cloud, ci_auth=auth)


@pytest.fixture(params=MATRIX)
def project(request: pytest.FixtureRequest) -> Path:
    return render(*request.param)


@pytest.fixture(params=GITHUB)
def github_project(request: pytest.FixtureRequest) -> Path:
    return render(*request.param)


@pytest.fixture
def broken(tmp_path: Path):
    """`broken(ci_provider)`: a writable copy of that provider's project, for a test to break."""

    def copy(ci_provider: str) -> Path:
        source = rendered(ci_provider=ci_provider, cloud="aws")
        return writable_copy(source, tmp_path / ci_provider)

    return copy


def answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def bundle_jobs(project: Path) -> dict[str, set[str]]:
    bundle = bundle_checks.load_bundle(project)
    return {target: set(bundle.resources(target).get("jobs") or {}) for target in bundle.targets}


# -- every provider -----------------------------------------------------------------------------

EXPECTED_FILES = {
    "github_actions": {
        ".github/dependabot.yml",
        ".github/workflows/pull-request.yml",
        ".github/workflows/deploy-staging.yml",
        ".github/workflows/release.yml",
        ".github/workflows/deploy-prod.yml",
    },
    "gitlab": {".gitlab-ci.yml"},
    "azure_devops": {
        ".azure-pipelines/pr.yml",
        ".azure-pipelines/staging.yml",
        ".azure-pipelines/release.yml",
        ".azure-pipelines/prod.yml",
        ".azure-pipelines/templates/setup.yml",
        ".azure-pipelines/templates/databricks-cli.yml",
    },
    "none": set(),
}


def test_the_ci_files_are_those_of_the_chosen_provider(project: Path):
    found = {path.relative_to(project).as_posix() for path in checks.ci_files(project)}
    assert found == EXPECTED_FILES[answers(project)["ci_provider"]]


def test_dependency_updates_arrive_as_reviewed_lock_file_changes(project: Path):
    """Dependabot on GitHub; Renovate, the usual bot of GitLab and Azure DevOps, elsewhere."""
    provider = answers(project)["ci_provider"]
    dependabot, renovate = project / ".github" / "dependabot.yml", project / "renovate.json"
    if provider == "github_actions":
        ecosystems = [
            u["package-ecosystem"] for u in yaml.safe_load(dependabot.read_text())["updates"]
        ]
        assert ecosystems == ["github-actions", "uv"]
        assert not renovate.exists()
    elif provider in ("gitlab", "azure_devops"):
        config = json.loads(renovate.read_text())
        assert config["lockFileMaintenance"]["enabled"] is True
        assert config["packageRules"][0]["matchManagers"] == ["pep621"]  # uv.lock's manager
        assert config.get("azure-pipelines", {}).get("enabled", False) == (
            provider == "azure_devops"
        )
        assert not dependabot.exists()
    else:
        assert not dependabot.exists()
        assert not renovate.exists()


def test_ci_files_match_their_json_schemas(project: Path):
    assert checks.check_schemas(project) == []


def test_ci_names_only_targets_and_jobs_of_the_bundle(project: Path):
    assert checks.check_ci_targets(project, bundle_jobs(project)) == []


def test_every_provider_runs_the_same_stages(project: Path):
    """Pull/merge requests validate staging; merges deploy staging and run the smoke test;
    release branches deploy prod."""
    if answers(project)["ci_provider"] == "none":
        pytest.skip("no CI provider")
    commands = {
        command
        for path in checks.ci_files(project)
        for command in checks.bundle_commands(path.read_text())
    }
    assert {
        ("validate", "staging", None),
        ("deploy", "staging", None),
        ("run", "staging", "smoke_test"),
        ("deploy", "prod", None),
    } <= commands
    text = "\n".join(path.read_text() for path in checks.ci_files(project))
    for step in (
        "pre-commit run --all-files",
        "pytest tests/unit",
        "pytest tests/integration",
        "release/",
    ):
        assert step in text


def test_ci_authenticates_as_the_answered_service_principals(project: Path):
    given = answers(project)
    if given["ci_provider"] == "none":
        pytest.skip("no CI provider")
    text = "\n".join(path.read_text() for path in checks.ci_files(project))
    for target in ("staging", "prod"):
        assert f"DATABRICKS_CLIENT_ID: {given[f'{target}_service_principal']}" in text
        assert f"DATABRICKS_HOST: {given[f'databricks_host_{target}']}" in text
    oidc_type = {
        "github_actions": "github-oidc",
        "gitlab": "env-oidc",
        "azure_devops": "azure-devops-oidc",
    }
    expected = oidc_type[given["ci_provider"]] if given["ci_auth"] == "oidc" else "oauth-m2m"
    assert f"DATABRICKS_AUTH_TYPE: {expected}" in text
    assert ("CLIENT_SECRET" in text) == (given["ci_auth"] == "secrets")


def test_the_project_documents_its_ci_cd_setup(project: Path):
    given = answers(project)
    doc = (project / "docs" / "ci-cd-setup.md").read_text()
    for needed in (given["staging_service_principal"], "release/", "rollback", "service principal"):
        assert needed in doc
    if given["ci_provider"] != "none" and given["ci_auth"] == "oidc":
        subject = {
            "github_actions": f"repo:{given['repository_path']}:environment:prod",
            "gitlab": f"project_path:{given['repository_path']}:ref_type:branch:ref:release/",
            "azure_devops": f"p://{given['repository_path']}/{given['project_slug']}-prod",
        }
        assert subject[given["ci_provider"]] in doc


# -- GitHub Actions -----------------------------------------------------------------------------


def test_actionlint_finds_nothing(github_project: Path):
    assert checks.actionlint(checks.workflows(github_project)) == []


def test_zizmor_finds_nothing(github_project: Path):
    assert checks.zizmor(github_project / ".github") == []


def test_actions_are_pinned_by_commit_sha(github_project: Path):
    for workflow in checks.workflows(github_project):
        assert checks.check_actions_pinned(workflow) == []
        for line in workflow.read_text().splitlines():
            if "uses:" in line:
                action, _, rest = line.split("uses:")[1].strip().partition("@")
                sha, tag = PINS[action]
                assert rest.split()[0] == sha, line
                assert rest.endswith(tag), line


def test_workflows_are_hardened(github_project: Path):
    for workflow in checks.workflows(github_project):
        assert checks.check_workflow_hardening(workflow) == []


def test_only_release_branches_reach_prod(github_project: Path):
    prod_host = answers(github_project)["databricks_host_prod"]
    reaching_prod = []
    for workflow in checks.workflows(github_project):
        assert checks.check_prod_credentials_isolated(workflow, [prod_host]) == []
        if prod_host in workflow.read_text():
            reaching_prod.append(workflow.name)
    assert reaching_prod == ["deploy-prod.yml"]


def test_oidc_workflows_hold_no_secret(github_project: Path):
    if answers(github_project)["ci_auth"] != "oidc":
        pytest.skip("the project authenticates with client secrets")
    for workflow in checks.workflows(github_project):
        assert checks.check_oidc_without_secrets(workflow) == []


def test_the_prod_secret_lives_in_the_prod_environment_only(github_project: Path):
    if answers(github_project)["ci_auth"] != "secrets":
        pytest.skip("the project authenticates with OIDC")
    for workflow in checks.workflows(github_project):
        text = workflow.read_text()
        assert ("DATABRICKS_PROD_CLIENT_SECRET" in text) == (workflow.name == "deploy-prod.yml")


def test_release_cuts_a_branch_from_a_commit_that_passed_staging(github_project: Path):
    release = yaml.safe_load((github_project / ".github/workflows/release.yml").read_text())
    assert set(release[True]) == {"workflow_dispatch"}
    script = "\n".join(step.get("run", "") for step in release["jobs"]["cut"]["steps"])
    for needed in (
        "deploy-staging.yml/runs?branch=",
        "status=success",
        "refs/heads/release/$VERSION",
        "refs/tags/v$VERSION",
        "gh workflow run deploy-prod.yml",
    ):
        assert needed in script


# -- GitLab CI and Azure Pipelines --------------------------------------------------------------


def test_gitlab_deploys_prod_by_hand_from_release_branches_only():
    pipeline = yaml.safe_load(
        (rendered(ci_provider="gitlab", cloud="aws") / ".gitlab-ci.yml").read_text()
    )
    reaching_prod = [
        name
        for name, job in pipeline.items()
        if isinstance(job, dict) and ".prod" in str(job.get("extends"))
    ]
    assert reaching_prod == ["deploy-prod"]
    job = pipeline["deploy-prod"]
    assert job["environment"]["name"] == "prod"
    assert job["rules"] == [
        {
            "if": '$CI_COMMIT_BRANCH =~ /^release\\// && $CI_PIPELINE_SOURCE == "push"',
            "when": "manual",
        }
    ]


def test_azure_prod_pipeline_runs_on_release_branches_only():
    project = rendered(ci_provider="azure_devops", cloud="aws")
    prod_host = answers(project)["databricks_host_prod"]
    for path in checks.ci_files(project):
        assert (prod_host in path.read_text()) == (path.name == "prod.yml"), path.name
    prod = yaml.safe_load((project / ".azure-pipelines" / "prod.yml").read_text())
    assert prod["trigger"] == {"branches": {"include": ["release/*"]}}
    assert prod["pr"] == "none"


# -- broken CI files fail the checks ------------------------------------------------------------


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def test_an_action_referenced_by_tag_is_reported(broken):
    project = broken("github_actions")
    workflow = project / ".github" / "workflows" / "pull-request.yml"
    sha, tag = PINS["actions/checkout"]
    edit(workflow, f"actions/checkout@{sha}  # {tag}", f"actions/checkout@{tag}")
    assert checks.check_actions_pinned(workflow) == [
        f"pull-request.yml:{line_of(workflow, 'actions/checkout@v')}: actions/checkout@{tag} "
        "is not pinned by commit SHA"
    ]
    assert any(p.startswith("unpinned-uses") for p in checks.zizmor(project / ".github"))


def test_a_pin_without_its_tag_comment_is_reported(broken):
    workflow = broken("github_actions") / ".github" / "workflows" / "deploy-prod.yml"
    edit(workflow, "  # v10.0.1", "")
    assert any("has no `# vX.Y.Z` comment" in p for p in checks.check_actions_pinned(workflow))


def test_untrusted_input_inside_run_is_reported(broken):
    project = broken("github_actions")
    workflow = project / ".github" / "workflows" / "pull-request.yml"
    edit(
        workflow,
        "run: uv run pytest tests/unit",
        'run: echo "${{ github.head_ref }}" && uv run pytest tests/unit',
    )
    assert any("an expression inside run:" in p for p in checks.check_workflow_hardening(workflow))
    assert any(p.startswith("template-injection") for p in checks.zizmor(project / ".github"))


def test_persisted_checkout_credentials_are_reported(broken):
    project = broken("github_actions")
    workflow = project / ".github" / "workflows" / "deploy-staging.yml"
    edit(workflow, "        with:\n          persist-credentials: false\n", "")
    assert any("persist-credentials" in p for p in checks.check_workflow_hardening(workflow))
    assert any(p.startswith("artipacked") for p in checks.zizmor(project / ".github"))


def test_broad_permissions_are_reported(broken):
    workflow = broken("github_actions") / ".github" / "workflows" / "release.yml"
    edit(workflow, "permissions: {}", "permissions: write-all")
    assert "release.yml: top-level permissions must be {}" in checks.check_workflow_hardening(
        workflow
    )


def test_a_prod_deploy_on_pull_requests_is_reported(broken):
    project = broken("github_actions")
    workflow = project / ".github" / "workflows" / "pull-request.yml"
    edit(
        workflow,
        "databricks bundle validate --strict --target staging",
        "databricks bundle deploy --target prod",
    )
    problems = checks.check_prod_credentials_isolated(
        workflow, [answers(project)["databricks_host_prod"]]
    )
    assert any("outside the prod environment" in p for p in problems)


def test_an_invalid_workflow_is_reported_by_actionlint(broken):
    workflow = broken("github_actions") / ".github" / "workflows" / "deploy-prod.yml"
    edit(workflow, "runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    needs: build")
    assert any("build" in p for p in checks.actionlint([workflow]))


def test_a_target_unknown_to_the_bundle_is_reported(broken):
    project = broken("gitlab")
    edit(
        project / ".gitlab-ci.yml", "bundle deploy --target staging", "bundle deploy --target stage"
    )
    problems = checks.check_ci_targets(project, bundle_jobs(project))
    assert (
        ".gitlab-ci.yml: target 'stage' is not in databricks.yml ['dev', 'prod', 'staging']"
        in problems
    )


def test_a_bundle_job_unknown_to_the_target_is_reported(broken):
    project = broken("azure_devops")
    edit(
        project / ".azure-pipelines" / "staging.yml",
        "bundle run smoke_test",
        "bundle run smoke_tests",
    )
    problems = checks.check_ci_targets(project, bundle_jobs(project))
    assert problems == [
        ".azure-pipelines/staging.yml: `bundle run smoke_tests`: "
        "no job 'smoke_tests' in target staging"
    ]


def test_a_typo_in_a_gitlab_job_is_reported(broken):
    project = broken("gitlab")
    edit(
        project / ".gitlab-ci.yml",
        "  script:\n    - uv run pytest tests/unit",
        "  scirpt:\n    - uv run pytest tests/unit",
    )
    problems = checks.check_schemas(project)
    assert len(problems) == 1
    assert "'scirpt' was unexpected" in problems[0]


def test_a_typo_in_an_azure_pipeline_is_reported(broken):
    project = broken("azure_devops")
    edit(
        project / ".azure-pipelines" / "pr.yml",
        "displayName: Unit tests",
        "dispalyName: Unit tests",
    )
    problems = checks.check_schemas(project)
    assert len(problems) == 1
    assert "'dispalyName'" in problems[0]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)
