"""Small pure-ASGI helpers: read a bounded (decoded) body, send a response, watch for
disconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from guard.errors import RequestError
from guard.proxy.request_coding import decoded_body, refuse_transfer_codings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


class ClientDisconnected(Exception):
    """The client went away before the exchange finished."""


def header(scope: Scope, name: bytes) -> bytes | None:
    """First value of a request header (``name`` in lower case)."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def declares_json(scope: Scope) -> bool:
    """Whether the request's body may be read as JSON: no Content-Type (read as JSON, as
    clients that send none expect), ``application/json`` with or without parameters, or an
    ``application/*+json`` type. Anything else declared (``application/jsonp``, a form)
    is not JSON, whatever its bytes."""
    declared = next((v for k, v in scope["headers"] if k.lower() == b"content-type"), None)
    if declared is None:
        return True
    media = bytes(declared).partition(b";")[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


async def read_body(scope: Scope, receive: Receive, *, limit: int, timeout: float) -> bytes:
    """Read the request body, refusing bodies over ``limit`` bytes (also once decoded from
    a gzip or deflate ``Content-Encoding``) or slower than ``timeout``, and bodies in a
    transfer coding other than ``chunked`` (which the server has already undone)."""
    declared = coding = None
    for key, value in scope["headers"]:  # one pass for the three headers read here
        if key == b"content-length":
            declared = declared or value
        elif key == b"content-encoding":
            coding = coding or value
        elif key == b"transfer-encoding":
            refuse_transfer_codings(value)
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise RequestError("the Content-Length header is not a number") from None
        if size > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    received = 0
    # A plain timer that cancels this task: cheaper than an asyncio.timeout scope, and
    # most bodies arrive with the first message anyway.
    task = asyncio.current_task()
    assert task is not None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
    except asyncio.CancelledError:
        if not expired:
            raise
        task.uncancel()
        raise RequestError(
            f"the request body did not arrive within {timeout:g} s",
            status=408,
            code="request_timeout",
        ) from None
    finally:
        timer.cancel()
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return decoded_body(body, coding, limit)


def _too_large(limit: int) -> RequestError:
    return RequestError(
        f"the request body is larger than the proxy's limit of {limit} bytes",
        status=413,
        code="request_too_large",
    )


async def respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    """Send a complete response."""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def wait_for_disconnect(receive: Receive) -> None:
    """Return when the client disconnects (the request body was already read)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
