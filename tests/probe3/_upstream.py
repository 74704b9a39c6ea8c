"""A scripted faulty upstream for the three APIs, and SDK clients in front of it.

``Faulty`` serves every request with the test's current ``fault`` (a name from
:data:`FAULTS`), rendering the API's own reply for the request's path (chat completions,
Responses, Anthropic messages), complete or streamed, and then breaking it the way the
fault says: a timeout, a reset mid-body, a status, a body that is not JSON, a stream
without its final event, a gzip body, one byte at a time. (A br body is not
scripted: brotli is not installed here; the proxy refuses that coding, see
tests/proxy/test_decoding.py.)
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks._windows import counter_key, scope_value, window_bounds
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import _RENDERERS, _Completion
from tests.proxy.faults import FaultUpstream, Request

#: A word that must never reach a log line, a metric label or an error.
MARKER = "zebracornflake"
PROVIDERS = {
    b"/v1/chat/completions": "openai",
    b"/v1/responses": "responses",
    b"/v1/messages": "anthropic",
}
API_PATH = {"chat": b"/v1/chat/completions", "responses": b"/v1/responses",
            "messages": b"/v1/messages"}  # fmt: skip
BUDGET_POLICY = """\
name: faults
budgets:
  - {name: daily, scope: global, window: day, limit_usd: 5.0}
"""
#: Upstream timeouts the proxy gets (seconds): short, so a timeout test is fast.
TIMEOUTS = {"connect": 1.0, "read": 1.0, "total": 2.0, "pool": 1.0}
#: The SDKs' own timeout in the in-process transport (the transport adds none).
SDK_TIMEOUT = 1.0


def reply_parts(path: bytes, body: dict[str, Any]) -> tuple[bytes, list[bytes]]:
    """The upstream's JSON reply and its SSE events for a request to ``path``."""
    provider = PROVIDERS[path]
    completion = _Completion(
        n=1, model=str(body.get("model", "m")), text="alpha beta gamma delta", tools=[],
        usage=(12, 6), finish={"openai": "stop", "responses": "completed"}.get(
            provider, "end_turn"),
        chunk_size=6, include_usage=bool((body.get("stream_options") or {}).get(
            "include_usage")), created=0,
    )  # fmt: skip
    render_json, render_events = _RENDERERS[provider]
    return json.dumps(render_json(completion)).encode(), render_events(completion)


def head(status: int, content_type: bytes, extra: bytes = b"", length: int | None = None) -> bytes:
    framing = (
        b"transfer-encoding: chunked\r\n" if length is None else b"content-length: %d\r\n" % length
    )
    return b"HTTP/1.1 %d X\r\ncontent-type: %s\r\n%s%s\r\n" % (status, content_type, framing, extra)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


Fault = Callable[[Request, bytes, dict[str, Any], asyncio.StreamWriter], Any]


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


def _error(path: bytes, status: int) -> bytes:
    if PROVIDERS[path] == "anthropic":
        kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return json.dumps({"type": "error", "error": {"type": kind, "message": "busy"}}).encode()
    return json.dumps({"error": {"message": "busy", "type": "server_error", "code": None}}).encode()


