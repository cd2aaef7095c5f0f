"""The real Databricks CLI and its fake workspace, built from one pinned Go module and cached.

`tests/workspace/go.mod` pins `github.com/databricks/cli`: the single source of truth of the CLI
version (copier.yml's hidden `databricks_cli_version`, which the generated CI installs, is checked
against it by tests/test_cli_version.py). Both binaries are built with `go build` from the Go
module proxy into a cache folder keyed by the module's files, so a second run builds nothing.

    uv run python tests/checks/databricks_cli.py     # build (or find) both, print their paths

A fake workspace is the CLI's own `libs/testserver` (what its acceptance tests deploy to), served
on 127.0.0.1 by tests/workspace/main.go; it logs every request it receives as JSON Lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODULE = Path(__file__).resolve().parents[1] / "workspace"
CLI_MODULE = "github.com/databricks/cli"
BUILD_TIMEOUT = 900  # a cold module cache downloads and compiles the CLI: ~2 min on 2 cores
START_TIMEOUT = 20
# The fake workspace's identities by token: a person, or (tests/workspace/main.go) the service
# principal whose application ID follows the prefix as 32 hex digits.
USER_TOKEN_PREFIX = "dbapi0"
SP_TOKEN_PREFIX = "dbapi1"


class CliBuildError(RuntimeError):
    pass


def pinned_version() -> str:
    """The CLI version required by tests/workspace/go.mod, without the leading `v`."""
    match = re.search(
        rf"^\s*(?:require\s+)?{re.escape(CLI_MODULE)}\s+v(\S+)",
        (MODULE / "go.mod").read_text(),
        re.M,
    )
    if not match:
        raise CliBuildError(f"tests/workspace/go.mod does not require {CLI_MODULE}")
    return match.group(1)


@dataclass(frozen=True)
class Binaries:
    databricks: Path
    fake_workspace: Path
    version: str


def cache_root() -> Path:
    """Where the binaries are kept: $MLOPS_TEMPLATE_CLI_CACHE, else the user's cache folder."""
    if os.environ.get("MLOPS_TEMPLATE_CLI_CACHE"):
        return Path(os.environ["MLOPS_TEMPLATE_CLI_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlops-template" / "databricks-cli"


def build() -> Binaries:
    """Both binaries, built once per content of the Go module (go.mod, go.sum, main.go)."""
    version = pinned_version()
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((MODULE / name).read_bytes())
    folder = cache_root() / f"{version}-{digest.hexdigest()[:12]}"
    binaries = Binaries(folder / "databricks", folder / "fakeworkspace", version)
    if binaries.databricks.is_file() and binaries.fake_workspace.is_file():
        return binaries
    go = shutil.which("go")
    if go is None:
        raise CliBuildError(
            "Go is not on PATH: install Go 1.26 (https://go.dev/dl/) to build the Databricks CLI "
            "of the bundle tier, or deselect that tier with -m 'not cli'"
        )
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    # the release builds' version stamp, so `databricks --version` and the bundle's
    # databricks_cli_version constraint see the pinned version, not 0.0.0-dev
    ldflags = f"-X {CLI_MODULE}/internal/build.buildVersion={version}"
    for output, package in (("databricks", CLI_MODULE), ("fakeworkspace", ".")):
        command = [go, "build", "-mod=readonly", "-trimpath", "-ldflags", ldflags,
                   "-o", str(partial / output), package]  # fmt: skip
        result = subprocess.run(
            command, cwd=MODULE, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
        )
        if result.returncode != 0:
            raise CliBuildError(f"`{' '.join(command)}` failed in {MODULE}:\n{result.stderr}")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return binaries


@dataclass
class Workspace:
    """A running fake workspace: its URL and the requests it has received so far."""

    url: str
    log: Path

    def requests(self) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [json.loads(line) for line in lines]


@contextmanager
def fake_workspace(binaries: Binaries, log: Path) -> Iterator[Workspace]:
    """Serve a fresh fake workspace on 127.0.0.1 for the `with` block; always stopped after."""
    process = subprocess.Popen(
        [str(binaries.fake_workspace), "-log", str(log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = _first_line(process, START_TIMEOUT)
        if not url.startswith("http://127.0.0.1:"):
            raise CliBuildError(f"the fake workspace did not start (printed {url!r})")
        yield Workspace(url, log)
    finally:
        process.stdin.close()  # the server stops when its stdin closes ...
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # ... or is killed
            process.kill()
            process.wait()
        process.stdout.close()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.2):
                return process.stdout.readline().strip()
            if process.poll() is not None:
                return f"<exited with {process.returncode}>"
    return "<no URL within the start timeout>"


def cli_env(token: str, home: Path, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of a CLI run against a fake workspace: `base` without any Databricks
    setting, its own HOME (no profile of the user's ~/.databrickscfg) but the user's caches (uv
    builds the wheel), a token that names the identity, no telemetry, no update check."""
    env = {name: value for name, value in base.items() if not name.startswith("DATABRICKS_")}
    real_home = Path(base.get("HOME") or Path.home())
    env.setdefault("XDG_CACHE_HOME", str(real_home / ".cache"))
    env.setdefault("XDG_DATA_HOME", str(real_home / ".local" / "share"))
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        DATABRICKS_TOKEN=token,
        DATABRICKS_CLI_DISABLE_TELEMETRY="1",
        DATABRICKS_CLI_DO_NOT_UPDATE_CHECK="1",
    )
    return env


def run_cli(
    binaries: Binaries,
    args: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    """Run `databricks <args>`; the caller decides what its exit code means."""
    return subprocess.run(
        [str(binaries.databricks), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


if __name__ == "__main__":
    started = time.monotonic()
    try:
        built = build()
    except CliBuildError as exc:
        sys.exit(str(exc))
    print(f"databricks CLI {built.version}: {built.databricks}")
    print(f"fake workspace: {built.fake_workspace}")
    print(f"ready in {time.monotonic() - started:.1f} s")
