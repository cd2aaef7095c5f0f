"""Serving under a bounded load on 127.0.0.1, per traffic strategy: p50/p99 latency, throughput
and errors of 16 concurrent clients sending 10,000 single-row requests (each with its customer
key) to `serve` with champion only, champion only without the inference log, canary (10%) and
shadow, and to `mlflow models serve` of the same champion, in the same run.

Each server is a process of its own (the clients' threads never share its interpreter); each
run stops by itself: every request has a 30 s timeout and a strategy has at most 10 minutes.
Runs inside a rendered default project after `run all`, `run train` and `run validate` (a
champion and a validated challenger). Prints JSON.
Usage: [ONLY=champion,shadow] python serving_traffic.py [requests] [clients]
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from fraud_detection.config import load_config
from fraud_detection.registry import CHALLENGER, CHAMPION
from fraud_detection.runtime import build_context
from fraud_detection.training.dataset import feature_columns

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 16
WARM_UP = 300
DEADLINE_S = 600
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(process: subprocess.Popen, port: int, output, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output.seek(0)
            raise SystemExit(f"the server exited: {output.read()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer /ping within {timeout} s")


def load(port: int, bodies: list[bytes], requests: int) -> dict:
    """`CLIENTS` threads, each on one keep-alive connection, share `requests` requests."""
    latencies: list[float] = []
    errors = [0]
    next_index = iter(range(requests))
    lock = threading.Lock()
    stop_at = time.monotonic() + DEADLINE_S

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop_at:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            started = time.perf_counter()
            try:
                connection.request(
                    "POST", "/invocations", bodies[index % len(bodies)],
                    {"Content-Type": "application/json"},
                )  # fmt: skip
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - started) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "seconds": round(elapsed, 1),
    }


def status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10) as response:
        return json.load(response)


def measure(command: list[str], env: dict, port: int, bodies: list[bytes], ours: bool) -> dict:
    # the server's output goes to a file: a pipe nobody reads fills up (uvicorn logs every
    # request of `mlflow models serve`) and blocks the server
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # its own group: `mlflow models serve` runs uvicorn as a child
        )  # fmt: skip
        try:
            wait_until_up(process, port, output)
            return measured(port, bodies, ours)
        finally:
            # `serve`: its pid only, as Ctrl-C would (a SIGTERM to the group would stop its
            # Spark before the log's last write); mlflow: the group, uvicorn included
            (os.kill if ours else os.killpg)(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=300)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def measured(port: int, bodies: list[bytes], ours: bool) -> dict:
    load(port, bodies, WARM_UP)
    deadline = time.monotonic() + 180
    while ours and time.monotonic() < deadline:  # the log's Spark has started and written once:
        logged = status(port)["inference_log"]  # its start is not measured
        if logged is None or logged["written"]:
            break
        time.sleep(1)
    result = load(port, bodies, REQUESTS)
    if ours:
        time.sleep(6)  # one more flush of the log
        said = status(port)
        result["strategy_in_force"] = said["strategy_in_force"]
        result["shadow_skipped"] = said["shadow_skipped"]
        result["inference_log"] = said["inference_log"]
    return result


def main() -> None:
    config = load_config("local")
    ctx = build_context(config)
    registry = ctx.tracking.registry()
    champion = registry.version_by_alias(CHAMPION)
    challenger = registry.version_by_alias(CHALLENGER)
    if challenger is None:
        raise SystemExit("no @challenger: run `train` and `validate` after `run all` first")
    features = feature_columns(config)
    features_table = ctx.tables.read(config.tables.transaction_features)
    keys = features_table.select("transaction_id", "customer_id")
    scored = ctx.tables.read(config.tables.predictions).join(keys, "transaction_id")
    rows = scored.limit(2000).toPandas()
    records = rows[[*features, "customer_id"]].to_dict(orient="records")
    # unknown values (a customer without history) are sent as null, as a client would
    records = [{k: None if v != v else v for k, v in r.items()} for r in records]
    ours = [json.dumps({"dataframe_records": [r]}, default=float).encode() for r in records]
    plain = [
        json.dumps({"dataframe_records": [{f: r[f] for f in features}]}, default=float).encode()
        for r in records
    ]
    ctx.spark.stop()  # the servers start their own Spark for the log

    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    serve = [str(BIN / "fraud-detection"), "serve"]
    runs = {
        "champion": ["--set", "deployment.traffic.strategy=champion"],
        "champion_no_log": ["--set", "deployment.traffic.strategy=champion", "--no-log-requests"],
        "canary_10pct": ["--set", "deployment.traffic.strategy=canary",
                         "--set", "deployment.traffic.challenger_share=0.1"],
        "shadow": ["--set", "deployment.traffic.strategy=shadow"],
    }  # fmt: skip
    only = os.environ.get("ONLY", "").split(",") if os.environ.get("ONLY") else None
    results = {}
    for name, args in runs.items():
        if only and name not in only:
            continue
        port = free_port()
        results[name] = measure([*serve, "--port", str(port), *args], env, port, ours, ours=True)
    port = free_port()
    mlflow_env = env | {
        "MLFLOW_TRACKING_URI": ctx.tracking.tracking_uri,
        "MLFLOW_REGISTRY_URI": ctx.tracking.registry_uri,
    }
    mlflow_serve = [
        str(BIN / "mlflow"), "models", "serve", "-m", f"models:/{registry.name}@champion",
        "-h", "127.0.0.1", "-p", str(port), "--env-manager", "local",
    ]  # fmt: skip
    if not only or "mlflow_models_serve" in only:
        results["mlflow_models_serve"] = measure(mlflow_serve, mlflow_env, port, plain, ours=False)
    p99 = results["champion"]["p99_ms"]
    print(
        json.dumps(
            {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
                "load_average_at_end": os.getloadavg()[0],
                "requests": REQUESTS,
                "clients": CLIENTS,
                "champion_version": champion.version,
                "challenger_version": challenger.version,
                "results": results,
                "shadow_p99_over_champion": round(results["shadow"]["p99_ms"] / p99, 2),
                "goal_shadow_adds_under_20pct": results["shadow"]["p99_ms"] < 1.2 * p99,
            }
        )
    )


if __name__ == "__main__":
    main()
