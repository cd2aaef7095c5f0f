"""Offline checks of a rendered project's CI/CD files, for every CI provider of the template.

GitHub Actions: actionlint and zizmor (offline, default persona) with zero findings, the JSON
schema of workflows and of Dependabot, and the hardening rules the template promises: actions
pinned by commit SHA with the tag in a comment, `permissions: {}` at the top and per job,
`persist-credentials: false`, no expression inside `run:`, prod credentials only in a job of the
`prod` environment on release branches. GitLab CI and Azure Pipelines: their JSON schemas (both
ship with check-jsonschema). Every provider: the bundle targets and jobs the CI names exist.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from check_jsonschema.cli.main_command import main as check_jsonschema_main
from click.testing import CliRunner

BIN = Path(sys.executable).parent
GITHUB_DIR = ".github"
GITLAB_FILE = ".gitlab-ci.yml"
AZURE_DIR = ".azure-pipelines"

PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
TAG_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\s*$")
BUNDLE_COMMAND = re.compile(r"databricks\s+bundle\s+(\w+)([^\n;&|]*)")
TARGET_OPTION = re.compile(r"(?:--target|-t)[ =]([\w-]+)")
NOT_A_COMMAND = re.compile(r"^\s*(#|-?\s*(name|displayName):)")


def ci_files(project: Path) -> list[Path]:
    """The project's CI/CD definitions, whichever the provider."""
    found = sorted((project / GITHUB_DIR).rglob("*.yml")) if (project / GITHUB_DIR).is_dir() else []
    if (project / GITLAB_FILE).is_file():
        found.append(project / GITLAB_FILE)
    if (project / AZURE_DIR).is_dir():
        found += sorted((project / AZURE_DIR).rglob("*.yml"))
    return found


def workflows(project: Path) -> list[Path]:
    directory = project / GITHUB_DIR / "workflows"
    return sorted(directory.glob("*.yml")) if directory.is_dir() else []


# -- every provider -----------------------------------------------------------------------------


def bundle_commands(text: str) -> list[tuple[str, str | None, str | None]]:
    """`(verb, target, job)` of every `databricks bundle ...` command in a CI file (comments
    and step names that merely mention one are not commands)."""
    commands = []
    lines = [line for line in text.splitlines() if not NOT_A_COMMAND.match(line)]
    for verb, rest in BUNDLE_COMMAND.findall("\n".join(lines)):
        target = TARGET_OPTION.search(rest)
        words = [w for w in TARGET_OPTION.sub("", rest).split() if not w.startswith("-")]
        job = words[0] if verb == "run" and words else None
        commands.append((verb, target.group(1) if target else None, job))
    return commands


def check_ci_targets(project: Path, targets: dict[str, set[str]]) -> list[str]:
    """Every bundle command names a target of databricks.yml (`targets`: target -> its jobs) and
    a job of that target; CI deploys to staging and to prod."""
    problems, deployed = [], set()
    for path in ci_files(project):
        where = path.relative_to(project)
        for verb, target, job in bundle_commands(path.read_text()):
            if target is None:
                problems.append(f"{where}: `databricks bundle {verb}` without --target")
            elif target not in targets:
                problems.append(
                    f"{where}: target {target!r} is not in databricks.yml {sorted(targets)}"
                )
            elif job is not None and job not in targets[target]:
                problems.append(f"{where}: `bundle run {job}`: no job {job!r} in target {target}")
            if verb == "deploy" and target:
                deployed.add(target)
    if ci_files(project) and deployed != {"staging", "prod"}:
        problems.append(f"CI deploys to {sorted(deployed)}, expected staging and prod")
    return problems


def check_json_schema(paths: list[Path], schema: str, *options: str) -> list[str]:
    """check-jsonschema with one of its builtin (offline) schemas."""
    if not paths:
        return []
    # in-process: the same command line, without starting a Python per file set
    arguments = ["--builtin-schema", schema, *options, *map(str, paths)]
    result = CliRunner().invoke(check_jsonschema_main, arguments)
    return [] if result.exit_code == 0 else [f"{schema}: {result.output}"]


def check_schemas(project: Path) -> list[str]:
    problems = check_json_schema(workflows(project), "vendor.github-workflows")
    dependabot = project / GITHUB_DIR / "dependabot.yml"
    if dependabot.is_file():
        problems += check_json_schema([dependabot], "vendor.dependabot")
    renovate = project / "renovate.json"
    if renovate.is_file():
        problems += check_json_schema([renovate], "vendor.renovate")
    if (project / GITLAB_FILE).is_file():
        problems += check_json_schema(
            [project / GITLAB_FILE], "vendor.gitlab-ci", "--data-transform", "gitlab-ci"
        )
    if (project / AZURE_DIR).is_dir():
        problems += check_json_schema(
            sorted((project / AZURE_DIR).rglob("*.yml")),
            "vendor.azure-pipelines",
            "--data-transform",
            "azure-pipelines",
            "--regex-variant",
            "python",  # the schema's patterns use escapes the default regex engine rejects
        )
    return problems


# -- GitHub Actions -----------------------------------------------------------------------------


