"""One check = a name, passed or not, and what was measured against what."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str
    value: float | None = None
    threshold: float | None = None


def failed(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.passed]
