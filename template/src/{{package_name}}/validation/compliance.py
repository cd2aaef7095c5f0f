"""Compliance checks: what every model version must carry before it may serve anyone."""

from __future__ import annotations

from mlflow.entities.model_registry import ModelVersion
from mlflow.models.model import ModelInfo

from ..training.lineage import read_lineage
from .checks import CheckResult


def compliance_checks(
    version: ModelVersion, info: ModelInfo, required_tags: list[str]
) -> list[CheckResult]:
    results = [
        _check("compliance.signature", info.signature is not None, "no signature logged"),
        _check(
            "compliance.input_example",
            info.saved_input_example_info is not None,
            "no input example logged",
        ),
        _check(
            "compliance.description",
            bool((version.description or "").strip()),
            "the model version has no description",
        ),
    ]
    results += [
        _check(f"compliance.tag.{tag}", tag in version.tags, f"tag '{tag}' is missing")
        for tag in required_tags
    ]
    results.append(_lineage_check(version.tags))
    return results


def _lineage_check(tags: dict[str, str]) -> CheckResult:
    sources = read_lineage(tags)
    if not sources:
        return CheckResult("compliance.lineage", False, "no lineage_<table>_table tags")
    unversioned = [t for t, (_, version) in sources.items() if version is None]
    if unversioned:
        return CheckResult("compliance.lineage", False, f"no Delta version for {unversioned}")
    return CheckResult("compliance.lineage", True, f"{len(sources)} source tables with versions")


def _check(name: str, passed: bool, problem: str) -> CheckResult:
    return CheckResult(name, passed, "ok" if passed else problem)
