"""Command line: thin. It parses, builds the context and calls the steps.

What users see is `HELP` below; this docstring is for the people who change the file.
"""

from __future__ import annotations

import difflib
import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from .config import parse_overrides
from .errors import PipelineError
from .pipelines import STEPS, StepResult, load_checked_config, plan_all, run_step

if TYPE_CHECKING:
    from .runtime import Context

# Spark, MLflow and the steps' code are imported by the commands that use them, so that
# `--help`, `steps` and a typo answer at once.

# `run monitor` exit codes, for schedulers that branch on them (0 means ok)
MONITOR_EXIT_CODES = {"warn": 10, "alert": 11}

HELP = (
    "Run the ML pipeline (data, features, train, validate, deploy, inference, monitor, retrain) "
    "locally or on Databricks. Start with `run all`; `steps` lists the steps."
)
# plain click help: no `<bool>`-style type column next to every option
app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None)
console = Console(stderr=True)


def _known_step(name: str) -> str:
    """A step name, or `all`; a typo gets the closest names as a suggestion."""
    known = [*STEPS, "all"]
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=2)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise typer.BadParameter(f"unknown step '{name}'.{hint} Steps: {', '.join(known)}.")


EnvOption = Annotated[str, typer.Option("--env", "-e", help="Environment: a file conf/<env>.yml.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config key for this run, e.g. --set data.seed=7."),
]


@app.command()
def run(
    step: Annotated[
        str,
        typer.Argument(
            help="A step (see `steps`), or `all` for the whole pipeline.",
            callback=_known_step,
            metavar="STEP",
        ),
    ],
    env: EnvOption = "local",
    set_: SetOption = None,
) -> None:
    """Run one step of the pipeline, or all of them in order."""
    with _errors_reported():
        ctx, startup = _context(env, set_ or [])
        names = plan_all(ctx) if step == "all" else [step]
        results = [_run_with_progress(name, ctx) for name in names]
        _print_summary(env, startup, results)
    status = results[-1].summary.get("status") if step == "monitor" else None
    if status in MONITOR_EXIT_CODES:
        raise typer.Exit(MONITOR_EXIT_CODES[status])


@app.command()
def generate(
    env: EnvOption = "local",
    transactions: Annotated[int | None, typer.Option(min=1, help="Number of transactions.")] = None,
    customers: Annotated[int | None, typer.Option(min=1, help="Number of customers.")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Random seed.")] = None,
    set_: SetOption = None,
) -> None:
    """(Re)generate the synthetic raw history, optionally larger or re-seeded."""
    from .data.pipeline import generate_raw_data

    sizes = {"n_transactions": transactions, "n_customers": customers, "seed": seed}
    pairs = [*(set_ or []), *(f"data.{k}={v}" for k, v in sizes.items() if v is not None)]
    with _errors_reported():
        ctx, startup = _context(env, pairs)
        _run_timed("data", startup, lambda: generate_raw_data(ctx), env)


@app.command("generate-batch")
def generate_batch(
    env: EnvOption = "local",
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="Days of new transactions after the newest.")
    ] = 7,
    amount_scale: Annotated[
        float, typer.Option(min=0.01, max=100, help="Drift: multiply every amount.")
    ] = 1.0,
    foreign_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Drift: share of payments abroad.")
    ] = 0.06,
    night_rate: Annotated[
        float | None, typer.Option(min=0, max=1, help="Drift: share at night.")
    ] = None,
    # a share of fraud of exactly 0 or 1 leaves nothing to learn or to monitor
    fraud_rate: Annotated[
        float | None, typer.Option(min=0.0001, max=0.9999, help="Drift: share of fraud.")
    ] = None,
    concept_shift: Annotated[bool, typer.Option(help="Drift: fraud changes pattern.")] = False,
    labels: Annotated[
        bool, typer.Option(help="Add the labels now, or later with --labels-for.")
    ] = True,
    labels_for: Annotated[
        datetime | None,
        typer.Option(
            metavar="DATE",
            formats=["%Y-%m-%d"],
            help="Only add the labels of the batch that ended on DATE (YYYY-MM-DD), made "
            "earlier with --no-labels and the same --days and drift options.",
        ),
    ] = None,
    set_: SetOption = None,
) -> None:
    """Append a new batch of transactions, optionally drifted, to score and monitor."""
    from .data.generator import Drift
    from .data.pipeline import append_batch

    drift = Drift(
        amount_scale=amount_scale,
        foreign_rate=foreign_rate,
        night_rate=night_rate,
        fraud_rate=fraud_rate,
        concept_shift=concept_shift,
    )
    late_labels = {"labels_only": True, "end_date": labels_for.date()} if labels_for else {}
    with _errors_reported():
        ctx, startup = _context(env, set_ or [])
        _run_timed(
            "batch",
            startup,
            lambda: append_batch(ctx, days, drift, with_labels=labels, **late_labels),
            env,
        )


