"""SIGTERM with budgeted calls in flight (``guardwire serve`` as a child process, its
budget on SQLite): a complete call that ends within ``shutdown_timeout`` is answered, a
stream that would outlast it ends with the API's error event, a complete call that would
outlast it is answered 503 ``shutting_down`` (retryable); the process exits in bounded
time, and afterwards nothing is left reserved in the store: every call was settled or
released, none holds the budget for its hold time after the process is gone. (About 3 s:
the drain is what it tests.)

Before, the complete call that outlasted the drain was cut: the client saw the connection
drop and the log had uvicorn's "Exception in ASGI application" with a CancelledError
traceback. (The budget side held.)
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard.checks._windows import counter_key, scope_value, window_bounds
from guard.stores import open_store
from tests.fake_upstream import FakeUpstream, Script
from tests.test_cli import _serve

POLICY = """\
name: drained
budgets:
  - {name: daily, scope: global, window: day, limit_usd: 5}
"""
BODY = {"model": "gpt-4o-mini", "max_tokens": 50,
        "messages": [{"role": "user", "content": "hello"}]}  # fmt: skip


def _call(url: str, stream: bool, out: dict[str, Any]) -> None:
    try:
        with httpx.Client(timeout=15) as client:
            body = {**BODY, "stream": stream}
            with client.stream("POST", url + "/v1/chat/completions", json=body) as response:
                out["status"] = response.status_code
                out["body"] = response.read().decode()
    except httpx.HTTPError as exc:
        out["error"] = type(exc).__name__


async def _ledger(store_url: str) -> tuple[int, int]:
    store = open_store(store_url)
    await store.open()
    try:
        window, _ = window_bounds("day", time.time(), None)
        key = counter_key("daily", scope_value(None), window, "usd")
        return await store.get(key), await store.reserved(key)
    finally:
        await store.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_settles_every_budgeted_call_in_flight(tmp_path: Path, workers: int) -> None:
    policy = tmp_path / "drained.yaml"
    policy.write_text(POLICY)
    store_url = f"sqlite://{tmp_path / 'state.db'}"
    with FakeUpstream("word " * 40) as upstream:
        config = tmp_path / "guardwire.yaml"
        config.write_text(
            f"shutdown_timeout: 1\nstore: '{store_url}'\npolicy: {policy}\nworkers: {workers}\n"
            f"upstreams: {{default: {{url: {upstream.url}}}}}\n"
        )
        process, port = _serve("--config", str(config))
        url = f"http://127.0.0.1:{port}"
        scripts = {
            "short": (Script(delay=0.3), False),
            "long stream": (Script(chunk_size=5, stream_delay=0.25), True),
            "long complete": (Script(delay=6), False),
        }
        results: dict[str, dict[str, Any]] = {name: {} for name in scripts}
        threads = []
        for number, (name, (script, stream)) in enumerate(scripts.items()):
            upstream.enqueue(script)
            thread = threading.Thread(target=_call, args=(url, stream, results[name]))
            thread.start()
            threads.append(thread)
            deadline = time.monotonic() + 10
            while len(upstream.requests) <= number:
                assert time.monotonic() < deadline, "the call never reached the upstream"
                time.sleep(0.01)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
        took = time.monotonic() - started
        for thread in threads:
            thread.join(10)
    assert took < 5, f"exit took {took:.1f} s with a 1 s drain"
    assert results["short"].get("status") == 200, results["short"]
    assert "shutting" in results["long stream"].get("body", ""), results["long stream"]
    cut = results["long complete"]
    assert cut.get("status") == 503, cut  # the SDKs retry it (on another replica)
    assert '"code":"shutting_down"' in cut["body"], cut
    spent, reserved = asyncio.run(_ledger(store_url))
    assert reserved == 0, (spent, reserved, results)
    assert spent > 0
    assert "Traceback" not in stderr, stderr
