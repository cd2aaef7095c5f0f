"""A local REST scoring server for `@champion` (and `@challenger`) on 127.0.0.1: one process.

It answers like MLflow's scoring server (`POST /invocations`, `GET /ping`) but checks every
request against the model's own inputs first (`payload.py`): a malformed request gets a 4xx that
names the field, never a 5xx and never an echo of what was sent. It refuses to start on a busy
port, and Ctrl-C or SIGTERM stop it with nothing left behind (there is no child process).
`POST /invocations?reasons=N` adds the N features that pushed each score up most
(training/explain.py).

`deployment.traffic` says which model answers (traffic.py): the champion only, a canary share
of the request keys to the challenger, or the challenger in shadow (it scores every request
after the answer, on a thread of its own). A challenger that is missing or fails to load leaves
the champion answering everything; the reason is logged and shown by `GET /status`. Every
scored request goes to the inference log (request_log.py), off the request path.
"""

from __future__ import annotations

import errno
import logging
import queue
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import mlflow.pyfunc
import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..config import Config, TrafficConfig
from ..data import schema as s
from ..errors import PipelineError
from ..registry import CHALLENGER, CHAMPION, require_alias
from ..runtime.context import Context, build_context, tracking_for
from ..runtime.tracking import Tracking
from ..training.explain import REFERENCE_KEY, top_reasons
from .payload import (
    MAX_BYTES,
    BadRequestError,
    Inputs,
    frame_of,
    parse_records,
    record_ids,
    request_key,
)
from .pipeline import NO_CHAMPION_HINT
from .request_log import RequestLog, entry
from .scoring import raw_fraud_score
from .traffic import Router

MAX_REASONS = 20
MAX_SHADOW_PENDING = 10_000  # requests waiting for the shadow; beyond, skipped (counted)
MAX_SHADOW_BATCH = 500  # requests the shadow scores in one call
NO_CHALLENGER_HINT = "Run `train` and `validate`: a validated model becomes the challenger."

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """A loaded model version and what the server needs to check its inputs and explain it."""

    role: str
    name: str
    version: str
    model: mlflow.pyfunc.PyFuncModel
    inputs: Inputs = field(init=False)
    reference: dict | None = field(init=False)
    score: Callable = field(init=False)

    def __post_init__(self) -> None:
        metadata = self.model.metadata
        object.__setattr__(self, "inputs", Inputs.from_schema(metadata.get_input_schema()))
        object.__setattr__(self, "reference", (metadata.metadata or {}).get(REFERENCE_KEY))
        object.__setattr__(self, "score", raw_fraud_score(self.model))


@dataclass
class Models:
    """What serves: the champion, the challenger when the strategy needs one and it loaded, and
    why it is not serving when it is not."""

    champion: Served
    challenger: Served | None
    traffic: TrafficConfig
    challenger_problem: str | None = None

    @property
    def router(self) -> Router:
        return Router.of(self.traffic, self.challenger is not None)


def load(tracking: Tracking, alias: str, hint: str) -> Served:
    """The version holding `alias`, loaded once (MLflow only: no Spark session is needed)."""
    tracking.activate()
    client, name = tracking.client(), tracking.model_name
    version = str(require_alias(client, name, alias, hint).version)
    return Served(alias, name, version, mlflow.pyfunc.load_model(f"models:/{name}/{version}"))


def load_champion(tracking: Tracking) -> Served:
    return load(tracking, CHAMPION, NO_CHAMPION_HINT)


def load_models(tracking: Tracking, traffic: TrafficConfig) -> Models:
    """The champion (or an error), and the challenger if the strategy needs it. A challenger that
    is missing or fails to load never stops the server: the champion answers everything."""
    champion = load_champion(tracking)
    if traffic.strategy == "champion":
        return Models(champion, None, traffic)
    try:
        challenger = load(tracking, CHALLENGER, NO_CHALLENGER_HINT)
    except Exception as exc:  # whatever broke (absent, unreadable, a missing package), say so
        problem = f"{traffic.strategy}: the challenger is not served ({exc})"
        log.warning("%s; the champion answers every request", problem)
        return Models(champion, None, traffic, problem)
    if challenger.version == champion.version:
        problem = f"{traffic.strategy}: the challenger is the champion (v{champion.version})"
        log.warning("%s; the champion answers every request", problem)
        return Models(champion, None, traffic, problem)
    return Models(champion, challenger, traffic)


