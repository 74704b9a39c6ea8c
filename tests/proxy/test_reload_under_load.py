"""Reload under load (issue 22, "Checked by"): a real ``guardwire serve`` answers a
continuous stream of requests while its policy file goes valid → other valid → broken →
valid. No request fails, every answer is wholly the old or the new policy (its verdict
matches the policy version named in its ``x-guardwire-policy`` header), and the broken
file never takes effect.

Each case starts a server (1-3 s, two processes for ``--workers 2``) and waits for the
reloads to reach every worker: about 3-6 s, the price of testing the real thing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from guard.policy import Policy
from tests.serve_child import free_port, wait_until_serving

POLICY = """\
name: live
input:
  - check: rules
    name: words
    rules: [{{name: w, keywords: [{word}], action: block}}]
"""
WORDS = ("alpha", "beta", "gamma")


def _write(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class Traffic:
    """Requests sent one after another from a thread, every answer recorded."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[str, int, str]] = []  # (word sent, status, policy tag)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # A new connection per request: with several workers, each one answers some.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(timeout=10, limits=limits) as client:
            number = 0
            while not self._stop.is_set():
                word = WORDS[number % len(WORDS)]
                number += 1
                try:
                    response = client.post(
                        self.url + "/v1/chat/completions",
                        json={"model": "m", "messages": [{"role": "user", "content": word}]},
                    )
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                    continue
                tag = response.headers.get("x-guardwire-policy", "")
                self.answers.append((word, response.status_code, tag))

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def wait_for(self, tag: str, in_a_row: int = 20, timeout: float = 10.0) -> None:
        """Until ``in_a_row`` consecutive answers come from ``tag`` (every worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recent = self.answers[-in_a_row:]
            if len(recent) == in_a_row and all(answer[2] == tag for answer in recent):
                return
            time.sleep(0.05)
        raise AssertionError(f"{tag} never served alone; last tags {self.answers[-5:]}")


@pytest.mark.parametrize(("workers", "trigger"), [(1, "poll"), (2, "sighup")])
def test_no_request_fails_and_none_sees_a_half_or_broken_policy(
    tmp_path: Path, workers: int, trigger: str
) -> None:
    policy = tmp_path / "live.yaml"
    config = tmp_path / "guardwire.yaml"
    _write(policy, POLICY.format(word="alpha"))
    interval = 0.2 if trigger == "poll" else 0
    _write(config, f"policy: {policy}\nreload_interval: {interval}\nlog_level: info\n")
    tags = {}
    for word in WORDS:
        tags[word] = f"live@{Policy.from_yaml(POLICY.format(word=word), str(policy)).hash}"
    port = free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDWIRE_")}
    command = [sys.executable, "-m", "guard.cli", "serve", "--config", str(config)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)], stderr=log, env=env
    )
    url = f"http://127.0.0.1:{port}"
    reason = "SIGHUP" if trigger == "sighup" else "file change"
    outcomes = {
        "reloaded": f"policies reloaded ({reason})",
        "failed": f"policy reload ({reason}) failed",
    }

    def change(text: str, outcome: str) -> None:
        # Each worker logs each reload it tried: waiting for those lines (not for a
        # while) is waiting until every worker has acted on the change.
        started = _workers(log_path)
        before = log_path.read_text().count(outcomes[outcome])
        _write(policy, text)
        if trigger == "sighup":
            # Every worker the supervisor has started gets it, even one still starting.
            process.send_signal(signal.SIGHUP)
        _wait_for_each_worker(log_path, outcomes[outcome], before, started)

    try:
        # A loaded machine starts two workers slowly; the log says why one never did.
        wait_until_serving(process, url, output=lambda: _server_lines(log_path))
        _wait_for_workers(log_path, workers)
        with Traffic(url) as traffic:
            traffic.wait_for(tags["alpha"])
            change(POLICY.format(word="beta"), "reloaded")
            traffic.wait_for(tags["beta"])
            change("name: live\ninput:\n  - check: nosuchcheck\n", "failed")
            change(POLICY.format(word="gamma"), "reloaded")
            traffic.wait_for(tags["gamma"])
        assert process.poll() is None, "the server died"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    server_log = log_path.read_text()
    log_text = _server_lines(log_path)
    assert traffic.failures == [], log_text
    assert len(traffic.answers) > 60
    for word, status, tag in traffic.answers:
        assert tag in tags.values(), f"a policy version that was never valid: {tag}"
        policy_word = next(w for w, t in tags.items() if t == tag)
        # The verdict is the one of the version the header names: wholly old or new.
        assert status == (400 if word == policy_word else 200), (word, status, tag)
    if _replaced(server_log):
        return  # a replacement worker read the files at its start instead of reloading
    # Each worker tried each change exactly once: the broken file once, refused.
    assert server_log.count(f"policies reloaded ({reason})") == 2 * workers, log_text
    assert server_log.count("keeping the running policies") == workers, log_text
    if trigger == "sighup":
        assert server_log.count("reloading policies in 2 worker processes") == 3, log_text
    assert "nosuchcheck" not in server_log.split("keeping the running policies")[0][-200:]


# uvicorn logs "Started server process [pid]" once a worker has built the app (so its
# SIGHUP handler is in place), and "Child process [pid] died" when its supervisor ended
# a worker that did not answer a health ping in time (a loaded machine) and started a
# replacement, which reads the policy files as they are then.
_STARTED = re.compile(r"Started server process \[(\d+)\]")
_DIED = re.compile(r"Child process \[(\d+)\] died")


def _replaced(text: str) -> set[str]:
    return set(_DIED.findall(text))


def _workers(log_path: Path) -> set[str]:
    """The worker processes serving now (started, not replaced)."""
    text = log_path.read_text()
    return set(_STARTED.findall(text)) - _replaced(text)


def _wait_for_workers(log_path: Path, workers: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(_workers(log_path)) < workers:
        if time.monotonic() > deadline:
            raise AssertionError(f"{workers} workers never started: {_server_lines(log_path)}")
        time.sleep(0.05)


def _wait_for_each_worker(
    log_path: Path, line: str, before: int, workers: set[str], timeout: float = 15.0
) -> None:
    """Until ``line`` was logged once more by each of ``workers`` still serving."""
    deadline = time.monotonic() + timeout
    while True:
        text = log_path.read_text()
        if text.count(line) - before >= len(workers - _replaced(text)):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{line!r} not logged by {workers}: {_server_lines(log_path)}")
        time.sleep(0.02)


def _server_lines(log_path: Path) -> str:
    """The log without the access lines (what the supervisor and the workers did)."""
    lines = log_path.read_text().splitlines()
    return "\n".join(line for line in lines if "guardwire.access" not in line)[-3000:]
