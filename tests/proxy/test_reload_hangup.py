"""A SIGHUP is never lost, however early it comes (issue 22, hot reload).

A worker that has loaded its policy files but not yet installed its SIGHUP handler used
to miss a SIGHUP: the supervisor skipped it (its handler was not in place, and the
default action would have ended it), and with ``--workers 1`` the serving process's
start-up handler only logged it. With ``reload_interval: 0`` such a worker served the
old policy until the next SIGHUP. An operator who deploys a policy and sends SIGHUP
must be able to rely on every worker applying it.

Each case starts a real ``guardwire serve`` whose workers pause between loading their
files and installing their handler (tests/proxy/held_serve.py), changes the policy,
sends SIGHUP to the serving process, waits until the signal waits in every paused
worker (or until the supervisor has shown what it did with it), then releases them.
About 2-4 s each: worker processes start for real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from guard.policy import Policy
from tests.proxy.test_reload_under_load import POLICY, _write
from tests.serve_child import free_port

HELD_SERVE = Path(__file__).with_name("held_serve.py")


def _wait(condition: str, predicate: Callable[[], bool], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}: {log.read_text()[-2000:]}")
        time.sleep(0.02)


def _hangup_pending(pid: int) -> bool:
    """True when SIGHUP waits, blocked, to be delivered to process ``pid``."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    pending = 0
    for line in status.splitlines():
        if line.startswith(("SigPnd:", "ShdPnd:")):
            pending |= int(line.split()[1], 16)
    return bool(pending & (1 << (signal.SIGHUP - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("workers", [1, 2])
def test_a_sighup_while_a_worker_starts_is_applied_once_it_has_started(
    tmp_path: Path, workers: int
) -> None:
    policy = tmp_path / "live.yaml"
    config = tmp_path / "guardwire.yaml"
    _write(policy, POLICY.format(word="alpha"))
    _write(config, f"policy: {policy}\nreload_interval: 0\nlog_level: info\n")
    beta = f"live@{Policy.from_yaml(POLICY.format(word='beta'), str(policy)).hash}"
    held = tmp_path / "held"
    held.mkdir()
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDWIRE_")}
    env["HELD_SERVE_DIR"] = str(held)
    command = [sys.executable, str(HELD_SERVE), "serve", "--config", str(config)]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--workers", str(workers)], stderr=log, env=env
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # Every worker has loaded alpha and waits before installing its handler.
        _wait(
            "the workers to load their files",
            lambda: len(list(held.iterdir())) == workers,
            log_path,
        )
        pids = [int(marker.name.removeprefix("held-")) for marker in held.iterdir()]
        _write(policy, POLICY.format(word="beta"))
        process.send_signal(signal.SIGHUP)
        if workers > 1:  # the supervisor passes the signal on within its 0.5 s loop
            _wait("the supervisor", lambda: "received SIGHUP" in log_path.read_text(), log_path)
        # The signal waits in each worker until its handler is in place (before the fix
        # it was dropped: logged while starting, or not forwarded to a starting worker).
        _wait(
            "SIGHUP to wait in every worker", lambda: all(map(_hangup_pending, pids)), log_path, 3
        )
        (held / "release").touch()
        _wait("the server", lambda: _healthy(url), log_path)
        # Only a SIGHUP can move a worker to beta here (no polling).
        _wait(
            f"every worker to reload ({workers})",
            lambda: log_path.read_text().count(f"policies reloaded (SIGHUP): {beta}") >= workers,
            log_path,
            timeout=10,
        )
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            for _ in range(10):
                response = client.post(
                    url + "/v1/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": "beta"}]},
                )
                assert (response.status_code, response.headers["x-guardwire-policy"]) == (
                    400,
                    beta,
                )
        assert process.poll() is None, "the server died"
    finally:
        (held / "release").touch()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _hangup_blocked_here() -> bool:
    return signal.SIGHUP in signal.pthread_sigmask(signal.SIG_BLOCK, [])


@pytest.mark.parametrize("method", ["init_processes", "keep_subprocess_alive", "handle_ttin"])
def test_the_supervisor_starts_every_worker_with_sighup_held(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """Workers started at start-up, restarted after dying (keep_subprocess_alive) or
    added (SIGTTIN) inherit the mask of the thread that starts them."""
    from uvicorn.supervisors.multiprocess import Multiprocess

    from guard.proxy._supervisor import reloading_supervisor

    seen: list[bool] = []
    monkeypatch.setattr(Multiprocess, method, lambda self: seen.append(_hangup_blocked_here()))
    supervisor = object.__new__(reloading_supervisor())
    assert not _hangup_blocked_here()
    getattr(supervisor, method)()
    assert seen == [True]
    assert not _hangup_blocked_here()  # the supervisor itself takes SIGHUP again


def test_serve_that_fails_to_start_leaves_sighup_as_it_was(tmp_path: Path) -> None:
    from guard.cli import main

    config = tmp_path / "guardwire.yaml"
    config.write_text("policy: [not, a, string]\n", encoding="utf-8")
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    assert not _hangup_blocked_here()
