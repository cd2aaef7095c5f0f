"""A local REST scoring server for `@champion` on 127.0.0.1: one process, no JVM.

It answers like MLflow's scoring server (`POST /invocations`, `GET /ping`) but checks every
request against the model's own inputs first (`payload.py`): a malformed request gets a 4xx that
names the field, never a 5xx and never an echo of what was sent. It refuses to start on a busy
port, and Ctrl-C or SIGTERM stop it with nothing left behind (there is no child process).
`POST /invocations?reasons=N` adds the N features that pushed each score up most
(training/explain.py).
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import mlflow.pyfunc
import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..errors import PipelineError
from ..registry import CHAMPION, require_alias
from ..runtime.tracking import Tracking
from ..training.explain import REFERENCE_KEY, top_reasons
from .payload import MAX_BYTES, BadRequestError, Inputs, parse_request
from .pipeline import NO_CHAMPION_HINT
from .scoring import raw_fraud_score

MAX_REASONS = 20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    name: str
    version: str
    model: mlflow.pyfunc.PyFuncModel


def load_champion(tracking: Tracking) -> Champion:
    """The `@champion` version, loaded once (MLflow only: no Spark session is needed)."""
    tracking.activate()
    client, name = tracking.client(), tracking.model_name
    version = str(require_alias(client, name, CHAMPION, NO_CHAMPION_HINT).version)
    return Champion(name, version, mlflow.pyfunc.load_model(f"models:/{name}/{version}"))


def create_app(champion: Champion) -> Starlette:
    inputs = Inputs.from_schema(champion.model.metadata.get_input_schema())
    reference = (champion.model.metadata.metadata or {}).get(REFERENCE_KEY)
    score = raw_fraud_score(champion.model)

    async def invocations(request: Request) -> Response:
        try:
            frame = parse_request(await _body(request), inputs)
        except BadRequestError as bad:
            return _error(bad.status, bad.message)
        try:
            reasons = requested_reasons(request.query_params.get("reasons"), reference)
        except BadRequestError as bad:
            return _error(bad.status, bad.message)
        try:
            scores = np.asarray(await run_in_threadpool(champion.model.predict, frame))
            why = (
                await run_in_threadpool(top_reasons, score, frame, reference, reasons, scores[:, 1])
                if reasons
                else None
            )
        except Exception:  # the inputs were checked: this is a defect, logged, not echoed
            log.exception("the model failed on a checked request")
            return _error(500, "the model failed on this request; see the server log")
        predictions = np.asarray(scores).tolist()
        answer = {"predictions": predictions, "model": champion.name, "version": champion.version}
        return JSONResponse(answer | ({"reasons": why} if why is not None else {}))

    async def ping(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def http_error(_: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return _error(status, "not found: POST /invocations or GET /ping")

    return Starlette(
        routes=[
            Route("/invocations", invocations, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/health", ping, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
    )


def requested_reasons(value: str | None, reference: dict | None) -> int:
    """`?reasons=N`: the top N reasons of each score (0 or absent: none)."""
    if value is None:
        return 0
    if not value.isdigit() or int(value) > MAX_REASONS:
        raise BadRequestError(
            400, f"query parameter 'reasons' must be a whole number from 0 to {MAX_REASONS}"
        )
    if int(value) and reference is None:
        raise BadRequestError(
            409, "this model version was trained before reasons existed: retrain it for reasons"
        )
    return int(value)


def serve(tracking: Tracking, port: int, announce=print) -> None:
    """Serve until Ctrl-C or SIGTERM. `announce` receives one line once the port is ours."""
    champion = load_champion(tracking)
    sock = bind(port)
    announce(f"Serving {champion.name} v{champion.version} at http://127.0.0.1:{port}/invocations")
    uvicorn.Server(_config(champion)).run(sockets=[sock])


@contextmanager
def running_server(tracking: Tracking, port: int) -> Iterator[Champion]:
    """The same server in a background thread, for tests and notebooks; stopped on exit."""
    champion = load_champion(tracking)
    sock = bind(port)
    server = uvicorn.Server(_config(champion))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            thread.join(0.05)
        yield champion
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def bind(port: int) -> socket.socket:
    """Take the port now (bound and listening), so that a second server fails here instead of
    after loading its model. SO_REUSEADDR, as uvicorn sets it: a restart does not wait for the
    last connections' TIME_WAIT, while a port another server listens on stays refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PipelineError(
                f"port {port} on 127.0.0.1 is already in use (another `serve`?): stop it, "
                "or pick another port with --port"
            ) from None
        raise PipelineError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    return sock


def _config(champion: Champion) -> uvicorn.Config:
    return uvicorn.Config(create_app(champion), log_level="warning", lifespan="off")


async def _body(request: Request) -> bytes:
    """The body, read no further than the limit (a huge upload is refused, not buffered)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise BadRequestError(
            413, f"the request is larger than {MAX_BYTES:,} bytes: send fewer rows"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise BadRequestError(413, f"the request is larger than {MAX_BYTES:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> JSONResponse:
    code = "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR"
    return JSONResponse({"error_code": code, "message": message}, status_code=status)
