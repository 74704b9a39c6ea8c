"""A guarded call's streamed reply through the proxy: the upstream's events pumped
through the format's filter while a second task watches for the client leaving (which
cancels the upstream request), a buffered reply's reask streamed again, and the stream
ended with the API's error event when the server shuts down (:mod:`guard.proxy.calls`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol

from guard.errors import UpstreamError
from guard.formats._stream import aclose
from guard.formats.base import StreamFilter
from guard.lifecycle import GuardedCall
from guard.proxy.asgi import Receive, Send, wait_for_disconnect
from guard.proxy.responses import (
    STREAM_HEADERS,
    check_headers,
    guard_headers,
    send_upstream,
    upstream_reply_headers,
)
from guard.proxy.upstream import UpstreamResponse
from guard.types import Call

if TYPE_CHECKING:
    from guard.proxy.calls import Exchange


class RequestUpstream(Protocol):
    """Sends a call's body upstream (timed): :meth:`guard.proxy.calls.ModelCalls._send`."""

    def __call__(
        self, exchange: Exchange, body: bytes, *, stream: bool = False
    ) -> Awaitable[UpstreamResponse]: ...


async def pump_stream(
    exchange: Exchange,
    lifecycle: GuardedCall,
    request: Call,
    receive: Receive,
    send: Send,
    request_upstream: RequestUpstream,
) -> tuple[str | None, int | None]:
    """Pump the stream (again, when a buffered reply is reasked); the outcome when the
    guard did not decide it (upstream error, client gone)."""
    fmt, call = exchange.fmt, exchange.call
    started = False
    while True:
        response = await request_upstream(exchange, fmt.request_body(request), stream=True)
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
