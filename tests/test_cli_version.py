"""One Databricks CLI version everywhere: the bundle tier's Go module (tests/workspace/go.mod)
pins it; copier.yml's hidden `databricks_cli_version` carries it into every generated CI file and
into databricks.yml's minimum. A bump in one place without the other fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from checks import databricks_cli
from conftest import REPO_ROOT, RenderedProject

SETUP_CLI = "databricks/setup-cli@"
INSTALLER = re.compile(
    r"https://raw\.githubusercontent\.com/databricks/setup-cli/([^/\s]+)/install\.sh"
)


def copier_version() -> str:
    return yaml.safe_load((REPO_ROOT / "copier.yml").read_text())["databricks_cli_version"][
        "default"
    ]


def installed_versions(project: Path) -> list[tuple[str, str]]:
    """(file, version) for every place a CI file of `project` installs the Databricks CLI; a
    setup-cli step without a `version` input reports "unpinned"."""
    found = []
    for path in sorted(project.rglob("*.yml")):
        relative = path.relative_to(project).as_posix()
        if relative.startswith((".github/", ".azure-pipelines/", ".gitlab-ci")):
            text = path.read_text()
            found += [(relative, f"tag {tag}") for tag in INSTALLER.findall(text)]
            if relative.startswith(".github/"):
                for job in (yaml.safe_load(text).get("jobs") or {}).values():
                    for step in job.get("steps") or []:
                        if str(step.get("uses", "")).startswith(SETUP_CLI):
                            version = (step.get("with") or {}).get("version", "unpinned")
                            found.append((relative, str(version)))
    return found


def test_the_go_module_and_copier_pin_the_same_cli():
    assert databricks_cli.pinned_version() == copier_version(), (
        "tests/workspace/go.mod and copier.yml's databricks_cli_version disagree: bump both"
    )


def test_every_ci_file_installs_the_pinned_cli(project: RenderedProject):
    pinned = databricks_cli.pinned_version()
    found = installed_versions(project.path)
    if project.recorded["ci_provider"] != "none":
        assert found, "no CI file installs the Databricks CLI"
    for relative, version in found:
        assert version in (pinned, f"tag v{pinned}"), f"{relative} installs the CLI {version}"


def test_databricks_yml_requires_at_least_the_pinned_cli(project: RenderedProject):
    bundle = yaml.safe_load((project.path / "databricks.yml").read_text())["bundle"]
    assert bundle["databricks_cli_version"] == f">= {databricks_cli.pinned_version()}"


@pytest.mark.parametrize(
    ("scenario", "pinned_line", "drifted_line"),
    [
        ("default", 'version: "{v}"', 'version: "0.250.0"'),
        ("azure", "setup-cli/v{v}/install.sh", "setup-cli/main/install.sh"),
        ("gcp", "setup-cli/v{v}/install.sh", "setup-cli/v0.250.0/install.sh"),
    ],
)
def test_a_drifted_install_is_reported(scenario, pinned_line, drifted_line, render_writable):
    project = render_writable(scenario)
    pinned = databricks_cli.pinned_version()
    edited = 0
    for path in project.rglob("*.yml"):
        text = path.read_text()
        if pinned_line.format(v=pinned) in text:
            path.write_text(text.replace(pinned_line.format(v=pinned), drifted_line, 1))
            edited += 1
    assert edited
    versions = [version for _, version in installed_versions(project)]
    assert any(version not in (pinned, f"tag v{pinned}") for version in versions)