class Shadow:
    """The challenger's scores in shadow, off the answer's path: requests queue (bounded: when
    the challenger falls behind, a request is skipped and counted, never waited for) and one
    thread scores everything queued in one `predict` call. A model call costs about the same
    for one row as for a hundred, so batching keeps the shadow's CPU (and the GIL it holds)
    small beside the answers'. Its log rows carry the batch's scoring time."""

    def __init__(self, model: Served, strategy: str, record: Callable[[dict], None]) -> None:
        self.model, self.strategy, self.record = model, strategy, record
        self.skipped = 0
        self._queue: queue.Queue = queue.Queue(maxsize=MAX_SHADOW_PENDING)
        self._thread = threading.Thread(target=self._run, name="shadow", daemon=True)
        self._stop = threading.Event()
        self._thread.start()

    def submit(self, records: list[dict], request_id: str, key: str | None) -> None:
        """Queue a request; its inputs are checked and framed with its batch's, on the shadow's
        thread (one DataFrame per batch, not one per request on the answer's path)."""
        try:
            self._queue.put_nowait((records, request_id, key))
        except queue.Full:
            self.skipped += 1

    def close(self) -> None:
        """Score what is queued, then stop."""
        self._stop.set()
        self._thread.join(300)

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                batch = [self._queue.get(timeout=0.05)]
            except queue.Empty:
                continue
            while len(batch) < MAX_SHADOW_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._score(batch)

    def _score(self, batch: list[tuple[list[dict], str, str | None]]) -> None:
        model = self.model
        try:
            frame = frame_of([r for records, _, _ in batch for r in records], model.inputs)
        except BadRequestError:  # some request lacks inputs the challenger takes: leave it out
            batch = [queued for queued in batch if self._takes(queued[0])]
            if not batch:
                return
            frame = frame_of([r for records, _, _ in batch for r in records], model.inputs)
        try:
            started = time.perf_counter()
            scores = np.asarray(model.model.predict(frame))[:, 1].tolist()
            latency = (time.perf_counter() - started) * 1000
        except Exception:  # the shadow never answers, so its failure is logged, not returned
            log.exception("the shadow model %s v%s failed on a batch", model.name, model.version)
            return
        start = 0
        for records, request_id, key in batch:
            mine = scores[start : start + len(records)]
            start += len(records)
            ids = record_ids(records, s.TRANSACTION_ID)
            self.record(
                entry(request_id, key, self.strategy, model.role, model, False, mine, latency, ids)
            )

    def _takes(self, records: list[dict]) -> bool:
        try:
            frame_of(records, self.model.inputs)
        except BadRequestError as bad:  # inputs the challenger takes and the champion does not
            log.warning("the shadow model cannot score a request: %s", bad.message)
            return False
        return True


