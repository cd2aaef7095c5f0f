"""Offline checks of a rendered Databricks bundle (the Databricks CLI cannot be installed here).

The real `databricks bundle validate --strict` runs in the generated project's CI. Here, without
a workspace: the keys of databricks.yml, every resource loaded into its typed model from the
`databricks-bundles` package (unknown fields, bad enums, wrong types and missing keys fail),
every `${...}` reference resolved, every wheel task's entry point present in the wheel, and the
bundle's names equal to those of the project's own configuration (conf/<target>.yml).
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from databricks.bundles.core._resource_type import _ResourceType  # pinned: databricks-bundles

# Top-level keys of a bundle configuration file and of its sections, as documented for the
# Databricks CLI (a typo in any of them is silently ignored by YAML, not by the CLI).
BUNDLE_KEYS = {
    "artifacts", "bundle", "experimental", "include", "permissions", "presets", "python",
    "resources", "run_as", "scripts", "sync", "targets", "variables", "workspace",
}  # fmt: skip
INCLUDED_FILE_KEYS = BUNDLE_KEYS - {"bundle", "include"}
BUNDLE_SECTION_KEYS = {
    "name", "databricks_cli_version", "uuid", "git", "cluster_id", "compute_id", "deployment",
    "engine",
}  # fmt: skip
TARGET_KEYS = {
    "artifacts", "bundle", "cluster_id", "compute_id", "default", "git", "mode", "permissions",
    "presets", "resources", "run_as", "sync", "variables", "workspace",
}  # fmt: skip
VARIABLE_KEYS = {"default", "description", "lookup", "type"}
ARTIFACT_KEYS = {"build", "dynamic_version", "executable", "files", "path", "type"}
WORKSPACE_KEYS = {
    "host", "profile", "root_path", "file_path", "artifact_path", "state_path", "resource_path",
    "auth_type", "client_id", "account_id", "azure_client_id", "azure_environment",
    "azure_login_app_id", "azure_tenant_id", "azure_use_msi", "azure_workspace_resource_id",
    "google_service_account",
}  # fmt: skip
PERMISSION_KEYS = {"level", "group_name", "service_principal_name", "user_name"}
PERMISSION_LEVELS = {"CAN_VIEW", "CAN_RUN", "CAN_MANAGE"}
RUN_AS_KEYS = {"service_principal_name", "user_name"}
MODES = {"development", "production"}
REFERENCE_ROOTS = {"var", "bundle", "workspace", "resources", "artifacts"}

# Model classes of the resource types, by their key under `resources:` (jobs, schemas, ...).
RESOURCE_MODELS = {kind.plural_name: kind.resource_type for kind in _ResourceType.all()}

REFERENCE = re.compile(r"\$\{([^}]*)\}")
RESOURCE_REFERENCE = re.compile(r"^resources\.(\w+)\.(\w+)\.(\w+)$")
TASK_VALUE = re.compile(r"\{\{\s*tasks\.([\w-]+)\.values\.[\w-]+\s*\}\}")


@dataclass
class Bundle:
    """databricks.yml and the files it includes, parsed."""

    root: Path
    config: dict[str, Any]
    included: dict[str, dict[str, Any]]  # path relative to the root -> parsed file

    @property
    def targets(self) -> dict[str, dict[str, Any]]:
        return self.config.get("targets") or {}

    @property
    def variables(self) -> dict[str, dict[str, Any]]:
        variables: dict[str, dict[str, Any]] = {}
        for document in self.documents():
            variables.update(document.get("variables") or {})
        return variables

    def documents(self) -> Iterator[dict[str, Any]]:
        yield self.config
        yield from self.included.values()

    def resources(self, target: str) -> dict[str, dict[str, Any]]:
        """The resources deployed to `target`: the top-level ones with the target's merged in."""
        merged: dict[str, Any] = {}
        for document in self.documents():
            merged = _merge(merged, document.get("resources") or {})
        return _merge(merged, self.targets[target].get("resources") or {})

    def variable_value(self, name: str, target: str) -> Any:
        """A variable's value in a target (target value, else default), `${bundle.*}` filled."""
        overrides = self.targets[target].get("variables") or {}
        value = overrides.get(name, self.variables.get(name, {}).get("default"))
        if isinstance(value, str):
            value = value.replace("${bundle.target}", target)
            value = value.replace("${bundle.name}", self.config["bundle"]["name"])
        return value


