"""Guarded model calls through the proxy: the I/O around one call's lifecycle.

The lifecycle (:mod:`guard.lifecycle`) decides; this module only talks to the upstream
and the client: it sends what the lifecycle says to send, hands back replies, has a
stream pumped through the format's filter (:mod:`guard.proxy._call_streams`), renders
refusals, and finishes the call on every exit path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from guard.engine import Guard
from guard.errors import UpstreamError
from guard.formats._json import UnreadableReply
from guard.formats.base import WireFormat
from guard.lifecycle import GuardedCall, Refusal, retry_headers
from guard.proxy._call_streams import pump_stream
from guard.proxy.asgi import Receive, Send, respond
from guard.proxy.http1 import Headers
from guard.proxy.responses import (
    JSON,
    check_headers,
    guard_headers,
    send_error,
    send_upstream,
    upstream_reply_headers,
)
from guard.proxy.upstream import Upstream, UpstreamResponse
from guard.telemetry import Telemetry
from guard.types import Call


@dataclass(slots=True)
class Exchange:
    """One guarded request: who handles it and where it goes."""

    fmt: WireFormat
    guard: Guard
    call: Call
    upstream: Upstream
    #: The raw, validated request target (path and query) to forward.
    path: str
    headers: Headers
    policy: bytes
    #: The call's final outcome once finished (``allowed``, ``blocked``...): access log.
    outcome: str = ""
    #: Headers of the upstream's last 200 reply (rate limits, request id...).
    upstream_headers: Headers = field(default_factory=list)


class ModelCalls:
    """Runs guarded calls for the proxy; times the upstream."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        # labels() costs microseconds; the label sets are closed, so resolve each once.
        self._timers: dict[tuple[str, str], Any] = {}

    async def complete(self, exchange: Exchange, send: Send) -> None:
        """A non-streamed call: check, send (reasking when asked), check, answer."""

        async def answer(lifecycle: GuardedCall) -> tuple[str | None, int | None]:
            fmt, call = exchange.fmt, exchange.call
            try:
                request = await lifecycle.astart()
                while request is not None:
                    sent = time.perf_counter()
                    response = await self._send(exchange, fmt.request_body(request))
                    lifecycle.waited(time.perf_counter() - sent)
                    if response.status != 200:
                        break
                    exchange.upstream_headers = response.headers
                    try:
                        reply = fmt.parse_reply(request, response.body)
                    except UnreadableReply as unreadable:
                        raise unreadable.declared(response.header(b"content-type")) from None
                    request = await lifecycle.adeliver(reply)
            except asyncio.CancelledError:
                # Only uvicorn cancels a complete call (shutdown_timeout passed): a retryable
                # 503, not a cut connection and a traceback; the call finishes normally.
                headers = guard_headers(call.request_id, "error", exchange.policy)
                headers += [(k.encode(), v.encode()) for k, v in retry_headers(1)]
                await send_error(send, fmt, 503, SHUTTING_DOWN_CALL, "shutting_down", headers)
                return "shutdown", 503
            if request is not None:  # the upstream's own error, passed on
                await send_upstream(send, response, call.request_id)
                return "upstream_error", response.status
            if lifecycle.refusal is not None:
                await self.refuse(exchange, lifecycle.refusal, send)
                return None, None
            assert lifecycle.reply is not None
            verdict = lifecycle.outcome().action.label
            headers = guard_headers(call.request_id, verdict, exchange.policy)
            headers += upstream_reply_headers(exchange.upstream_headers)
            headers += check_headers(lifecycle)
            headers.append((b"content-type", JSON))
            await respond(send, 200, headers, fmt.reply_body(lifecycle.reply))
            return None, None

        await self._run(exchange, answer)

    async def stream(self, exchange: Exchange, receive: Receive, send: Send) -> None:
        """A streamed call: input checks, then the upstream's events through the filter."""

        async def answer(lifecycle: GuardedCall) -> tuple[str | None, int | None]:
            request = await lifecycle.astart()
            if request is None:
                assert lifecycle.refusal is not None
                await self.refuse(exchange, lifecycle.refusal, send)
                return None, None
            return await pump_stream(exchange, lifecycle, request, receive, send, self._send)

        await self._run(exchange, answer)

    async def _run(
        self,
        exchange: Exchange,
        answer: Callable[[GuardedCall], Awaitable[tuple[str | None, int | None]]],
    ) -> None:
        """Open the call's lifecycle, answer, and finish it on every exit path. ``answer``
        returns the outcome and status when the guard did not decide them."""
        lifecycle = exchange.guard.open(
            exchange.call, frontend="proxy", upstream=exchange.upstream.name
        )
        outcome: str | None = None
        status: int | None = None
        request_sent = True
        try:
            outcome, status = await answer(lifecycle)
        except UpstreamError as exc:
            outcome, status, request_sent = "upstream_error", exc.status, exc.request_sent
            raise
        except asyncio.CancelledError:
            # Only the server cancels a call: uvicorn at shutdown, once shutdown_timeout
            # passed (a client that leaves cancels nothing; a stream watches for that).
            outcome = "shutdown"
            raise
        except Exception:
            outcome, status = "error", 500
            raise
        finally:
            await lifecycle.afinish(outcome, status=status, request_sent=request_sent)
            exchange.outcome = outcome or lifecycle.label()

    async def refuse(self, exchange: Exchange, refusal: Refusal, send: Send) -> None:
        """Answer a refused call with the API's own error (status and code of the refusal)."""
        verdict = "error" if refusal.status >= 500 else "block"  # a store outage: 503
        headers = guard_headers(exchange.call.request_id, verdict, exchange.policy)
        headers += [(k.encode(), v.encode()) for k, v in retry_headers(refusal.retry_after)]
        await send_error(send, exchange.fmt, refusal.status, refusal.message, refusal.code, headers)

    async def _send(
        self, exchange: Exchange, body: bytes, *, stream: bool = False
    ) -> UpstreamResponse:
        return await self.timed(
            exchange.upstream, "POST", exchange.path, exchange.headers, body, stream=stream
        )

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


SHUTTING_DOWN_CALL = (
    "guardwire is shutting down and its shutdown_timeout ended this call before the upstream "
    "answered; send the request again"
)
