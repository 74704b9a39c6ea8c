"""Streams end honestly: a block decided at the end of a stream reaches the SDK, and a
stream the upstream cut short is an error, not a complete reply (review D9, issue 15)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks.base import CheckContext
from guard.types import Action, Call, Reply, Verdict
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script


class WholeReplyBlock:
    """Needs the whole reply and blocks it (as schema or grounding checks will)."""

    name, shadow = "whole", False

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        if "unsupported" in reply.text:
            return Verdict(self.name, Action.BLOCK, reason="check 'whole' (claim)")
        return Verdict(self.name, Action.ALLOW)


def _clients(engine: guard.Guard, base: str, transport: bool) -> tuple[Any, Any]:
    def http() -> httpx2.Client:
        return httpx2.Client(transport=engine.transport()) if transport else httpx2.Client()

    oai = openai.OpenAI(base_url=base + "/v1", api_key="k", max_retries=0, http_client=http())
    ant = anthropic.Anthropic(base_url=base, api_key="k", max_retries=0, http_client=http())
    return oai, ant


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_an_end_of_stream_block_reaches_the_sdk_before_done(
    frontend: str, start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    """R21: the block was appended after ``data: [DONE]``; the OpenAI SDK returned the text."""
    if frontend == "proxy":
        server = start_proxy(upstream=fake_upstream.url)
        engine, base = server.app.guard, server.url
    else:
        engine, base = guard.Guard(registry=CollectorRegistry()), fake_upstream.url
    # Added by code, past the policy loader (which refuses this in progressive mode).
    engine.output_checks.append(WholeReplyBlock())
    oai, ant = _clients(engine, base, frontend == "transport")
    fake_upstream.enqueue(Script(text="an unsupported claim"), Script(text="an unsupported claim"))
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.APIError, match="whole"):
        for _ in oai.chat.completions.create(model="m", messages=messages, stream=True):  # type: ignore[arg-type]
            pass
    with (
        pytest.raises(anthropic.APIError, match="whole"),
        ant.messages.stream(model="m", max_tokens=20, messages=messages) as events,  # type: ignore[arg-type]
    ):
        for _ in events.text_stream:
            pass


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_a_stream_cut_short_is_an_error_not_a_short_reply(
    frontend: str, start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    if frontend == "proxy":
        server = start_proxy(upstream=fake_upstream.url)
        engine, base = server.app.guard, server.url
    else:
        engine, base = guard.Guard(registry=CollectorRegistry()), fake_upstream.url
    oai, ant = _clients(engine, base, frontend == "transport")
    cut = Script(text="one two three four five six seven", break_stream_after=4)
    fake_upstream.enqueue(cut, cut)
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.APIError, match="upstream"):
        for _ in oai.chat.completions.create(model="m", messages=messages, stream=True):  # type: ignore[arg-type]
            pass
    with (
        pytest.raises(anthropic.APIError),
        ant.messages.stream(model="m", max_tokens=20, messages=messages) as events,  # type: ignore[arg-type]
    ):
        for _ in events.text_stream:
            pass
    registry = engine.telemetry.registry

    def errors() -> float:
        return sum(
            registry.get_sample_value(
                "guardwire_calls_total",
                {"frontend": frontend, "format": f, "outcome": "upstream_error"},
            )
            or 0.0
            for f in ("openai.chat", "anthropic.messages")
        )

    # The proxy finishes a call just after its last byte went out: wait for the count.
    deadline = time.monotonic() + 5
    while errors() < 2.0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert errors() == 2.0


def test_whole_reply_checks_can_buffer_by_policy(registry: CollectorRegistry) -> None:
    from guard.checks.base import Capabilities
    from guard.errors import PolicyError

    class Declared(WholeReplyBlock):
        capabilities = Capabilities(whole_reply=True)

    progressive = guard.Guard(registry=registry)
    with pytest.raises(PolicyError, match="whole reply"):
        progressive.add_check("output", Declared())
    buffered = guard.Guard(
        guard.Policy.from_yaml("stream: {whole_reply: buffer}\n"), registry=CollectorRegistry()
    )
    buffered.add_check("output", Declared())
    assert buffered.stream_buffered