def load_bundle(project: Path) -> Bundle:
    config = yaml.safe_load((project / "databricks.yml").read_text()) or {}
    included = {}
    for pattern in config.get("include") or []:
        for path in sorted(project.glob(pattern)):
            included[path.relative_to(project).as_posix()] = yaml.safe_load(path.read_text()) or {}
    return Bundle(project, config, included)


# -- the checks: each returns a list of problems -------------------------------------------------


def check_keys(bundle: Bundle) -> list[str]:
    """Every key of databricks.yml, its sections and its included files is one the CLI knows."""
    problems = _unknown("databricks.yml", bundle.config, BUNDLE_KEYS)
    problems += _unknown("bundle", bundle.config.get("bundle") or {}, BUNDLE_SECTION_KEYS)
    if not (bundle.config.get("bundle") or {}).get("name"):
        problems.append("bundle.name is missing")
    for path, document in bundle.included.items():
        problems += _unknown(path, document, INCLUDED_FILE_KEYS)
    if not bundle.included:
        problems.append(f"include {bundle.config.get('include')} matches no file")
    for name, spec in bundle.variables.items():
        problems += _unknown(f"variables.{name}", spec or {}, VARIABLE_KEYS)
    for name, spec in (bundle.config.get("artifacts") or {}).items():
        problems += _unknown(f"artifacts.{name}", spec or {}, ARTIFACT_KEYS)
    for name, target in bundle.targets.items():
        where = f"targets.{name}"
        problems += _unknown(where, target, TARGET_KEYS)
        problems += _unknown(f"{where}.workspace", target.get("workspace") or {}, WORKSPACE_KEYS)
        problems += _unknown(f"{where}.run_as", target.get("run_as") or {}, RUN_AS_KEYS)
        if target.get("mode") not in (None, *MODES):
            problems.append(f"{where}.mode: {target['mode']!r} is not one of {sorted(MODES)}")
        for grant in target.get("permissions") or []:
            problems += _unknown(f"{where}.permissions", grant, PERMISSION_KEYS)
            if grant.get("level") not in PERMISSION_LEVELS:
                problems.append(f"{where}.permissions: level {grant.get('level')!r} is unknown")
    for document in bundle.documents():
        for source in [document, *(document.get("targets") or {}).values()]:
            for kind in source.get("resources") or {}:
                if kind not in RESOURCE_MODELS:
                    problems.append(f"resources.{kind}: not a resource type")
    return problems


def check_resources_load(bundle: Bundle) -> list[str]:
    """Every resource of every target loads into its `databricks.bundles` model."""
    problems = []
    for target in bundle.targets:
        for kind, resources in bundle.resources(target).items():
            model = RESOURCE_MODELS.get(kind)
            for name, spec in (resources or {}).items():
                if model is None:
                    continue  # reported by check_keys
                try:
                    model.from_dict(copy.deepcopy(spec))
                except Exception as exc:  # any failure to load is the finding
                    problems.append(f"{target}: resources.{kind}.{name}: {exc}")
    return problems


