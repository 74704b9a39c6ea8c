"""A call the proxy ends because it is shutting down (its ``shutdown_timeout`` passed
with the call still running) is counted as outcome ``shutdown``: a stream was counted
``error`` and a complete call ``disconnected`` (with the client still waiting). A deploy
is not guardwire failing, and an error-rate alert must not fire on every restart. Both
are settled as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import openai
import pytest
from prometheus_client import CollectorRegistry

from guard.proxy.app import ProxyApp
from guard.proxy.config import load_config
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script


@pytest.fixture
def slow_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream("word " * 40) as upstream:
        yield upstream


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "complete"])
def test_a_call_cut_by_the_shutdown_is_counted_as_shutdown(
    slow_upstream: FakeUpstream, stream: bool
) -> None:
    config = load_config(
        None, env={}, overrides={"upstream": slow_upstream.url, "store": "memory://"}
    )
    server = ProxyServer(ProxyApp(config, registry=CollectorRegistry()))
    # The drain uvicorn gives in-flight calls (the config's shutdown_timeout, short here).
    server._server.config.timeout_graceful_shutdown = 0.2
    server.start()
    registry = server.app.telemetry.registry
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    # A stream of 40 x 0.1 s, or a complete reply after 3 s: far past the drain.
    slow_upstream.enqueue(Script(chunk_size=5, stream_delay=0.1) if stream else Script(delay=3))
    result: dict[str, object] = {}

    def ask() -> None:
        try:
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=stream
            )
            for _ in reply if stream else ():
                pass
        except Exception as exc:  # the assertion below names it
            result["error"] = exc

    reader = threading.Thread(target=ask)
    reader.start()
    deadline = time.monotonic() + 5
    while not slow_upstream.requests:
        assert time.monotonic() < deadline, "the stream never reached the upstream"
        time.sleep(0.01)
    server.stop()
    reader.join(10)
    assert isinstance(result.get("error"), openai.APIError), result
    if stream:
        assert "shutting down" in str(result["error"]), result
    outcomes = {
        sample.labels["outcome"]: sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "guardwire_calls_total"
    }
    assert outcomes == {"shutdown": 1.0}
