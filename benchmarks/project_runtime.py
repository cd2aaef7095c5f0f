"""Unit-test time and `run all` wall time of a generated default project, Spark start-up apart.

    uv run python benchmarks/project_runtime.py [--repeats 3]

Renders the default scenario into a temp folder, sets it up with `uv sync` (warm uv cache
assumed; see setup_time.py for cold), then times `uv run pytest tests/unit` and
`uv run <slug> run all` (fresh `.local/` each time), on Spark Connect (the default, as
serverless jobs run) and on a classic session (`--set runtime.spark_connect=false`), alternately,
so that both see the same machine. The per-step seconds come from the summary table the CLI
prints; "process overhead" is wall time minus that table's total (interpreter, imports,
`uv run`). Target: whole pipeline < 90 s.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from _common import load_average, machine, render_scenario, timed, uv

SUMMARY_ROW = re.compile(r"^│ (\S[^│]*?)\s+│\s+([0-9.]+) │", re.MULTILINE)


def summary_seconds(output: str) -> dict[str, float]:
    """Rows of the CLI's "Pipeline summary" table: step -> seconds (incl. runtime start, total)."""
    rows = {name: float(seconds) for name, seconds in SUMMARY_ROW.findall(output)}
    if "runtime start" not in rows or "total" not in rows:
        raise SystemExit(f"no pipeline summary table in the output:\n{output[-3000:]}")
    return rows


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


CLASSIC = ["--set", "runtime.spark_connect=false"]


def run_all_figures(measured: list[tuple[float, dict[str, float]]]) -> dict:
    walls = [wall for wall, _ in measured]
    tables = [table for _, table in measured]
    return {
        "median_wall_seconds": median(walls),
        "wall_seconds": [round(w, 1) for w in walls],
        "summary_table_median_seconds": {
            name: median([table[name] for table in tables]) for name in tables[0]
        },
        "process_overhead_seconds": median([w - t["total"] for w, t in measured]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        project = render_scenario("default", Path(tmp) / "project")
        slug = yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]
        sync_seconds, _ = timed(project, [uv(), "sync"])

        unit_tests = []
        for _ in range(args.repeats):
            seconds, output = timed(project, [uv(), "run", "pytest", "tests/unit", "-q"])
            unit_tests.append(seconds)
        unit_summary = output.strip().splitlines()[-1]

        runs: dict[str, list[tuple[float, dict[str, float]]]] = {"connect": [], "classic": []}
        for _ in range(args.repeats):
            for session, extra in (("connect", []), ("classic", CLASSIC)):
                shutil.rmtree(project / ".local", ignore_errors=True)
                seconds, output = timed(project, [uv(), "run", slug, "run", "all", *extra])
                runs[session].append((seconds, summary_seconds(output)))

    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "load_average_at_start": load_average(),
        "repeats": args.repeats,
        "uv_sync_warm_seconds": round(sync_seconds, 1),
        "unit_tests": {"median_seconds": median(unit_tests), "pytest_summary": unit_summary},
        "run_all": {session: run_all_figures(measured) for session, measured in runs.items()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
