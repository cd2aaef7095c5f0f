"""Who CI acts as, for every provider: pull requests validate every target as the validation-only
service principal and can obtain no staging or prod credential; GitLab never cancels a deploy.

Rendered with the `custom` scenario's answers (three distinct service principals), once per CI
provider and way of authenticating.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from checks import ci
from conftest import load_scenario

PROVIDERS = ("github_actions", "gitlab", "azure_devops")
AUTHS = ("oidc", "secrets")
TARGETS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    from checks.render import render

    base = load_scenario("custom")
    return {
        (provider, auth): render(
            tmp_path_factory.mktemp(f"identities-{provider}-{auth}") / "project",
            {**base, "ci_provider": provider, "ci_auth": auth},
        )
        for provider in PROVIDERS
        for auth in AUTHS
    }


# -- pull-request jobs, whichever the provider ----------------------------------------------------


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def gitlab_job(document: dict[str, Any], name: str) -> dict[str, Any]:
    """A GitLab job with its `extends` chain merged in, as GitLab does (hashes deep-merged, the
    job's own keys last); `default:` keys fill what is still unset."""
    job = document[name]
    parents = job.get("extends") or []
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = _merge(merged, gitlab_job(document, parent))
    merged = _merge(merged, {k: v for k, v in job.items() if k != "extends"})
    if not name.startswith("."):
        for key, value in (document.get("default") or {}).items():
            merged.setdefault(key, value)
    return merged


def gitlab_jobs(project: Path) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    reserved = {"workflow", "stages", "variables", "default", "include"}
    return {
        name: gitlab_job(document, name)
        for name in document
        if not name.startswith(".") and name not in reserved
    }


def pull_request_jobs(project: Path, provider: str) -> dict[str, str]:
    """Every job a pull request (merge request) runs, as YAML text with templates resolved."""
    if provider == "github_actions":
        document = yaml.safe_load((project / ".github/workflows/pull-request.yml").read_text())
        return {name: yaml.safe_dump(job, width=10_000) for name, job in document["jobs"].items()}
    if provider == "gitlab":
        return {
            name: yaml.safe_dump(job, width=10_000)
            for name, job in gitlab_jobs(project).items()
            if "merge_request_event" in str(job.get("rules"))
        }
    pipeline = project / ".azure-pipelines" / "pr.yml"
    document = yaml.safe_load(pipeline.read_text())
    templates = {
        path.name: path.read_text() for path in (project / ".azure-pipelines/templates").glob("*")
    }
    jobs = {}
    for job in document["jobs"]:
        text = yaml.safe_dump(job, width=10_000)
        for step in job.get("steps") or []:  # templates/<file>.yml steps, inlined
            text += templates.get(Path(str(step.get("template", ""))).name, "")
        jobs[job["job"]] = text
    return jobs


def credentials_reached(text: str, answers: dict[str, Any]) -> list[str]:
    """The staging or prod credentials a job's definition names."""
    found = []
    for target in ("staging", "prod"):
        markers = [
            answers[f"{target}_service_principal"],
            f"DATABRICKS_{target.upper()}_CLIENT_SECRET",
            f"{answers['project_slug']}-{target}",  # Azure variable group, GitLab/GitHub env
        ]
        found += [marker for marker in markers if marker in text]
        if re.search(rf"environment:\s*(name:\s*)?{target}\b", text):
            found.append(f"environment {target}")
    return found


@pytest.mark.parametrize("auth", AUTHS)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_pull_requests_never_obtain_staging_or_prod_credentials(renders, provider, auth):
    """Defect 8: a pull request from any branch gets the validation identity at most."""
    project = renders[(provider, auth)]
    answers = load_scenario("custom")
    jobs = pull_request_jobs(project, provider)
    assert jobs
    for name, text in jobs.items():
        assert credentials_reached(text, answers) == [], f"{provider}: pull-request job {name}"
        client_ids = re.findall(r"DATABRICKS_CLIENT_ID: (\S+)", text)
        assert set(client_ids) <= {answers["validation_service_principal"]}, name


@pytest.mark.parametrize("provider", PROVIDERS)
def test_pull_requests_validate_every_target_and_change_nothing(renders, provider):
    """Defect 9: dev, staging and prod are validated on every pull request; nothing deployed."""
    jobs = pull_request_jobs(renders[(provider, "oidc")], provider)
    commands = [command for text in jobs.values() for command in ci.bundle_commands(text)]
    validated = [target for verb, target, _ in commands if verb == "validate"]
    serving = [
        target
        for text in jobs.values()
        for target in re.findall(
            r"cd serving && databricks bundle validate --strict --target (\w+)", text
        )
    ]
    assert sorted(serving) == ["prod", "staging"]  # the serving bundle's targets
    assert sorted(validated) == sorted([*TARGETS, *serving])  # and the main bundle's, each once
    assert {verb for verb, _, _ in commands} == {"validate"}
    validating = [text for text in jobs.values() if "bundle validate" in text]
    assert all("--strict" in text for text in validating)


@pytest.mark.parametrize("auth", AUTHS)
def test_gitlab_never_cancels_a_deploy(renders, auth):
    """Defect 7: `default: interruptible: true` lets a newer pipeline cancel older jobs; a job
    that deploys, runs a job on Databricks or cuts a release must never be cancelled halfway."""
    jobs = gitlab_jobs(renders[("gitlab", auth)])
    acting = {
        name: job
        for name, job in jobs.items()
        if re.search(r"bundle (deploy|run)|repository/(branches|tags)", str(job.get("script")))
    }
    assert {"deploy-staging", "smoke-test-staging", "deploy-prod", "cut-release"} <= set(acting)
    assert {name: job.get("interruptible") for name, job in acting.items()} == dict.fromkeys(
        acting, False
    )
    # checks stay cancellable: a newer push makes them moot
    assert jobs["unit-tests"]["interruptible"] is True


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_setup_page_says_what_each_identity_can_do(renders, provider):
    text = (renders[(provider, "oidc")] / "docs" / "ci-cd-setup.md").read_text()
    answers = load_scenario("custom")
    table = text[text.index("What each identity can do") :]
    for key in ("staging_service_principal", "prod_service_principal"):
        assert answers[key] in text
    assert answers["validation_service_principal"] in text
    rows = [line for line in table.splitlines() if line.startswith("| validation service")]
    assert rows
    assert "no grant and no permission" in rows[0]
    assert "validation numeric ID" in text  # its federation policy or secret is set up
