"""Local serving latency: p50 and p99 of 1,000 sequential single-row requests to `@champion`.

Runs inside a rendered default project after `run all` (see ../lifecycle.py). Prints JSON.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import numpy as np
from fraud_detection.config import load_config
from fraud_detection.inference.server import running_server
from fraud_detection.runtime import build_context
from fraud_detection.training.dataset import feature_columns

REQUESTS = 1000


def main() -> None:
    ctx = build_context(load_config("local"))
    features = feature_columns(ctx.config)
    rows = ctx.tables.read(ctx.config.tables.predictions).limit(REQUESTS).toPandas()[features]
    bodies = [
        json.dumps(
            {"dataframe_split": rows.iloc[[i % len(rows)]].to_dict(orient="split")}, default=float
        ).encode()
        for i in range(REQUESTS)
    ]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with running_server(ctx.config, port, lambda: ctx) as models:
        version = models.champion.version
        url = f"http://127.0.0.1:{port}/invocations"
        latencies = []
        for body in bodies:
            request = urllib.request.Request(
                url, data=body, headers={"Content-Type": "application/json"}
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            latencies.append((time.perf_counter() - started) * 1000)
    print(
        json.dumps(
            {
                "model_version": version,
                "requests": REQUESTS,
                "p50_ms": round(float(np.percentile(latencies, 50)), 2),
                "p99_ms": round(float(np.percentile(latencies, 99)), 2),
                "max_ms": round(max(latencies), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
