"""Proxy processes for the budget tests: ``guardwire serve`` as a child process, with
``--workers N`` or several replicas on one store (SQLite file or Redis)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.serve_child import free_port, wait_until_serving

POLICY = """\
name: budgets
budgets:
  - name: team-daily
    scope: tenant
    window: day
    limit_usd: {limit}
"""


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
            port = free_port()
            command = [sys.executable, "-c", "from guard.cli import main; raise SystemExit(main())",
                       "serve", "--config", str(config), "--port", str(port),
                       "--workers", str(workers)]  # fmt: skip
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            started.append((process, f"http://127.0.0.1:{port}"))
        for process, url in started:
            wait_until_serving(process, url, path="/readyz")
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
