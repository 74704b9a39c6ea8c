"""A big reply's output checks run off the event loop: a small call beside it is served.

The input stage already moves text checks on a big input (``OFF_LOOP_CHARS``) to a
worker thread. These tests hold the same for the output stage: a complete reply, the
whole-reply checks at a progressive stream's end, a buffered stream, the async
transport and the check endpoint. The output check here is a gate: on a big reply it
waits (at most ``_PATIENCE``) for a small call to finish. On the event loop it would
stall that call and time out; off the loop it sees the small call finish first. The
tests assert that order, not a wall-clock limit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import guard
from guard.checks.base import CheckContext
from guard.policy import Policy
from guard.stages import OFF_LOOP_CHARS
from guard.types import Action, Call, Reply, Verdict
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

#: How long the gate waits for the small call: far longer than a small call takes
#: beside a worker thread, and the time a failing test loses.
_PATIENCE = 2.0
_BIG = "The quarterly report lists revenue by region. " * (OFF_LOOP_CHARS // 40)


class Gate:
    """A whole-reply output check that, on a big reply, waits for :attr:`other_done`."""

    name = "gate"
    shadow = False

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.other_done = threading.Event()
        self.saw_other: bool | None = None

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        if sum(len(segment.text) for segment in ctx.segments) >= OFF_LOOP_CHARS:
            self.entered.set()
            self.saw_other = self.other_done.wait(_PATIENCE)
        return Verdict(self.name, Action.ALLOW)


Gated = Callable[[str], tuple[ProxyServer, FakeUpstream, Gate]]


@pytest.fixture
def gated(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> Gated:
    """A proxy with a stream mode, its upstream, and a gate among its output checks."""

    def start(stream_mode: str) -> tuple[ProxyServer, FakeUpstream, Gate]:
        policy = tmp_path / f"{stream_mode}.yaml"
        policy.write_text(f"name: gated\nstream: {{mode: {stream_mode}}}\n")
        proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy))
        gate = Gate()
        proxy.app.policies.default_guard.output_checks.append(gate)
        return proxy, fake_upstream, gate

    return start


def _small_beside_big(
    url: str, big: dict[str, Any], small: dict[str, Any], gate: Gate
) -> httpx.Response:
    """Send ``big``; once its gate is waiting, send ``small`` and tell the gate."""
    big_client, small_client = httpx.Client(timeout=30), httpx.Client(timeout=30)
    with big_client, small_client, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(big_client.post, url, json=big)
        assert gate.entered.wait(10), "the big reply never reached its output checks"
        assert small_client.post(url, json=small).status_code == 200
        gate.other_done.set()
        answer = pending.result()
    assert gate.saw_other is True, "the small call waited for the big reply's checks"
    return answer


def _chat(stream: bool = False) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream}


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("mode", ["progressive", "buffer"])
def test_the_proxy_serves_a_small_call_while_a_big_replys_checks_run(
    gated: Gated, stream: bool, mode: str
) -> None:
    proxy, upstream, gate = gated(mode)
    upstream.enqueue(Script(text=_BIG, chunk_size=4096))
    answer = _small_beside_big(proxy.url + "/v1/chat/completions", _chat(stream), _chat(), gate)
    assert answer.status_code == 200
    if stream:
        assert answer.text.endswith("data: [DONE]\n\n")
    else:
        assert answer.json()["choices"][0]["message"]["content"] == _BIG


def test_the_check_endpoint_checks_a_big_output_off_the_loop(
    gated: Gated,
) -> None:
    proxy, _, gate = gated("progressive")
    url = proxy.url + "/guardwire/v1/check"
    answer = _small_beside_big(url, {"stage": "output", "text": _BIG}, {"text": "hi"}, gate)
    assert answer.json()["action"] == "allow"


def test_the_async_transport_checks_a_big_reply_off_the_loop() -> None:
    engine = guard.Guard(Policy.from_yaml("name: gated\n"))
    gate = Gate()
    engine.output_checks.append(gate)

    def upstream(request: httpx.Request) -> httpx.Response:
        text = _BIG if b"big" in request.content else "ok"
        reply = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": reply, "finish_reason": "stop"}
        body = {"id": "c", "object": "chat.completion", "created": 0, "model": "m"}
        return httpx.Response(200, json={**body, "choices": [choice]})

    def chat(text: str) -> dict[str, Any]:
        return {"model": "m", "messages": [{"role": "user", "content": text}]}

    async def run() -> None:
        transport = engine.async_transport(httpx.MockTransport(upstream))
        async with httpx.AsyncClient(transport=transport, base_url="http://model.test") as client:
            big = asyncio.create_task(client.post("/v1/chat/completions", json=chat("big")))
            while not gate.entered.is_set():
                await asyncio.sleep(0.005)
            small = await client.post("/v1/chat/completions", json=chat("small"))
            assert small.status_code == 200
            gate.other_done.set()
            assert (await big).status_code == 200

    asyncio.run(run())
    assert gate.saw_other is True, "the small call waited for the big reply's checks"
