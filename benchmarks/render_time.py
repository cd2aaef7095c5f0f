"""Render time of the default project vs a trivial one-file Copier template, in the same run.

    uv run python benchmarks/render_time.py [--repeats 9]

Both templates are local git repositories rendered with the same Copier call (`vcs_ref="HEAD"`,
defaults, no tasks), so the ratio isolates what this template's size and Jinja cost on top of
Copier's fixed cost (git clone, answers, file writes). Target: ratio < 1.5.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import copier
from _common import load_average, machine, render

REPO_ROOT = Path(__file__).resolve().parents[1]

TRIVIAL_COPIER_YML = """\
_answers_file: .copier-answers.yml
project_name:
  type: str
  default: Trivial
"""


def make_trivial_template(root: Path) -> Path:
    """A git repository with one question and one rendered file."""
    root.mkdir(parents=True)
    (root / "copier.yml").write_text(TRIVIAL_COPIER_YML)
    (root / "README.md.jinja").write_text("# {{ project_name }}\n")
    (root / "{{_copier_conf.answers_file}}.jinja").write_text("{{ _copier_answers|to_nice_yaml }}")
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-q", "-m", "trivial"]):
        subprocess.run(["git", *command], cwd=root, check=True)
    return root


def render_seconds(template: Path, dst: Path) -> float:
    started = time.perf_counter()
    render(dst, {}, template)
    return time.perf_counter() - started


# Copier's phases, by the function that does them (cumulative seconds; they overlap where nested)
PHASES = {
    "clone the template (git)": ("_vcs.py", "clone"),
    "ask: defaults and validators": ("_main.py", "_ask"),
    "render file and folder names": ("_main.py", "_render_path"),
    "render and write files": ("_main.py", "_render_file"),
    "  of which: a `git config` call per file": ("_main.py", "_sync_git_index_executable_bit"),
    "  of which: answers-file path, re-rendered per file": ("_main.py", "answers_relpath"),
    "jinja compile (all of the above)": ("environment.py", "compile"),
}


def profile_phases(template: Path, tmp_path: Path, repeats: int) -> dict[str, float]:
    """Seconds per render spent in each phase of Copier, from cProfile."""
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(repeats):
        render_seconds(template, tmp_path / f"profiled-{i}")
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    found = {}
    for phase, (file_suffix, function) in PHASES.items():
        seconds = sum(
            cumulative
            for (filename, _, name), (_, _, _, cumulative, _) in stats.items()
            if name == function and filename.endswith(file_suffix)
        )
        found[phase] = round(seconds / repeats, 3)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--template",
        type=Path,
        default=REPO_ROOT,
        help="template repository to time (default: this one, uncommitted changes included)",
    )
    parser.add_argument("--profile", action="store_true", help="also split a render into phases")
    args = parser.parse_args()
    load_at_start = load_average()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        trivial = make_trivial_template(tmp_path / "trivial-template")
        render_seconds(trivial, tmp_path / "warm-up-trivial")  # imports, git, disk caches
        render_seconds(args.template, tmp_path / "warm-up-default")
        times: dict[str, list[float]] = {"default": [], "trivial": []}
        for i in range(args.repeats):  # interleaved, so drift in machine load hits both alike
            times["default"].append(render_seconds(args.template, tmp_path / f"default-{i}"))
            times["trivial"].append(render_seconds(trivial, tmp_path / f"trivial-{i}"))
        rendered_files = sum(1 for p in (tmp_path / "default-0").rglob("*") if p.is_file())
        phases = profile_phases(args.template, tmp_path, 3) if args.profile else None

    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "load_average_at_start": load_at_start,
        "copier": copier.__version__,
        "repeats": args.repeats,
        "default_files": rendered_files,
        "median_seconds": {k: round(v, 3) for k, v in medians.items()},
        "min_seconds": {k: round(min(v), 3) for k, v in times.items()},
        "ratio_default_to_trivial": round(medians["default"] / medians["trivial"], 2),
        # the trivial template renders 2 files; Copier's cost per extra file (path rendering,
        # a `git config` call per written file) is most of the difference
        "ms_per_extra_file": round(
            1000 * (medians["default"] - medians["trivial"]) / (rendered_files - 2), 1
        ),
    }
    if phases:
        result["profiled_seconds_per_render_of_default"] = phases
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
