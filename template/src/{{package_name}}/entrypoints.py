"""One entry point per step, for Databricks wheel tasks: `<script> --env staging`.

They call the same steps as the CLI, so a job runs exactly what runs on a laptop.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .config import parse_overrides
from .errors import PipelineError
from .pipelines import load_checked_config, run_step
from .runtime import build_context


def _entry(step: str) -> None:
    parser = argparse.ArgumentParser(prog=step, description=f"Run the `{step}` step.")
    parser.add_argument("--env", default="local")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = load_checked_config(args.env, parse_overrides(args.overrides))
        ctx = build_context(config)
        result = run_step(step, ctx)
    except PipelineError as exc:
        logging.error("%s", exc)
        sys.exit(exc.exit_code)
    logging.info("%s done in %.1fs: %s", step, result.seconds, result.summary)


def data() -> None:
    _entry("data")


def features() -> None:
    _entry("features")


def train() -> None:
    _entry("train")


def tune() -> None:
    _entry("tune")


def validate() -> None:
    _entry("validate")


def deploy() -> None:
    _entry("deploy")


def promote() -> None:
    _entry("promote")


def rollback() -> None:
    _entry("rollback")


def card() -> None:
    _entry("card")


def inference() -> None:
    _entry("inference")


def stream() -> None:
    _entry("stream")


def check() -> None:
    _entry("check")


def monitor() -> None:
    _entry("monitor")


def retrain() -> None:
    _entry("retrain")