async def answer_fault(
    name: str, path: bytes, body: dict[str, Any], writer: asyncio.StreamWriter
) -> bool:
    """Answer one request the way fault ``name`` says; whether to keep the connection."""
    stream = bool(body.get("stream"))
    complete, events = reply_parts(path, body)
    ctype = b"text/event-stream" if stream else b"application/json"
    if name == "read_timeout":
        await asyncio.sleep(3)
        return False
    if name == "reset_before":
        writer.transport.abort()
        return False
    if name == "reset_mid_body":
        if stream:
            await _send(writer, head(200, ctype) + b"".join(chunk(e) for e in events[:3]))
        else:
            half = complete[: len(complete) // 2]
            await _send(writer, head(200, ctype, length=len(complete)) + half)
        await asyncio.sleep(0.05)
        writer.transport.abort()
        return False
    if name.startswith("status_"):
        status = int(name.split("_")[1])
        extra = b"retry-after: 0\r\n" if name.endswith("_retry_after") else b""
        if name.endswith("_no_retry"):
            extra = b"x-should-retry: false\r\n"
        error = _error(path, status)
        await _send(writer, head(status, b"application/json", extra, len(error)) + error)
        return True
    if name == "not_json":
        page = b"<html><body>502 Bad Gateway</body></html>"
        await _send(writer, head(200, b"application/json", length=len(page)) + page)
        return True
    if name == "truncated_json":
        cut = complete[: len(complete) // 2]
        await _send(writer, head(200, b"application/json", length=len(cut)) + cut)
        return True
    if name == "no_final_event":
        # The stream's last event (``[DONE]``, ``message_stop``, ``response.completed``)
        # never comes, but the body ends cleanly.
        kept = events[:-1] if stream else []
        if not stream:
            return await answer_fault("truncated_json", path, body, writer)
        await _send(writer, head(200, ctype) + b"".join(map(chunk, kept)) + b"0\r\n\r\n")
        return True
    if name == "gzip":
        data = b"".join(events) if stream else complete
        packed = gzip.compress(data)
        extra = b"content-encoding: gzip\r\n"
        await _send(writer, head(200, ctype, extra, len(packed)) + packed)
        return True
    if name == "not_utf8":
        page = b'{"id": "\xff\xfe"}'
        await _send(writer, head(200, b"application/json", length=len(page)) + page)
        return True
    if name == "html_page":  # a gateway's error page, declared as what it is
        page = b"<html><body>502 Bad Gateway</body></html>"
        await _send(writer, head(200, b"text/html; charset=utf-8", length=len(page)) + page)
        return True
    if name == "empty_body":
        await _send(writer, head(200, b"application/json", length=0))
        return True
    if name == "case_variant":
        # Beside the text field the guard reads, its case variant carrying the marker (a
        # case-insensitive client reads either). Streamed: in the second text delta, after
        # the filter learnt the delta's envelope from the first.
        provider = PROVIDERS[path]
        if stream:
            named = {"openai": b"content", "responses": b"delta"}.get(provider, b"text")
            spot, sep = b'"%s":"beta g"' % named, b","
        else:
            named = b"content" if provider == "openai" else b"text"
            spot, sep = b'"%s": "alpha' % named, b", "
        variant = b'"%s":"%s"' % (named.capitalize(), MARKER.encode()) + sep
        data = (b"".join(events) if stream else complete).replace(spot, variant + spot, 1)
        assert MARKER.encode() in data
        await _send(writer, head(200, ctype, length=len(data)) + data)
        return True
    if name == "slow_loris":
        data = b"".join(events) if stream else complete
        await _send(writer, head(200, ctype, length=len(data)))
        for i in range(len(data)):
            await _send(writer, data[i : i + 1])
            await asyncio.sleep(0.25)  # well within the read timeout, never done in time
        return True
    raise AssertionError(f"unknown fault {name}")


@dataclass
class Faulty:
    """The upstream: ``fault`` answers every request; ``bodies`` records them."""

    fault: str = "ok"
    bodies: list[dict[str, Any]] = field(default_factory=list)
    server: FaultUpstream | None = None

    async def __call__(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        path = request.head.split(b" ", 2)[1]
        body = json.loads(request.body)
        self.bodies.append(body)
        return await answer_fault(self.fault, path, body, writer)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url


@contextmanager
def faulty_upstream() -> Iterator[Faulty]:
    faulty = Faulty()
    with FaultUpstream(faulty).threaded() as server:
        faulty.server = server
        yield faulty


@pytest.fixture(scope="module")
def shared_upstream() -> Iterator[Faulty]:
    """One faulty upstream per test module (starting one per test costs a thread and a
    socket each). A test module that needs it imports both fixtures by name; nothing
    else in the suite sees them."""
    with faulty_upstream() as faulty:
        yield faulty


@pytest.fixture
def upstream(shared_upstream: Faulty) -> Faulty:
    """The module's faulty upstream with its recorded requests cleared for this test."""
    shared_upstream.bodies.clear()
    return shared_upstream


@dataclass
class Frontend:
    """SDK clients through the proxy or the transport, with the guard's metrics and store."""

    openai: openai.OpenAI
    anthropic: anthropic.Anthropic
    registry: CollectorRegistry
    store: Any

    def reserved_and_spent(self) -> tuple[int, int]:
        window, _ = window_bounds("day", time.time(), None)
        key = counter_key("daily", scope_value(None), window, "usd")
        return asyncio.run(self.store.reserved(key)), asyncio.run(self.store.get(key))

    def settled(self, calls: float) -> tuple[int, int]:
        """Wait (at most 3 s: the proxy ends a call just after its last byte) until
        ``calls`` calls are counted and nothing is reserved; reserved and spent."""
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if sum(self.calls().values()) >= calls and self.reserved_and_spent()[0] == 0:
                break
            time.sleep(0.01)
        return self.reserved_and_spent()

    def calls(self) -> dict[str, float]:
        """``guardwire_calls_total`` by outcome."""
        counts: dict[str, float] = {}
        for metric in self.registry.collect():
            if metric.name != "guardwire_calls":
                continue
            for sample in metric.samples:
                if sample.name == "guardwire_calls_total":
                    outcome = sample.labels["outcome"]
                    counts[outcome] = counts.get(outcome, 0) + sample.value
        return counts


def frontend_for(
    kind: str,
    upstream_url: str,
    tmp_path: Path,
    start_proxy: Callable[..., ProxyServer],
    retries: int = 0,
) -> Frontend:
    policy = tmp_path / "faults.yaml"
    policy.write_text(BUDGET_POLICY)
    if kind == "proxy":
        upstreams = {"default": {"url": upstream_url, "timeouts": TIMEOUTS}}
        server = start_proxy(upstreams=upstreams, policy=str(policy), store="memory://")
        base, registry, store = server.url, server.app.telemetry.registry, server.app.state.store
        oai_http, ant_http = httpx2.Client(timeout=10), httpx2.Client(timeout=10)
    else:
        registry = CollectorRegistry()
        engine = guard.Guard(policy, registry=registry, store="memory://")
        base, store = upstream_url, engine.store
        oai_http = httpx2.Client(transport=engine.transport(), timeout=SDK_TIMEOUT)
        ant_http = httpx2.Client(transport=engine.transport(), timeout=SDK_TIMEOUT)
    return Frontend(
        openai.OpenAI(
            base_url=base + "/v1", api_key="k", max_retries=retries, http_client=oai_http
        ),
        anthropic.Anthropic(base_url=base, api_key="k", max_retries=retries, http_client=ant_http),
        registry,
        store,
    )


def call(frontend: Frontend, api: str, stream: bool) -> str:
    """One call carrying :data:`MARKER` through ``api``; the reply text the caller got."""
    prompt: Any = [{"role": "user", "content": f"tell me about {MARKER}"}]
    oai: Any = frontend.openai
    if api == "chat":
        if stream:
            chunks = oai.chat.completions.create(model="gpt-4o-mini", messages=prompt, stream=True)
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        reply = oai.chat.completions.create(model="gpt-4o-mini", messages=prompt)
        return str(reply.choices[0].message.content)
    if api == "responses":
        if stream:
            with oai.responses.stream(model="gpt-4o-mini", input=prompt) as events:
                return str(events.get_final_response().output_text)
        return str(oai.responses.create(model="gpt-4o-mini", input=prompt).output_text)
    ant: Any = frontend.anthropic
    if stream:
        with ant.messages.stream(model="gpt-4o-mini", max_tokens=64, messages=prompt) as events:
            message = events.get_final_message()
    else:
        message = ant.messages.create(model="gpt-4o-mini", max_tokens=64, messages=prompt)
    return "".join(block.text for block in message.content if block.type == "text")
