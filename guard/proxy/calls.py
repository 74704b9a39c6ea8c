"""Guarded model calls through the proxy: complete replies and streams.

The engine drives the upstream call (so output checks can reask); a stream is pumped
through the wire format's filter while a second task watches for the client leaving,
which cancels the upstream request.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from guard.decision import Decision
from guard.engine import Guard
from guard.errors import UpstreamError
from guard.formats.base import StreamFilter, WireFormat
from guard.proxy.asgi import Receive, Send, respond, wait_for_disconnect
from guard.proxy.http1 import Headers
from guard.proxy.responses import JSON, STREAM_HEADERS, guard_headers, send_error, send_upstream
from guard.proxy.upstream import Upstream, UpstreamResponse
from guard.telemetry import Telemetry
from guard.types import Action, Call, Reply


class _PassThrough(Exception):
    """The upstream answered with an error status: return its response unchanged."""

    def __init__(self, response: UpstreamResponse) -> None:
        self.response = response


@dataclass(slots=True)
class Exchange:
    """One guarded request: who handles it and where it goes."""

    fmt: WireFormat
    guard: Guard
    call: Call
    upstream: Upstream
    path: str
    headers: Headers
    policy: bytes


class ModelCalls:
    """Runs guarded calls for the proxy; counts calls and times the upstream."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        # labels() costs microseconds; the label sets are closed, so resolve each once.
        self._calls: dict[tuple[str, str], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def complete(self, exchange: Exchange, send: Send) -> None:
        """A non-streamed call: check, send (reasking when asked), check, answer."""
        fmt, request_id = exchange.fmt, exchange.call.request_id

        async def send_once(request: Call) -> Reply:
            body = fmt.request_body(request)
            response = await self.timed(
                exchange.upstream, "POST", exchange.path, exchange.headers, body
            )
            if response.status != 200:
                raise _PassThrough(response)
            return fmt.parse_reply(request, response.body)

        try:
            outcome = await exchange.guard.run(exchange.call, send_once)
        except _PassThrough as passed:
            self.count(fmt, "upstream_error")
            await send_upstream(send, passed.response, request_id)
            return
        self.count(fmt, outcome.label)
        blocked = outcome.blocked
        if blocked is not None:
            await self.refuse(exchange, blocked, send)
            return
        assert outcome.reply is not None
        headers = guard_headers(request_id, outcome.action.label, exchange.policy)
        headers.append((b"content-type", JSON))
        await respond(send, 200, headers, fmt.reply_body(outcome.reply))

    async def refuse(self, exchange: Exchange, decision: Decision, send: Send) -> None:
        """Answer a blocked call with the API's own 400 error naming the rule."""
        headers = guard_headers(exchange.call.request_id, "block", exchange.policy)
        await send_error(send, exchange.fmt, 400, decision.message(), "content_blocked", headers)

    async def stream(self, exchange: Exchange, receive: Receive, send: Send) -> None:
        """A streamed call: input checks, then the upstream's events through the filter."""
        fmt, guard, call = exchange.fmt, exchange.guard, exchange.call
        decision = guard.before(call)
        if decision.blocked:
            self.count(fmt, "blocked")
            await self.refuse(exchange, decision, send)
            return
        body = fmt.request_body(call)
        response = await self.timed(
            exchange.upstream, "POST", exchange.path, exchange.headers, body, stream=True
        )
        if response.status != 200 or response.chunks is None:
            self.count(fmt, "upstream_error")
            await send_upstream(send, response, call.request_id)
            return
        stream_filter = fmt.stream_filter(call, guard)
        headers = guard_headers(call.request_id, decision.action.label, exchange.policy)
        await send(
            {"type": "http.response.start", "status": 200, "headers": headers + STREAM_HEADERS}
        )
        pumping = asyncio.ensure_future(_pump(response, stream_filter, send))
        watching = asyncio.ensure_future(wait_for_disconnect(receive))
        try:
            await asyncio.wait((pumping, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pumping, watching):
                task.cancel()
            await response.aclose()
        if not pumping.done() or pumping.cancelled():
            self.count(fmt, "disconnected")
            return
        error = pumping.exception()
        if error is not None:
            raise error
        self._count_stream(fmt, decision, stream_filter)

    def _count_stream(
        self, fmt: WireFormat, decision: Decision, stream_filter: StreamFilter
    ) -> None:
        final = stream_filter.decision
        if final is not None and final.blocked:
            check = next(
                (v.check for v in final.verdicts if v.effective is Action.BLOCK), "unknown"
            )
            self.telemetry.stream_cutoffs.labels(check).inc()
            self.count(fmt, "blocked")
            return
        action = decision.action if final is None else max(decision.action, final.action)
        self.count(fmt, {Action.REDACT: "redacted", Action.WARN: "warned"}.get(action, "allowed"))

    async def timed(
        self,
        upstream: Upstream,
        method: str,
        path: str,
        headers: Headers,
        body: bytes,
        *,
        stream: bool = False,
    ) -> UpstreamResponse:
        """Send to the upstream, recording its latency and status class."""
        started = time.perf_counter()
        status = 0
        try:
            response = await upstream.request(method, path, headers, body, stream=stream)
            status = response.status
            return response
        finally:
            key = (upstream.name, self.telemetry.status_class(status))
            timer = self._timers.get(key)
            if timer is None:
                timer = self._timers[key] = self.telemetry.upstream_seconds.labels(*key)
            timer.observe(time.perf_counter() - started)

    def count(self, fmt: WireFormat, outcome: str) -> None:
        """Count one call of the proxy by wire format and outcome."""
        key = (fmt.name, outcome)
        counter = self._calls.get(key)
        if counter is None:
            counter = self._calls[key] = self.telemetry.calls.labels("proxy", *key)
        counter.inc()


async def _pump(response: UpstreamResponse, stream_filter: StreamFilter, send: Send) -> None:
    assert response.chunks is not None
    try:
        async for chunk in response.chunks:
            out = stream_filter.feed(chunk)
            if out:
                await send({"type": "http.response.body", "body": out, "more_body": True})
            if stream_filter.done:
                break
        else:
            out = stream_filter.close()
            if out:
                await send({"type": "http.response.body", "body": out, "more_body": True})
    except UpstreamError as exc:
        out = stream_filter.fail(str(exc), exc.code)
        await send({"type": "http.response.body", "body": out, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