@app.command()
def serve(
    env: EnvOption = "local",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 5001,
    set_: SetOption = None,
    log_requests: Annotated[
        bool, typer.Option(help="Write each request to the inference log (a Delta table).")
    ] = True,
) -> None:
    """Serve `@champion` (and `@challenger`: deployment.traffic) over REST on 127.0.0.1 until
    Ctrl-C."""
    from .inference.server import serve as serve_forever

    def announce(line: str) -> None:
        console.print(
            f"[green]{line}[/] (Ctrl-C stops it). Try:\n"
            f"  curl -s http://127.0.0.1:{port}/invocations "
            "-H 'Content-Type: application/json' -d @docs/example-request.json"
        )

    with _errors_reported():
        _setup_logging()
        config = load_checked_config(env, parse_overrides(set_ or []))
        serve_forever(config, port, announce, logged=log_requests)


@app.command()
def steps() -> None:
    """List the pipeline steps in the order `run all` runs them."""
    for step in STEPS.values():
        console.print(f"[bold]{step.name:<10}[/] {step.description}")


def main() -> None:
    app()


def _context(env: str, pairs: list[str]) -> tuple[Context, float]:
    from .runtime import build_context

    _setup_logging()
    config = load_checked_config(env, parse_overrides(pairs))
    started = time.perf_counter()
    with console.status(f"starting the [bold]{config.runtime.kind}[/] runtime ({env})"):
        ctx = build_context(config)
    return ctx, time.perf_counter() - started


def _run_timed(name: str, startup: float, work, env: str) -> None:
    started = time.perf_counter()
    with console.status(f"[bold]{name}[/] running"):
        summary = work()
    _print_summary(env, startup, [StepResult(name, time.perf_counter() - started, summary)])


def _run_with_progress(name: str, ctx: Context) -> StepResult:
    with console.status(f"[bold]{name}[/] running: {STEPS[name].description}"):
        result = run_step(name, ctx)
    console.print(f"[green]✓[/] {name} ({result.seconds:.1f}s)")
    return result


def _print_summary(env: str, startup: float, results: list[StepResult]) -> None:
    table = Table(title=f"Pipeline summary ({env})", title_justify="left")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("result")
    table.add_row("runtime start", f"{startup:.1f}", "Spark session and adapters")
    for result in results:
        details = ", ".join(f"{k}: {v}" for k, v in result.summary.items())
        table.add_row(result.step, f"{result.seconds:.1f}", details)
    total = startup + sum(r.seconds for r in results)
    table.add_row("[bold]total", f"[bold]{total:.1f}", "")
    Console().print(table)


@contextmanager
def _errors_reported() -> Iterator[None]:
    """Print a PipelineError as one clear message and exit with its code; no traceback."""
    try:
        yield
    except PipelineError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)  # one line
        raise typer.Exit(exc.exit_code) from None


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    for noisy in ("py4j", "alembic", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.ERROR)  # its hints are for library authors
    warnings.filterwarnings("ignore", message="Hint: Inferred schema", category=UserWarning)