def check_references(bundle: Bundle) -> list[str]:
    """Every `${var.x}` is declared, every `${resources.t.k.f}` exists in each target using it,
    every variable without a default has a value in every target."""
    problems = []
    declared = bundle.variables
    for target in bundle.targets:
        view = {"root": _without(bundle.config, "targets"), "target": bundle.targets[target]}
        view["resources"] = bundle.resources(target)
        for reference in sorted(
            {ref for text in _strings(view) for ref in REFERENCE.findall(text)}
        ):
            root, _, rest = reference.partition(".")
            if root not in REFERENCE_ROOTS:
                problems.append(f"{target}: ${{{reference}}}: unknown namespace {root!r}")
            elif root == "var" and rest.split(".")[0] not in declared:
                problems.append(f"{target}: ${{{reference}}} is not declared under variables")
            elif root == "resources":
                match = RESOURCE_REFERENCE.match(reference)
                kind, key = (match.group(1), match.group(2)) if match else (None, None)
                if not match or key not in (view["resources"].get(kind) or {}):
                    problems.append(f"{target}: ${{{reference}}} names no resource of the target")
        for name, spec in declared.items():
            if "default" not in (spec or {}) and bundle.variable_value(name, target) is None:
                problems.append(f"{target}: variable {name} has no default and no target value")
    return problems


def check_entry_points(bundle: Bundle, pyproject: Path) -> list[str]:
    """Every wheel task calls a console script of the project's wheel, by the wheel's name, in a
    serverless environment that installs the wheel."""
    project = tomllib.loads(pyproject.read_text())["project"]
    scripts = set(project.get("scripts") or {})
    distribution = re.sub(r"[-_.]+", "_", project["name"]).lower()
    problems = []
    for target in bundle.targets:
        for name, job in (bundle.resources(target).get("jobs") or {}).items():
            environments = {
                env["environment_key"]: env.get("spec") or {}
                for env in job.get("environments") or []
            }
            for task in job.get("tasks") or []:
                wheel_task = task.get("python_wheel_task")
                if not wheel_task:
                    continue
                where = f"{target}: jobs.{name}.{task.get('task_key')}"
                if wheel_task.get("entry_point") not in scripts:
                    problems.append(
                        f"{where}: entry point {wheel_task.get('entry_point')!r} is not in "
                        f"[project.scripts] of pyproject.toml ({', '.join(sorted(scripts))})"
                    )
                if wheel_task.get("package_name") != distribution:
                    problems.append(
                        f"{where}: package_name {wheel_task.get('package_name')!r} is not the "
                        f"wheel's distribution name {distribution!r}"
                    )
                spec = environments.get(task.get("environment_key"))
                if spec is None:
                    problems.append(
                        f"{where}: environment {task.get('environment_key')!r} undefined"
                    )
                elif not any(str(d).endswith(".whl") for d in spec.get("dependencies") or []):
                    problems.append(
                        f"{where}: its environment does not install the project's wheel"
                    )
    return problems


def check_task_graph(bundle: Bundle) -> list[str]:
    """Dependencies name tasks of the same job; a condition's task values come from a task it
    depends on; tasks after a condition name its outcome; no task reads the task values of a
    wheel task (Databricks documents task values for notebooks only: a wheel cannot set them)."""
    problems = []
    for target in bundle.targets:
        for name, job in (bundle.resources(target).get("jobs") or {}).items():
            tasks = {task.get("task_key"): task for task in job.get("tasks") or []}
            for key, task in tasks.items():
                where = f"{target}: jobs.{name}.{key}"
                needs = {dep.get("task_key"): dep for dep in task.get("depends_on") or []}
                for needed, dep in needs.items():
                    if needed not in tasks:
                        problems.append(f"{where}: depends on unknown task {needed!r}")
                    elif "condition_task" in tasks[needed] and dep.get("outcome") not in (
                        "true",
                        "false",
                    ):
                        problems.append(f"{where}: after condition {needed!r} without an outcome")
                for source in TASK_VALUE.findall(str(task)):
                    if "python_wheel_task" in tasks.get(source, {}):
                        problems.append(
                            f"{where}: reads task values of {source!r}, a wheel task, which "
                            "cannot set them"
                        )
                condition = task.get("condition_task") or {}
                for side in ("left", "right"):
                    for source in TASK_VALUE.findall(str(condition.get(side, ""))):
                        if source not in needs:
                            problems.append(
                                f"{where}: reads values of {source!r} without depending on it"
                            )
    return problems


