"""Fresh setup time of a generated default project, with its uv.lock and without, cold and warm.

    uv run python benchmarks/setup_time.py [--skip-cold] [--repeats 3]

without the lock (`uv sync` resolves, then installs; what a project without a committed lock
        gets on every fresh setup):
    cold: a new, empty UV_CACHE_DIR in a temp folder, so everything is downloaded from PyPI
          (about 1 GB, including pyspark's source archive, which is then built); run once;
    warm: `.venv` and `uv.lock` deleted and synced again from that now-filled cache, and from
          uv's usual global cache (what a second new project on the same machine sees).
with the lock (`uv sync --locked`, as CI and every clone of a generated project run it):
    cold: another new, empty UV_CACHE_DIR; run once;
    warm: `.venv` deleted, `uv.lock` kept, uv's usual global cache.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _common import load_average, machine, render_scenario, timed, uv


def folder_megabytes(path: Path) -> int:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6)


def sync_fresh(project: Path, keep_lock: bool = False, **env: str) -> float:
    shutil.rmtree(project / ".venv", ignore_errors=True)
    if not keep_lock:
        (project / "uv.lock").unlink(missing_ok=True)
    seconds, _ = timed(project, [uv(), "sync", *(["--locked"] if keep_lock else [])], **env)
    return round(seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true", help="only the warm-cache timings")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    result: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "load_average_at_start": load_average(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        project = render_scenario("default", Path(tmp) / "project")
        if not args.skip_cold:
            cache = Path(tmp) / "uv-cache"
            result["cold_cache_seconds"] = sync_fresh(project, UV_CACHE_DIR=str(cache))
            result["cold_cache_size_mb"] = folder_megabytes(cache)
            result["warm_fresh_cache_seconds"] = statistics.median(
                sync_fresh(project, UV_CACHE_DIR=str(cache)) for _ in range(args.repeats)
            )
            shutil.rmtree(cache)  # 3.4 GB
        result["warm_global_cache_seconds"] = statistics.median(
            sync_fresh(project) for _ in range(args.repeats)
        )
        if not args.skip_cold:
            cache = Path(tmp) / "uv-cache-locked"
            result["locked_cold_cache_seconds"] = sync_fresh(
                project, keep_lock=True, UV_CACHE_DIR=str(cache)
            )
            shutil.rmtree(cache)
        result["locked_global_cache_seconds"] = statistics.median(
            sync_fresh(project, keep_lock=True) for _ in range(args.repeats)
        )
        result["venv_mb"] = folder_megabytes(project / ".venv")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