def check_actions_pinned(workflow: Path) -> list[str]:
    """Every `uses:` names a full commit SHA and, in a comment, the tag it stands for."""
    problems = []
    for number, line in enumerate(workflow.read_text().splitlines(), start=1):
        match = re.match(r"^\s*(?:-\s+)?uses:\s*([^\s#]+)", line)
        if not match or match.group(1).startswith("./"):
            continue
        if not PINNED_USES.match(match.group(1)):
            problems.append(
                f"{workflow.name}:{number}: {match.group(1)} is not pinned by commit SHA"
            )
        elif not TAG_COMMENT.search(line):
            problems.append(f"{workflow.name}:{number}: {match.group(1)} has no `# vX.Y.Z` comment")
    return problems


def check_workflow_hardening(workflow: Path) -> list[str]:
    """`permissions: {}` at the top and explicit per job, no `pull_request_target`, checkouts
    without persisted credentials, no `${{ ... }}` inside `run:`."""
    document = _load(workflow)
    name, problems = workflow.name, []
    if document.get("permissions") != {}:
        problems.append(f"{name}: top-level permissions must be {{}}")
    if "pull_request_target" in (document.get(True) or document.get("on") or {}):
        problems.append(f"{name}: pull_request_target runs untrusted code with secrets")
    for job_id, job in (document.get("jobs") or {}).items():
        if "permissions" not in job:
            problems.append(f"{name}: job {job_id} does not declare its permissions")
        for index, step in enumerate(job.get("steps") or []):
            where = f"{name}: {job_id}.steps[{index}]"
            uses = str(step.get("uses", ""))
            if (
                uses.startswith("actions/checkout@")
                and (step.get("with") or {}).get("persist-credentials") is not False
            ):
                problems.append(f"{where}: checkout without persist-credentials: false")
            if "${{" in str(step.get("run", "")):
                problems.append(f"{where}: an expression inside run: (pass it through env:)")
    return problems


def check_prod_credentials_isolated(workflow: Path, prod_markers: list[str]) -> list[str]:
    """A job that can reach prod (names its host or service principal, or runs a bundle command
    on target prod other than `validate`, which pull requests run as a validation-only identity)
    runs in the `prod` environment, in a workflow started only by release branches or by hand."""
    document = _load(workflow)
    triggers = document.get(True) or document.get("on") or {}
    problems = []
    for job_id, job in (document.get("jobs") or {}).items():
        text = yaml.safe_dump(job, width=10_000)
        acts_on_prod = any(
            target == "prod" and verb != "validate" for verb, target, _ in bundle_commands(text)
        )
        if not any(marker in text for marker in prod_markers) and not acts_on_prod:
            continue
        where = f"{workflow.name}: job {job_id}"
        if job.get("environment") != "prod":
            problems.append(f"{where} reaches prod outside the prod environment")
        if set(triggers) - {"push", "workflow_dispatch"}:
            problems.append(f"{where} reaches prod from triggers {sorted(triggers)}")
        branches = ((triggers.get("push") or {}) if isinstance(triggers, dict) else {}).get(
            "branches"
        )
        if branches and any(not str(b).startswith("release/") for b in branches):
            problems.append(f"{where} reaches prod from branches {branches}")
    return problems


def check_oidc_without_secrets(workflow: Path) -> list[str]:
    """With workload identity federation no workflow reads a secret, and only jobs that talk to
    Databricks may request an OIDC token."""
    document = _load(workflow)
    problems = []
    if "secrets." in workflow.read_text():
        problems.append(f"{workflow.name}: reads a secret although CI authenticates with OIDC")
    for job_id, job in (document.get("jobs") or {}).items():
        wants_token = (job.get("permissions") or {}).get("id-token") == "write"
        uses_oidc = (job.get("env") or {}).get("DATABRICKS_AUTH_TYPE") == "github-oidc"
        if wants_token != uses_oidc:
            problems.append(f"{workflow.name}: job {job_id}: id-token: write iff github-oidc")
    return problems


def actionlint(paths: list[Path]) -> list[str]:
    if not paths:
        return []
    result = _run([str(BIN / "actionlint"), "-no-color", *map(str, paths)])
    return [] if result.returncode == 0 else (result.stdout + result.stderr).splitlines()


def zizmor(directory: Path) -> list[str]:
    """zizmor at its default persona, offline (no GitHub token, no network)."""
    if not directory.is_dir():
        return []
    result = _run([str(BIN / "zizmor"), "--offline", "--format", "json", str(directory)])
    try:
        findings = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        return [f"zizmor failed ({result.returncode}): {result.stderr}"]
    problems = []
    for finding in findings:
        location = (finding.get("locations") or [{}])[0]
        path = ((location.get("symbolic") or {}).get("key") or {}).get("Local") or {}
        row = ((location.get("concrete") or {}).get("location") or {}).get("start_point") or {}
        where = f"{Path(path.get('verbatim_path', '?')).name}:{row.get('row', -1) + 1}"
        problems.append(f"{finding.get('ident')}: {finding.get('desc')} ({where})")
    if result.returncode != 0 and not problems:
        problems.append(f"zizmor exited {result.returncode}: {result.stderr[-2000:]}")
    return problems


# -- helpers ------------------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)
