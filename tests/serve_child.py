"""A ``guardwire serve`` child process for the tests: a free port, and waiting until it
answers (or saying why it never did).

One helper for every test that starts a real serve process (the CLI, metrics across
workers, reload under load, budgets across replicas, SIGHUP at start-up).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress

import httpx

#: Seconds a serve child gets to answer. Generous: serve took 18-22 s to start on a
#: loaded 2-core machine, over 60 s with the CPU starved (two workers importing
#: guardwire and Presidio at once). A broken serve exits at once: that is seen at once.
STARTUP_SECONDS = 120.0


def free_port() -> int:
    """A loopback TCP port no one listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_output(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> str:
    """The end of the child's standard error, when it goes to a pipe (the child has
    ended or is killed first, so the read cannot hang)."""
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stderr is None:
        return ""
    text = process.stderr.read()
    return (text.decode(errors="replace") if isinstance(text, bytes) else text)[-3000:]


def wait_until_serving(
    process: subprocess.Popen[bytes] | subprocess.Popen[str] | None,
    url: str,
    *,
    path: str = "/healthz",
    seconds: float = STARTUP_SECONDS,
    output: Callable[[], str] | None = None,
) -> float:
    """Return the seconds it took until ``url + path`` answered 200. Raise
    AssertionError, with the child's output (``output()``, else its piped standard
    error), when it exits first or does not answer within ``seconds``; a child still
    running then is killed. ``process`` is ``None`` for a server this process did not
    start (one in a container): then only the deadline ends the wait."""
    started = time.monotonic()
    while True:
        with suppress(httpx.TransportError):
            if httpx.get(url + path, timeout=1).status_code == 200:
                return time.monotonic() - started
        if process is not None and process.poll() is not None:
            raise _not_started(f"exited with {process.returncode}", process, output)
        if time.monotonic() - started > seconds:
            raise _not_started(f"no answer in {seconds:g} s", process, output)
        time.sleep(0.05)


def _not_started(
    why: str,
    process: subprocess.Popen[bytes] | subprocess.Popen[str] | None,
    output: Callable[[], str] | None,
) -> AssertionError:
    """The error saying why the server never answered; a child still running is killed."""
    shown = ""
    if output is not None:
        shown = output()
    elif process is not None:
        shown = child_output(process)
    if process is not None and process.poll() is None:
        process.kill()
    return AssertionError(f"guardwire serve did not start ({why}):\n{shown}")
