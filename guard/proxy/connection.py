"""One upstream HTTP/1.1 connection: an ``asyncio.Protocol`` with the C ``httptools`` parser.

The connection carries one exchange at a time and enforces HTTP/1.1 message framing the
way h11's state machine does (RFC 9112):

- interim ``1xx`` heads are skipped (``101`` is an error: nothing here upgrades);
- after the final message ends, its body stops: a byte after it, or a byte while the
  connection is idle in the pool, means the framing can no longer be trusted, so the
  connection is closed and never reused (the next caller never sees a stray answer);
- a body that ends before its ``Content-Length`` or last chunk is an error, never a
  silently short body;
- body bytes are counted against ``max_body`` as they arrive (``Content-Length`` up front);
- the read timer runs only while the connection waits for the upstream: while reading is
  paused because the consumer has not taken what is buffered, a slow *client* is not
  reported as a slow upstream.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import cast

import httptools

from guard.errors import UpstreamProtocolError, UpstreamTimeout, UpstreamTooLarge

Headers = list[tuple[bytes, bytes]]

#: Pause reading from the upstream when this much body is not yet consumed.
HIGH_WATER = 1 << 20
#: Bounds on a response head (llhttp has none): real APIs send a few KiB of headers
#: and at most one or two interim heads.
MAX_HEAD_BYTES = 256 << 10
MAX_INTERIM_HEADS = 8


class Connection(asyncio.Protocol):
    """One keep-alive connection; carries one exchange at a time."""

    def __init__(self, name: str, read_timeout: float, max_body: int) -> None:
        self._name = name
        self._read_timeout = read_timeout
        self._max_body = max_body
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        #: Set once the upstream answered on this connection (it was really accepted).
        self.proven = False
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._parser = httptools.HttpResponseParser(self)
        self._timer: asyncio.TimerHandle | None = None
        #: Loop time when the connection went back to the pool (``None``: in use).
        self.idle_since: float | None = None
        self.start_exchange()

    def start_exchange(self) -> None:
        """Forget the previous exchange; the connection is in use again."""
        self.idle_since = None
        #: Set once the pool got the connection back (a second release is ignored).
        self.returned = False
        self.status = 0
        self.headers: Headers = []
        self.complete = False
        self.keep_alive = False
        self.received = False
        self._interim = False
        self._interim_heads = 0
        self._head_bytes = 0
        self._until_close = False
        self.error: Exception | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._body_size = 0
        self._paused = False
        self._headers_done: asyncio.Future[None] = self._loop.create_future()
        self._wakeup: asyncio.Future[None] | None = None
        #: Loop time by which the whole exchange must be done (``None``: no bound).
        self.deadline: float | None = None
        #: A streamed body: the read timeout bounds each wait for a whole event (an SSE
        #: event ends with a blank line), not for any byte, so an upstream that trickles
        #: a byte at a time (a slow loris) cannot hold a stream open forever.
        self.events_only = False
        self._event_tail = b""

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance here.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.complete or self.idle_since is not None:
            # Bytes no request asked for (surplus after a message, or while idle): the
            # framing is broken, so nothing more read here can be trusted.
            self.close()
            return
        self.received = True
        if not self.events_only:
            self._arm_timer()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._protocol_error("switched protocols")
        except httptools.HttpParserCallbackError:
            # Raised by on_message_begin for a second message: the first one stands.
            self.close()
        except httptools.HttpParserError:
            self._protocol_error("sent a malformed HTTP response")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        if not self._lost.done():
            self._lost.set_result(None)
        if not self.complete and self._until_close and self.error is None:
            # A body with neither Content-Length nor chunked coding ends with the
            # connection (RFC 9112 section 6.3).
            self.complete = True
            self.keep_alive = False
            self._wake()
        if not self.complete and self.idle_since is None:
            if isinstance(exc, TimeoutError) and not self.received:
                # TCP_USER_TIMEOUT: the request was never acknowledged (see http1.py).
                self._fail(
                    UpstreamTimeout(f"upstream '{self._name}' did not accept the request in time")
                )
                return
            what = "broke off its answer" if self.received else "closed the connection"
            self._fail(UpstreamProtocolError(f"upstream '{self._name}' {what}"))

    # -- httptools callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:
            raise _SurplusMessage  # stops the parser; data_received closes the connection

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.status == 0:  # not trailer fields of a chunked body: the head is sent
            self._head_bytes += len(name) + len(value)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._protocol_error(f"sent response headers over {MAX_HEAD_BYTES} bytes")
                return
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status == 101:
            self._protocol_error("switched protocols")
            return
        if 100 <= status < 200:
            # Interim response (100 Continue, 103 Early Hints...): the final head follows.
            self._interim = True
            self._interim_heads += 1
            if self._interim_heads > MAX_INTERIM_HEADS:
                self._protocol_error(f"sent more than {MAX_INTERIM_HEADS} interim responses")
            self.headers = []
            return
        self.status = status
        self.keep_alive = self._parser.should_keep_alive()
        framed, declared = _framing(self.headers)
        self._until_close = not framed and status not in (204, 304)
        if declared > self._max_body:
            self._too_large()
        if not self._headers_done.done():
            self._headers_done.set_result(None)

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._max_body:
            self._too_large()
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self.events_only:
            self._event_progress(body)
        if self._buffered > HIGH_WATER and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()
            # The consumer is the slow party now: no read timeout until it catches up.
            self._cancel_timer()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self.complete = True
        self._cancel_timer()
        self._wake()

    # -- exchange ---------------------------------------------------------------------

    def send(self, head: bytes, body: bytes) -> None:
        """Write a request (the head ends with the blank line)."""
        assert self.transport is not None
        self.transport.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self.transport.write(body)
        self._arm_timer()

    async def response_head(self) -> None:
        """Wait for the final status line and headers."""
        await self._headers_done
        if self.error is not None and self.status == 0:
            raise self.error

    async def chunks(self) -> AsyncIterator[bytes]:
        """The response body as it arrives (already de-chunked).

        Everything received so far is yielded as one piece: a stream's events arrive as
        many small HTTP chunks, and handing them on one by one cost an ASGI send (a
        socket write) per event.
        """
        while True:
            if self._chunks:
                chunks = self._chunks
                chunk = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._buffered = 0
                if self._paused and self.transport is not None and not self.closed:
                    self._paused = False
                    self.transport.resume_reading()
                    self._arm_timer()
                yield chunk
                continue
            if self.error is not None:
                raise self.error
            if self.complete:
                return
            self._wakeup = self._loop.create_future()
            await self._wakeup

    async def body(self) -> bytes:
        """The whole response body."""
        parts = [chunk async for chunk in self.chunks()]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _wake(self) -> None:
        waiter = self._wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        if self.error is None:
            self.error = error
        if not self._headers_done.done():
            self._headers_done.set_exception(error)
            self._headers_done.exception()  # mark retrieved: the caller may be gone
        self._wake()

    def _protocol_error(self, what: str) -> None:
        self._fail(UpstreamProtocolError(f"upstream '{self._name}' {what}"))
        self.close()

    def _too_large(self) -> None:
        self._fail(
            UpstreamTooLarge(
                f"upstream '{self._name}' sent a response larger than its "
                f"max_response_bytes ({self._max_body} bytes)"
            )
        )
        self.close()

    def _arm_timer(self) -> None:
        # One timer bounds both each wait for data (read timeout) and the whole
        # exchange (deadline): cheaper than an asyncio.timeout scope per request.
        if self._timer is not None:
            self._timer.cancel()
        delay = self._read_timeout
        if self.deadline is not None:
            delay = min(delay, self.deadline - self._loop.time())
        self._timer = self._loop.call_later(delay, self._timed_out)

    def _event_progress(self, body: bytes) -> None:
        """Re-arm the read timeout when ``body`` completes an event (a blank line, also
        one split across two pieces)."""
        edge = self._event_tail + body[:3]
        if any(end in body or end in edge for end in _EVENT_ENDS):
            self._arm_timer()
        self._event_tail = (self._event_tail + body[-3:])[-3:]

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(UpstreamTimeout(f"upstream '{self._name}' did not answer in time"))
        self.close()

    def reusable(self) -> bool:
        """True when the exchange finished cleanly and the server keeps the connection."""
        return self.complete and self.keep_alive and not self.closed and self.error is None

    def close(self) -> None:
        """Drop the connection."""
        self._cancel_timer()
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.closed = True

    async def wait_closed(self) -> None:
        """Wait until the transport reported the connection lost."""
        await asyncio.shield(self._lost)


#: How an SSE event ends (WHATWG HTML, server-sent events: a blank line, any line break).
_EVENT_ENDS = (b"\n\n", b"\r\r", b"\r\n\r\n")


class _SurplusMessage(Exception):
    """A second response began on the connection before any request asked for it."""


def _framing(headers: Headers) -> tuple[bool, int]:
    """Whether the body is delimited by its headers, and its ``Content-Length`` (or 0)."""
    framed, declared = False, 0
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            framed = True
            if value.strip().isdigit():  # llhttp already rejects a malformed one
                declared = int(value)
        elif lowered == b"transfer-encoding":
            framed = True
    return framed, declared
