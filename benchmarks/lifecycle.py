"""Lifecycle figures of a generated default project, each as a ratio to a reference measured in
the same run:

- batch scoring of 1M rows: the project's Spark path vs plain pandas `model.predict`;
- local serving latency: p50/p99 of 1,000 sequential single-row requests;
- drift aggregation over 1M and 10M rows x 10 features vs one plain Spark aggregation scan,
  with driver memory at both sizes (it must not grow with the row count).

    uv run python benchmarks/lifecycle.py [--drift-rows 1000000 10000000]

Renders the default scenario, `uv sync`, `run all` (a deployed champion and predictions), then
runs the scripts in benchmarks/in_project/ with the project's interpreter.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml
from _common import load_average, machine, render_scenario, timed, uv

IN_PROJECT = Path(__file__).resolve().parent / "in_project"


def in_project(project: Path, script: str, *args: str) -> dict:
    _, output = timed(project, [uv(), "run", "python", str(IN_PROJECT / script), *args])
    reports = [line for line in output.splitlines() if line.startswith('{"')]
    if not reports:
        raise SystemExit(f"{script} printed no JSON report:\n{output[-3000:]}")
    return json.loads(reports[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scoring-rows", default="1000000")
    parser.add_argument("--drift-rows", nargs="+", default=["1000000", "10000000"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        project = render_scenario("default", Path(tmp) / "project")
        slug = yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]
        timed(project, [uv(), "sync"])
        timed(project, [uv(), "run", slug, "run", "all"])
        result = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": machine(),
            "load_average_at_start": load_average(),
            "batch_scoring": in_project(project, "scoring.py", args.scoring_rows),
            "serving": in_project(project, "serving.py"),
            "drift": [in_project(project, "drift.py", rows) for rows in args.drift_rows],
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
