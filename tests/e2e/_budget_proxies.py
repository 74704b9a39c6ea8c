"""Proxy processes for the budget tests: ``guardwire serve`` as a child process, with
``--workers N`` or several replicas on one store (SQLite file or Redis)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

#: Seconds a proxy may take to become ready.
STARTUP_SECONDS = 120

POLICY = """\
name: budgets
budgets:
  - name: team-daily
    scope: tenant
    window: day
    limit_usd: {limit}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(tmp: Path, upstream: str, store: str, limit_usd: float) -> Path:
    """A server config with a tenant budget of ``limit_usd`` on ``store``."""
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY.format(limit=limit_usd))
    config = tmp / "guardwire.yaml"
    config.write_text(
        f"policy: {policy}\nstore: '{store}'\nupstreams:\n  default:\n    url: {upstream}\n"
        "keys:\n  - key: sk-team-a\n    tenant: team-a\nlog_level: warning\n"
    )
    return config


@contextmanager
def proxies(config: Path, *, replicas: int = 1, workers: int = 1) -> Iterator[list[str]]:
    """Start ``replicas`` proxy processes (each with ``workers``); yield their URLs."""
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    try:
        for _ in range(replicas):
            port = _free_port()
            command = [sys.executable, "-c", "from guard.cli import main; raise SystemExit(main())",
                       "serve", "--config", str(config), "--port", str(port),
                       "--workers", str(workers)]  # fmt: skip
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            started.append((process, f"http://127.0.0.1:{port}"))
        for process, url in started:
            _wait_ready(process, url)
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
            if process.stderr is not None:
                process.stderr.close()


def _wait_ready(process: subprocess.Popen[bytes], url: str) -> None:
    # Generous: a proxy starting on a loaded 2-core machine took 18-22 s, and over 30 s
    # with the CPU starved. A broken proxy exits at once (the poll below).
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"the proxy exited at start-up: {error[-2000:]}")
        with suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the proxy did not become ready within {STARTUP_SECONDS} s")
