"""Async whole-reply checks at the end of a progressive stream, and async tool-call
checks as each tool call completes, are awaited on the frontend's own loop (the
proxy's, the async transport's), not run on the helper loop while the proxy's loop
waits; the sync transport keeps the helper loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
import openai
from prometheus_client import CollectorRegistry

import guard
from guard.checks.base import Capabilities, CheckContext, CompleteToolCall
from guard.types import Action, Call, Reply, Verdict
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

MESSAGES: list[dict[str, str]] = [{"role": "user", "content": "hi"}]


class WhereItRan:
    """A whole-reply async output check (and async tool-call check) that notes the
    thread it was awaited on."""

    name, shadow = "where", False
    capabilities = Capabilities(whole_reply=True, may_block=False, tool_calls=True)

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.tool_threads: list[str] = []

    async def tool_call(
        self, call: Call, tool_call: CompleteToolCall, ctx: CheckContext
    ) -> Verdict:
        await asyncio.sleep(0)
        self.tool_threads.append(threading.current_thread().name)
        return Verdict(self.name, Action.ALLOW)

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    async def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        await asyncio.sleep(0)
        self.threads.append(threading.current_thread().name)
        return Verdict(self.name, Action.WARN if "stream" in reply.text else Action.ALLOW)


def streamed_text(client: openai.OpenAI) -> str:
    chunks = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_proxy_awaits_end_of_stream_checks_on_its_own_loop(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = start_proxy(upstream=fake_upstream.url)
    check = WhereItRan()
    proxy.app.guard.add_check("output", check)
    fake_upstream.enqueue(Script(text="a streamed reply", tool_calls=[("search", {"q": "x"})]))
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    assert streamed_text(client) == "a streamed reply"
    assert len(check.threads) == 1 and check.threads[0] != "guardwire-checks"
    assert check.tool_threads == check.threads  # the tool call's check: the same loop


async def test_async_transport_awaits_them_too(fake_upstream: FakeUpstream) -> None:
    engine = guard.Guard(registry=CollectorRegistry())
    check = WhereItRan()
    engine.add_check("output", check)
    client = openai.AsyncOpenAI(base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
                                http_client=httpx.AsyncClient(transport=engine.async_transport()))  # fmt: skip
    fake_upstream.enqueue(Script(text="a streamed reply", tool_calls=[("search", {"q": "x"})]))
    chunks = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    text = "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
    assert text == "a streamed reply"
    assert check.threads == check.tool_threads == [threading.current_thread().name]


def test_sync_transport_keeps_the_helper_loop(fake_upstream: FakeUpstream) -> None:
    engine = guard.Guard(registry=CollectorRegistry())
    check = WhereItRan()
    engine.add_check("output", check)
    client = openai.OpenAI(base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
                           http_client=httpx.Client(transport=engine.transport()))  # fmt: skip
    fake_upstream.enqueue(Script(text="a streamed reply", tool_calls=[("search", {"q": "x"})]))
    assert streamed_text(client) == "a streamed reply"
    assert check.threads == check.tool_threads == ["guardwire-checks"]
