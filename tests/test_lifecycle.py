"""The call lifecycle's seams, end to end through the real SDKs (proxy and transport).

One test check per seam: a request patch, a restore, an async check, a per-check time
limit, a 429 refusal with retry-after, and a finish hook that runs exactly once on each
exit path.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks.base import CallEnd, Capabilities, CheckContext
from guard.patches import SetMaxTokens
from guard.types import Action, Call, Edit, Reply, Verdict
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

NAME = re.compile(r"Alice Example")


class Pseudonyms:
    """Replaces a name by a placeholder upstream; the reply gets the name back."""

    name, shadow = "pseudonyms", False
    capabilities = Capabilities(restores=True, may_block=False)

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        edits = []
        for number, segment in enumerate(ctx.segments):
            for match in NAME.finditer(segment.text):
                ctx.restore("<PERSON_1>", match.group())
                edits.append(Edit(number, match.start(), match.end(), "<PERSON_1>"))
        return Verdict(self.name, Action.REDACT if edits else Action.ALLOW, edits=tuple(edits))

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)


class Clamp:
    """Caps every reply at 16 tokens through a request patch."""

    name, shadow = "clamp", False
    capabilities = Capabilities(patches_request=True, may_block=False)

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW, patches=(SetMaxTokens(16),))

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)


class AsyncGate:
    """An async check: blocks prompts containing 'forbidden', after an await."""

    name, shadow = "async-gate", False
    capabilities = Capabilities(needs_state=True)

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    async def input(self, call: Call, ctx: CheckContext) -> Verdict:
        await asyncio.sleep(self.delay)
        if "forbidden" in call.text():
            return Verdict(self.name, Action.BLOCK, reason="check 'async-gate' (forbidden)")
        return Verdict(self.name, Action.ALLOW)

    async def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)


class Budget:
    """Refuses with a 429 and retry-after, as a budget will."""

    name, shadow = "budget", False
    capabilities = Capabilities(needs_state=True)

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        if "expensive" in call.text():
            return Verdict(
                self.name,
                Action.BLOCK,
                reason="budget 'team-daily' is used up",
                status=429,
                code="budget_exceeded",
                retry_after=30,
            )
        return Verdict(self.name, Action.ALLOW)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)


class Finisher:
    """Counts its finish hook per request id."""

    name, shadow = "finisher", False
    capabilities = Capabilities(may_block=False)

    def __init__(self) -> None:
        self.ends: dict[str, list[CallEnd]] = {}

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    def finish(self, ctx: CheckContext, end: CallEnd) -> None:
        self.ends.setdefault(ctx.request_id, []).append(end)

    def outcomes(self) -> list[str]:
        assert all(len(ends) == 1 for ends in self.ends.values()), "a finish hook ran twice"
        return [ends[0].outcome for ends in self.ends.values()]


@pytest.fixture
def proxy(start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream) -> ProxyServer:
    return start_proxy(upstream=fake_upstream.url)


def _engine_of(server: ProxyServer) -> guard.Guard:
    return server.app.guard


@pytest.fixture(params=["proxy", "transport"])
def frontend(
    request: pytest.FixtureRequest, proxy: ProxyServer, fake_upstream: FakeUpstream
) -> Iterator[tuple[guard.Guard, openai.OpenAI, anthropic.Anthropic]]:
    """The OpenAI and Anthropic SDKs through the proxy, or through the transport."""
    if request.param == "proxy":
        engine = _engine_of(proxy)
        base, oai_http, ant_http = proxy.url, httpx2.Client(), httpx2.Client()
    else:
        engine = guard.Guard(registry=CollectorRegistry())
        base = fake_upstream.url
        oai_http = httpx2.Client(transport=engine.transport())
        ant_http = httpx2.Client(transport=engine.transport())
    oai = openai.OpenAI(base_url=base + "/v1", api_key="k", max_retries=0, http_client=oai_http)
    ant = anthropic.Anthropic(base_url=base, api_key="k", max_retries=0, http_client=ant_http)
    yield engine, oai, ant


def test_request_patch_clamps_max_tokens(frontend: Any, fake_upstream: FakeUpstream) -> None:
    engine, oai, ant = frontend
    engine.add_check("input", Clamp())
    oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert fake_upstream.requests[-1].json["max_completion_tokens"] == 16
    oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=8
    )
    assert fake_upstream.requests[-1].json["max_tokens"] == 8  # never raised
    ant.messages.create(model="m", max_tokens=500, messages=[{"role": "user", "content": "hi"}])
    assert fake_upstream.requests[-1].json["max_tokens"] == 16


@pytest.mark.parametrize("stream", [False, True])
def test_restore_maps_placeholders_back(
    frontend: Any, fake_upstream: FakeUpstream, stream: bool
) -> None:
    engine, oai, ant = frontend
    engine.add_check("input", Pseudonyms())
    reply = "Dear <PERSON_1>, your order shipped. Regards to <PERSON_1>! <PERSON_9> stays."
    fake_upstream.enqueue(Script(text=reply, chunk_size=3), Script(text=reply, chunk_size=5))
    prompt = [{"role": "user", "content": "write to Alice Example"}]
    expected = reply.replace("<PERSON_1>", "Alice Example")
    if stream:
        chunks = oai.chat.completions.create(model="m", messages=prompt, stream=True)  # type: ignore[arg-type]
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        result = oai.chat.completions.create(model="m", messages=prompt)  # type: ignore[arg-type]
        text = result.choices[0].message.content or ""
    assert text == expected
    assert "Alice" not in fake_upstream.requests[-1].body.decode()
    assert "<PERSON_1>" in fake_upstream.requests[-1].body.decode()
    if stream:
        with ant.messages.stream(model="m", max_tokens=50, messages=prompt) as events:  # type: ignore[arg-type]
            streamed = "".join(events.text_stream)
    else:
        message = ant.messages.create(model="m", max_tokens=50, messages=prompt)  # type: ignore[arg-type]
        streamed = message.content[0].text  # type: ignore[union-attr]
    assert streamed == expected


def test_async_check_is_awaited(frontend: Any, fake_upstream: FakeUpstream) -> None:
    engine, oai, _ = frontend
    engine.add_check("input", AsyncGate())
    ok = oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "fine"}])
    assert ok.choices[0].message.content
    with pytest.raises(openai.BadRequestError, match="async-gate"):
        oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "forbidden"}])


def test_a_check_over_its_time_limit_is_an_error(
    frontend: Any, fake_upstream: FakeUpstream
) -> None:
    engine, oai, _ = frontend
    engine.add_check("input", AsyncGate(delay=2.0), timeout_ms=50)
    started = time.monotonic()
    with pytest.raises(openai.BadRequestError, match="async-gate' failed"):
        oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert time.monotonic() - started < 1.5
    errors = engine.telemetry.registry.get_sample_value(
        "guardwire_check_errors_total", {"check": "async-gate", "stage": "input"}
    )
    assert errors == 1.0


def test_refusal_with_status_and_retry_after(frontend: Any, fake_upstream: FakeUpstream) -> None:
    engine, oai, ant = frontend
    engine.add_check("input", Budget())
    with pytest.raises(openai.RateLimitError, match="team-daily") as caught:
        oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "expensive"}])
    assert caught.value.response.headers["retry-after"] == "30"
    assert caught.value.code == "budget_exceeded"
    with pytest.raises(anthropic.RateLimitError):
        ant.messages.create(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "expensive"}]
        )


def test_finish_runs_once_on_every_exit_path(frontend: Any, fake_upstream: FakeUpstream) -> None:
    engine, oai, _ = frontend
    finisher = Finisher()
    engine.add_check("input", finisher)
    hello = [{"role": "user", "content": "hi"}]
    oai.chat.completions.create(model="m", messages=hello)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "how to build a bomb"}]
        )
    fake_upstream.enqueue(Script(status=500))
    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model="m", messages=hello)  # type: ignore[arg-type]
    fake_upstream.enqueue(Script(text="x " * 50, break_stream_after=3))
    with pytest.raises(openai.APIError):
        for _ in oai.chat.completions.create(model="m", messages=hello, stream=True):  # type: ignore[arg-type]
            pass
    chunks = oai.chat.completions.create(model="m", messages=hello, stream=True)  # type: ignore[arg-type]
    for _ in chunks:
        pass
    _wait_for(lambda: len(finisher.ends) == 5)
    assert finisher.outcomes() == [
        "allowed",
        "blocked",
        "upstream_error",
        "upstream_error",
        "allowed",
    ]


def test_finish_runs_once_when_the_client_leaves_mid_stream(
    proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    engine = _engine_of(proxy)
    finisher = Finisher()
    engine.add_check("input", finisher)
    fake_upstream.enqueue(Script(text="word " * 400, chunk_size=4, stream_delay=0.01))
    body = b'{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )
        assert b"200" in sock.recv(4096)
    _wait_for(lambda: len(finisher.ends) == 1)
    assert finisher.outcomes() == ["disconnected"]
    calls = engine.telemetry.registry.get_sample_value(
        "guardwire_calls_total",
        {"frontend": "proxy", "format": "openai.chat", "outcome": "disconnected"},
    )
    assert calls == 1.0


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
