"""A transport call cut by closing its client is outcome ``shutdown``, as in the proxy.

The proxy counts a call its shutdown cuts as ``shutdown`` (a 503 ``shutting_down``). The
transport showed a client closed mid-call only as a failed upstream read: counted as
``upstream_error`` (what an error-rate alert fires on) and raised as a connection error.
Now, sync and async, complete and streamed: counted and audited as ``shutdown``, and the
SDK reads the API's 503 ``shutting_down`` (a stream's error event) and does not retry.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.audit.log import AuditLog
from tests.fake_upstream import FakeUpstream, Script

PROMPT: Any = [{"role": "user", "content": "hi"}]


@pytest.fixture
def slow_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream("word " * 40) as upstream:
        yield upstream


def _outcomes(registry: CollectorRegistry) -> dict[str, float]:
    return {
        sample.labels["outcome"]: sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "guardwire_calls_total"
    }


def _script(stream: bool) -> Script:
    # A stream of 40 x 0.1 s, or a complete reply after 3 s: the close comes first.
    return Script(chunk_size=5, stream_delay=0.1) if stream else Script(delay=3)


def _until_sent(upstream: FakeUpstream) -> None:
    deadline = time.monotonic() + 5
    while not upstream.requests:
        assert time.monotonic() < deadline, "the call never reached the upstream"
        time.sleep(0.01)


def _check(error: BaseException | None, stream: bool, registry: CollectorRegistry,
           lines: list[str], upstream: FakeUpstream) -> None:  # fmt: skip
    assert isinstance(error, openai.APIError), repr(error)
    assert not isinstance(error, openai.APIConnectionError), repr(error)
    assert "client was closed" in str(error)
    if not stream:
        assert isinstance(error, openai.APIStatusError) and error.status_code == 503
        assert error.response.headers["x-should-retry"] == "false"
        assert error.body["code"] == "shutting_down"  # type: ignore[index]
    assert _outcomes(registry) == {"shutdown": 1.0}
    (line,) = [json.loads(line) for line in lines]
    assert line["outcome"] == "shutdown" and line["frontend"] == "transport"
    assert len(upstream.requests) == 1  # max_retries=2, and not retried


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_closing_the_sync_client_mid_call_is_a_shutdown(
    slow_upstream: FakeUpstream, stream: bool
) -> None:
    registry, lines = CollectorRegistry(), []
    engine = guard.Guard(registry=registry, audit=AuditLog(lines.append))
    client = openai.OpenAI(
        base_url=slow_upstream.url + "/v1", api_key="k", max_retries=2,
        http_client=httpx.Client(transport=engine.transport()),
    )  # fmt: skip
    slow_upstream.enqueue(_script(stream))
    result: dict[str, BaseException] = {}

    def ask() -> None:
        try:
            reply = client.chat.completions.create(model="m", messages=PROMPT, stream=stream)
            for _ in reply if stream else ():
                pass
        except Exception as exc:  # checked below
            result["error"] = exc

    reader = threading.Thread(target=ask)
    reader.start()
    _until_sent(slow_upstream)
    time.sleep(0.2)  # a stream is under way
    client.close()
    reader.join(10)
    _check(result.get("error"), stream, registry, lines, slow_upstream)


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_closing_the_async_client_mid_call_is_a_shutdown(
    slow_upstream: FakeUpstream, stream: bool
) -> None:
    registry, lines = CollectorRegistry(), []
    engine = guard.Guard(registry=registry, audit=AuditLog(lines.append))

    async def run() -> BaseException | None:
        client = openai.AsyncOpenAI(
            base_url=slow_upstream.url + "/v1", api_key="k", max_retries=2,
            http_client=httpx.AsyncClient(transport=engine.async_transport()),
        )  # fmt: skip

        async def ask() -> None:
            reply = await client.chat.completions.create(model="m", messages=PROMPT, stream=stream)
            if stream:
                async for _ in reply:  # type: ignore[union-attr]
                    pass

        task = asyncio.ensure_future(ask())
        while not slow_upstream.requests:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        await client.close()
        try:
            await asyncio.wait_for(task, 10)
        except Exception as exc:  # checked below
            return exc
        return None

    slow_upstream.enqueue(_script(stream))
    error = asyncio.run(run())
    _check(error, stream, registry, lines, slow_upstream)
