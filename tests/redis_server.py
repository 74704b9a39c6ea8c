"""A real ``redis-server`` for the tests, started once per test session.

``./dev test`` installs the Debian package when it is missing. Where it still cannot be
found, the Redis tests are skipped with that reason (visible in pytest's summary);
``GUARDWIRE_REDIS_URL`` points the tests at a running server instead.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

from tests.serve_child import free_port

_server: tuple[subprocess.Popen[bytes] | None, str] | None = None
SKIP_REASON = (
    "redis-server is not installed and could not be (./dev test installs the Debian"
    " package 'redis-server'); the Redis store tests did not run"
)


def server_url() -> str:
    """``redis://127.0.0.1:PORT/0`` of the session's server; skips the test without one."""
    global _server
    if _server is None:
        _server = _start()
    return _server[1]


def fresh_url() -> str:
    """A URL with a key prefix of its own: fresh data for one test."""
    return f"{server_url()}?prefix=t{uuid.uuid4().hex[:12]}:"


def _start() -> tuple[subprocess.Popen[bytes] | None, str]:
    given = os.environ.get("GUARDWIRE_REDIS_URL")
    if given:
        return None, given
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if binary is None:
        pytest.skip(SKIP_REASON)
    port = free_port()
    directory = tempfile.mkdtemp(prefix="guardwire-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", directory, "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    atexit.register(_stop, process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    _stop(process)
    pytest.fail("redis-server started but did not answer within 10 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
