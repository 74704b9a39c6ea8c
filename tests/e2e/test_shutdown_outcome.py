"""A stream the proxy ends because it is shutting down (its ``shutdown_timeout`` passed
with the stream still running) is counted as outcome ``shutdown``, not ``error``: a
deploy is not guardwire failing, and an error-rate alert must not fire on every restart.
It is still settled from what streamed, as before.
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


def test_a_stream_cut_by_the_shutdown_is_counted_as_shutdown(slow_upstream: FakeUpstream) -> None:
    config = load_config(
        None, env={}, overrides={"upstream": slow_upstream.url, "store": "memory://"}
    )
    server = ProxyServer(ProxyApp(config, registry=CollectorRegistry()))
    # The drain uvicorn gives in-flight calls (the config's shutdown_timeout, short here).
    server._server.config.timeout_graceful_shutdown = 0.2
    server.start()
    registry = server.app.telemetry.registry
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    slow_upstream.enqueue(Script(chunk_size=5, stream_delay=0.1))  # 40 x 0.1 s: 4 s
    result: dict[str, object] = {}

    def stream() -> None:
        try:
            chunks = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            for _ in chunks:
                pass
        except Exception as exc:  # the assertion below names it
            result["error"] = exc

    reader = threading.Thread(target=stream)
    reader.start()
    deadline = time.monotonic() + 5
    while not slow_upstream.requests:
        assert time.monotonic() < deadline, "the stream never reached the upstream"
        time.sleep(0.01)
    server.stop()
    reader.join(10)
    assert "shutting down" in str(result.get("error")), result
    outcomes = {
        sample.labels["outcome"]: sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "guardwire_calls_total"
    }
    assert outcomes == {"shutdown": 1.0}