def create_app(models: Models | Served, request_log: RequestLog | None = None) -> Starlette:
    if isinstance(models, Served):  # a champion alone
        models = Models(models, None, TrafficConfig())
    router, traffic = models.router, models.traffic
    by_role = {CHAMPION: models.champion, CHALLENGER: models.challenger}

    def record(row: dict[str, Any]) -> None:
        if request_log is not None:
            request_log.record(row)

    shadow = Shadow(models.challenger, router.strategy, record) if models.challenger else None

    async def invocations(request: Request) -> Response:
        started = time.perf_counter()
        try:
            records = parse_records(await _body(request))
            key = request_key(records, traffic.request_key, required=router.needs_key)
            route = router.route(key)
            answering = by_role[route.answer]
            frame = frame_of(records, answering.inputs)
            reasons = requested_reasons(request.query_params.get("reasons"), answering.reference)
        except BadRequestError as bad:
            return _error(bad.status, bad.message)
        try:
            scores = np.asarray(await run_in_threadpool(answering.model.predict, frame))
            why = (
                await run_in_threadpool(
                    top_reasons, answering.score, frame, answering.reference, reasons, scores[:, 1]
                )
                if reasons
                else None
            )
        except Exception:  # the inputs were checked: this is a defect, logged, not echoed
            log.exception("the model failed on a checked request")
            return _error(500, "the model failed on this request; see the server log")
        request_id = uuid.uuid4().hex
        latency = (time.perf_counter() - started) * 1000
        record(
            entry(request_id, key, router.strategy, answering.role, answering, True,
                  scores[:, 1].tolist(), latency, record_ids(records, s.TRANSACTION_ID))
        )  # fmt: skip
        if route.shadow is not None and shadow is not None:
            shadow.submit(records, request_id, key)
        answer = {
            "predictions": scores.tolist(),
            "model": answering.name,
            "version": answering.version,
            "served_by": answering.role,
            "request_id": request_id,
        }
        return JSONResponse(answer | ({"reasons": why} if why is not None else {}))

    async def ping(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def status(_: Request) -> Response:
        def described(model: Served | None) -> dict | None:
            return None if model is None else {"name": model.name, "version": model.version}

        return JSONResponse({
            "strategy": traffic.strategy,
            "strategy_in_force": router.strategy,
            "challenger_share": router.share,
            "request_key": traffic.request_key,
            "champion": described(models.champion),
            "challenger": described(models.challenger),
            "challenger_problem": models.challenger_problem,
            "shadow_skipped": 0 if shadow is None else shadow.skipped,
            "inference_log": None if request_log is None else request_log.status(),
        })  # fmt: skip

    async def http_error(_: Request, exc: Exception) -> Response:
        status_code = exc.status_code if isinstance(exc, HTTPException) else 500
        return _error(status_code, "not found: POST /invocations, GET /ping or GET /status")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        # on shutdown (Ctrl-C and SIGTERM too): the shadow's last scores, then every logged row
        if shadow is not None:
            await run_in_threadpool(shadow.close)
        if request_log is not None:
            await run_in_threadpool(request_log.close)

    return Starlette(
        routes=[
            Route("/invocations", invocations, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/health", ping, methods=["GET"]),
            Route("/status", status, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
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


def serve(config: Config, port: int, announce=print, logged: bool = True) -> None:
    """Serve until Ctrl-C or SIGTERM. `announce` receives one line once the port is ours."""
    models = load_models(tracking_for(config), config.deployment.traffic)
    sock = bind(port)
    request_log = _request_log(config, lambda: build_context(config)) if logged else None
    announce(f"{describe(models)} at http://127.0.0.1:{port}/invocations")
    uvicorn.Server(_config(models, request_log)).run(sockets=[sock])


def describe(models: Models) -> str:
    champion, challenger = models.champion, models.challenger
    said = f"Serving {champion.name} v{champion.version}"
    if challenger is None:
        return said
    share = f" {models.router.share:.0%} of the keys" if models.router.strategy == "canary" else ""
    return f"{said}, challenger v{challenger.version} ({models.router.strategy}{share})"


@contextmanager
def running_server(
    config: Config,
    port: int,
    open_context: Callable[[], Context] | None = None,
    logged: bool = True,
) -> Iterator[Models]:
    """The same server in a background thread, for tests, notebooks and benchmarks; stopped on
    exit (with every logged row written). `open_context` gives the inference log its tables
    (default: the configured runtime's, started by the log's thread)."""
    models = load_models(tracking_for(config), config.deployment.traffic)
    sock = bind(port)
    opened = open_context or (lambda: build_context(config))
    request_log = _request_log(config, opened) if logged else None
    server = uvicorn.Server(_config(models, request_log))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            thread.join(0.05)
        yield models
    finally:
        server.should_exit = True
        thread.join(600)  # the log writes what it holds first
        sock.close()


def _request_log(config: Config, open_context: Callable[[], Context]) -> RequestLog:
    return RequestLog(open_context, config.tables.inference_log).start()


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


def _config(models: Models, request_log: RequestLog | None) -> uvicorn.Config:
    return uvicorn.Config(create_app(models, request_log), log_level="warning", lifespan="on")


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