def check_deployment_policy(bundle: Bundle) -> list[str]:
    """dev is a development target; staging and prod run as a service principal; schedules are
    live in prod only; every job notifies on failure."""
    problems = []
    if set(bundle.targets) != {"dev", "staging", "prod"}:
        problems.append(f"targets are {sorted(bundle.targets)}, expected dev, staging, prod")
    if (bundle.targets.get("dev") or {}).get("mode") != "development":
        problems.append("targets.dev is not in development mode")
    for target in ("staging", "prod"):
        spec = bundle.targets.get(target) or {}
        if not (spec.get("run_as") or {}).get("service_principal_name"):
            problems.append(f"targets.{target} does not run as a service principal")
        if not (spec.get("workspace") or {}).get("host"):
            problems.append(f"targets.{target} has no workspace host")
    for target in bundle.targets:
        for name, job in (bundle.resources(target).get("jobs") or {}).items():
            where = f"{target}: jobs.{name}"
            if not (job.get("email_notifications") or {}).get("on_failure"):
                problems.append(f"{where}: no failure notification")
            schedule = job.get("schedule")
            if schedule:
                status = _resolve(bundle, str(schedule.get("pause_status")), target)
                expected = "UNPAUSED" if target == "prod" else "PAUSED"
                if status != expected:
                    problems.append(f"{where}: schedule {status} in {target}, expected {expected}")
    return problems


def check_agrees_with_conf(bundle: Bundle, project: Path) -> list[str]:
    """Each target's catalog, schema, experiment and model name are those of conf/<target>.yml
    and conf/project.yml, which the code reads with `--env <target>`."""
    problems = []
    project_conf = yaml.safe_load((project / "conf" / "project.yml").read_text()) or {}
    model_name = bundle.variable_value("model_name", "dev")
    if (project_conf.get("model") or {}).get("name") != model_name:
        problems.append(f"variable model_name {model_name!r} is not model.name of conf/project.yml")
    for target in bundle.targets:
        conf_file = project / "conf" / f"{target}.yml"
        if not conf_file.is_file():
            problems.append(f"target {target} has no conf/{target}.yml")
            continue
        runtime = (yaml.safe_load(conf_file.read_text()) or {}).get("runtime") or {}
        for variable, key in (
            ("catalog", "catalog"),
            ("schema", "schema"),
            ("experiment_name", "experiment"),
        ):
            value = bundle.variable_value(variable, target)
            if runtime.get(key) != value:
                problems.append(
                    f"{target}: variable {variable} is {value!r} but conf/{target}.yml "
                    f"runtime.{key} is {runtime.get(key)!r}"
                )
    return problems


def all_problems(project: Path) -> list[str]:
    """Every check above, on one rendered project."""
    bundle = load_bundle(project)
    return [
        *check_keys(bundle),
        *check_resources_load(bundle),
        *check_references(bundle),
        *check_entry_points(bundle, project / "pyproject.toml"),
        *check_task_graph(bundle),
        *check_deployment_policy(bundle),
        *check_agrees_with_conf(bundle, project),
    ]


# -- helpers ------------------------------------------------------------------------------------


def _unknown(where: str, mapping: dict[str, Any], known: set[str]) -> list[str]:
    if not isinstance(mapping, dict):
        return [f"{where}: expected a mapping, found {type(mapping).__name__}"]
    return [f"{where}: unknown key {key!r}" for key in mapping if key not in known]


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Target overrides as the CLI applies them: mappings merge, sequences append."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _resolve(bundle: Bundle, value: str, target: str) -> str:
    match = re.fullmatch(r"\$\{var\.(\w+)\}", value)
    return str(bundle.variable_value(match.group(1), target)) if match else value
