"""Guarded model calls through the proxy: the I/O around one call's lifecycle.

The lifecycle (:mod:`guard.lifecycle`) decides; this module only talks to the upstream
and the client: it sends what the lifecycle says to send, hands back replies, pumps a
stream through the format's filter while a second task watches for the client leaving
(which cancels the upstream request), renders refusals, and finishes the call on every
exit path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from guard.engine import Guard
from guard.errors import UpstreamError
from guard.formats._stream import aclose
from guard.formats.base import StreamFilter, WireFormat
from guard.lifecycle import GuardedCall, Refusal, retry_headers
from guard.proxy.asgi import Receive, Send, respond, wait_for_disconnect
from guard.proxy.http1 import Headers
from guard.proxy.responses import (
    JSON,
    STREAM_HEADERS,
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
                    request = await lifecycle.adeliver(fmt.parse_reply(request, response.body))
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
            return await self._stream(exchange, lifecycle, request, receive, send)

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

    async def _stream(
        self,
        exchange: Exchange,
        lifecycle: GuardedCall,
        request: Call,
        receive: Receive,
        send: Send,
    ) -> tuple[str | None, int | None]:
        """Pump the stream (again, when a buffered reply is reasked); the outcome when the
        guard did not decide it (upstream error, client gone)."""
        fmt, call = exchange.fmt, exchange.call
        started = False
        while True:
            response = await self._send(exchange, fmt.request_body(request), stream=True)
            if response.status != 200 or response.chunks is None:
                if started:  # a reask of a buffered reply failed: nothing was sent yet
                    message = f"the upstream answered the reask with status {response.status}"
                    await _end_body(send, fmt.stream_error(message, "upstream_error"))
                    await response.aclose()
                else:
                    await send_upstream(send, response, call.request_id)
                return "upstream_error", response.status
            stream_filter = lifecycle.stream_filter()
            if not started:
                verdict = lifecycle.input.action.label if lifecycle.input else "allow"
                headers = guard_headers(call.request_id, verdict, exchange.policy)
                headers += upstream_reply_headers(response.headers)
                headers += check_headers(lifecycle)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": headers + STREAM_HEADERS,
                    }
                )
                started = True
            ended = await _pumped(response, stream_filter, receive, send)
            if ended is not None:
                return ended, 200
            retry = getattr(stream_filter, "retry", None)
            if retry is None:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                failed = getattr(stream_filter, "upstream_failed", False)
                return ("upstream_error" if failed else None), 200
            request = retry

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


def check_headers(lifecycle: GuardedCall) -> Headers:
    """Headers the checks added (``x-guardwire-max-tokens-clamped``)."""
    return [(k.encode(), v.encode()) for k, v in lifecycle.ctx.response_headers.items()]


SHUTTING_DOWN_CALL = (
    "guardwire is shutting down and its shutdown_timeout ended this call before the upstream "
    "answered; send the request again"
)
SHUTTING_DOWN = (
    "guardwire is shutting down and its shutdown_timeout ended this stream; send the request again"
)


async def _pumped(
    response: UpstreamResponse, stream_filter: StreamFilter, receive: Receive, send: Send
) -> str | None:
    """Pump one upstream stream through the filter; the outcome when it did not run to
    its end: ``disconnected`` (the client went away) or ``shutdown`` (the server stopped)."""
    pumping = asyncio.ensure_future(_pump(response, stream_filter, send))
    watching = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        await asyncio.wait((pumping, watching), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        if watching.done():
            raise
        # Cancelled by uvicorn with the client still there: the server is stopping and
        # its shutdown_timeout passed. The stream ends with the API's error event (not a
        # cut connection the SDK takes for a network failure) and the call finishes
        # normally (settled, counted) instead of unwinding as a cancelled task.
        for task in (pumping, watching):
            task.cancel()
        await response.aclose()
        await _end_body(send, stream_filter.fail(SHUTTING_DOWN, "shutting_down"))
        return "shutdown"
    finally:
        for task in (pumping, watching):
            task.cancel()
        await response.aclose()
    if not pumping.done() or pumping.cancelled():
        return "disconnected"
    error = pumping.exception()
    if error is not None:
        raise error
    return None


async def _pump(response: UpstreamResponse, stream_filter: StreamFilter, send: Send) -> None:
    assert response.chunks is not None
    # A filter that holds tool calls runs their (possibly async) checks as it goes:
    # awaited here, on this loop.
    gated = getattr(stream_filter, "gate", None) is not None
    try:
        async for chunk in response.chunks:
            out = await stream_filter.afeed(chunk) if gated else stream_filter.feed(chunk)  # type: ignore[attr-defined]
            if out:
                await send({"type": "http.response.body", "body": out, "more_body": True})
            if stream_filter.done:
                break
        else:
            out = await aclose(stream_filter)  # end-of-stream checks awaited on this loop
            if out:
                await send({"type": "http.response.body", "body": out, "more_body": True})
    except UpstreamError as exc:
        out = stream_filter.fail(str(exc), exc.code)
        await send({"type": "http.response.body", "body": out, "more_body": True})


async def _end_body(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
