"""A local REST scoring server for `@champion` (MLflow's scoring server) on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..registry import CHAMPION, require_alias
from ..runtime import Context
from .pipeline import NO_CHAMPION_HINT


def start_server(ctx: Context, port: int) -> tuple[subprocess.Popen, str]:
    """Start `mlflow models serve` for the champion; returns the process and its version."""
    client, name = ctx.tracking.client(), ctx.tracking.model_name
    champion = require_alias(client, name, CHAMPION, NO_CHAMPION_HINT)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": ctx.tracking.tracking_uri,
        "MLFLOW_REGISTRY_URI": ctx.tracking.registry_uri,
        # the server execs `uvicorn`: it must find this environment's scripts first
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    command = [
        sys.executable, "-m", "mlflow", "models", "serve",
        "--model-uri", f"models:/{name}/{champion.version}",
        "--env-manager", "local",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    # its own process group: stopping it also stops the uvicorn workers it starts
    return subprocess.Popen(command, env=env, start_new_session=True), str(champion.version)


def wait_until_ready(process: subprocess.Popen, port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the scoring server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    stop_server(process)
    raise TimeoutError(f"the scoring server did not answer on port {port} within {timeout:.0f}s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
