"""A lean HTTP/1.1 client for the proxy's upstream calls: asyncio protocols + httptools.

The upstream call is the proxy's hot path. Measured on the 2-core reference machine
(bench/proxy_load.py, py-spy), aiohttp's client took a third of the proxy's CPU per
request (~190 µs); this client, a keep-alive connection pool of plain
``asyncio.Protocol`` objects with the C ``httptools`` parser, does the same work for a
fraction of that. It speaks exactly what the proxy needs: one request at a time per
connection, ``Content-Length`` request bodies, ``Content-Length``/chunked/close-delimited
responses, streaming bodies with back-pressure, TLS, and connect/read/total timeouts.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from collections.abc import AsyncIterator
from typing import cast
from urllib.parse import urlsplit

import httptools

from guard.errors import UpstreamError, UpstreamTimeout
from guard.proxy.egress import proxy_for, tunnel

Headers = list[tuple[bytes, bytes]]

#: Pause reading from the upstream when this much streamed body is not yet consumed.
_HIGH_WATER = 1 << 20


class _Connection(asyncio.Protocol):
    """One keep-alive connection; carries one exchange at a time."""

    def __init__(self, name: str, read_timeout: float) -> None:
        self._name = name
        self._read_timeout = read_timeout
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._timer: asyncio.TimerHandle | None = None
        self._reset_exchange()

    def _reset_exchange(self) -> None:
        self.status = 0
        self.headers: Headers = []
        self.complete = False
        self.keep_alive = False
        self.received = False
        self._until_close = False
        self.error: Exception | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._headers_done: asyncio.Future[None] = self._loop.create_future()
        self._wakeup: asyncio.Future[None] | None = None
        #: Loop time by which the whole exchange must be done (``None``: no bound).
        self.deadline: float | None = None

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance here.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received = True
        self._arm_timer()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail(UpstreamError(f"upstream '{self._name}' sent a malformed HTTP response"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        if not self.complete and self._until_close and self.error is None:
            # A body with neither Content-Length nor chunked coding ends with the
            # connection (RFC 9112 section 6.3).
            self.complete = True
            self.keep_alive = False
            self._wake()
        if not self.complete:
            what = "broke off its answer" if self.received else "closed the connection"
            self._fail(UpstreamError(f"upstream '{self._name}' {what}"))

    def pause_writing(self) -> None:  # pragma: no cover - request bodies are small
        pass

    # -- httptools callbacks ----------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        names = {name.lower() for name, _ in self.headers}
        self._until_close = (
            b"content-length" not in names
            and b"transfer-encoding" not in names
            and self.status >= 200
            and self.status not in (204, 304)
        )
        if not self._headers_done.done():
            self._headers_done.set_result(None)

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
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
        """Wait for the status line and headers."""
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
                if self._paused and self.transport is not None:
                    self._paused = False
                    self.transport.resume_reading()
                yield chunk
                continue
            if self.complete:
                return
            if self.error is not None:
                raise self.error
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

    def _arm_timer(self) -> None:
        # One timer bounds both each wait for data (read timeout) and the whole
        # exchange (deadline): cheaper than an asyncio.timeout scope per request.
        if self._timer is not None:
            self._timer.cancel()
        delay = self._read_timeout
        if self.deadline is not None:
            delay = min(delay, self.deadline - self._loop.time())
        self._timer = self._loop.call_later(delay, self._timed_out)

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


class ConnectionPool:
    """Keep-alive connections to one upstream origin."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        ca_file: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported upstream URL scheme in {url!r}")
        self.name = name
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/")
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        self.authority = (self.host if default_port else f"{self.host}:{self.port}").encode("idna")
        self._ssl = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        #: An egress proxy from HTTPS_PROXY / HTTP_PROXY (NO_PROXY honoured), if any.
        self._egress = proxy_for(parts.scheme, self.host)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max = max_connections
        self._idle: list[_Connection] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                if self._egress is None:
                    _, protocol = await loop.create_connection(
                        lambda: _Connection(self.name, self._read_timeout),
                        self.host,
                        self.port,
                        ssl=self._ssl,
                    )
                else:
                    sock = await tunnel(self._egress, self.host, self.port, self.name)
                    _, protocol = await loop.create_connection(
                        lambda: _Connection(self.name, self._read_timeout),
                        sock=sock,
                        ssl=self._ssl,
                        server_hostname=self.host if self._ssl is not None else None,
                    )
        except TimeoutError:
            raise UpstreamTimeout(
                f"upstream '{self.name}' did not accept a connection in time"
            ) from None
        except ssl.SSLCertVerificationError:
            raise UpstreamError(
                f"upstream '{self.name}' presented a certificate that is not trusted "
                "(set 'ca_file' for a private CA)"
            ) from None
        except OSError as exc:
            raise UpstreamError(
                f"upstream '{self.name}' could not be reached ({type(exc).__name__})"
            ) from None
        return protocol

    async def acquire(self) -> tuple[_Connection, bool]:
        """A connection (idle one first) and whether it was reused."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                connection._reset_exchange()
                return connection, True
            self._open -= 1
        while self._open >= self._max:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
            if self._idle:
                return await self.acquire()
        self._open += 1
        try:
            return await self._connect(), False
        except BaseException:
            self._open -= 1
            self._notify()
            raise

    def release(self, connection: _Connection) -> None:
        """Return a connection after its exchange (kept when reusable, else closed)."""
        if connection.reusable():
            self._idle.append(connection)
        else:
            connection.close()
            self._open -= 1
        self._notify()

    def _notify(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def head(self, method: str, target: str, headers: Headers, length: int) -> bytes:
        """The request line and headers (``host`` and ``content-length`` set here)."""
        lines = [
            f"{method} {self.base_path}{target} HTTP/1.1\r\n".encode("latin-1"),
            b"host: ",
            self.authority,
            b"\r\n",
        ]
        for name, value in headers:
            lines += (name, b": ", value, b"\r\n")
        if length or method in ("POST", "PUT", "PATCH"):
            lines.append(b"content-length: %d\r\n" % length)
        lines.append(b"\r\n")
        return b"".join(lines)

    async def exchange(
        self,
        method: str,
        target: str,
        headers: Headers,
        body: bytes,
        *,
        deadline: float | None = None,
    ) -> _Connection:
        """Send a request; return its connection once the response head arrived.

        A reused keep-alive connection that the server closed before answering is
        retried once on a fresh connection (nothing reached the application then).
        """
        head = self.head(method, target, headers, len(body))
        for attempt in (1, 2):
            connection, reused = await self.acquire()
            connection.deadline = deadline
            connection.send(head, body)
            try:
                await connection.response_head()
            except UpstreamTimeout:
                self.release(connection)
                raise
            except UpstreamError:
                self.release(connection)
                if reused and not connection.received and attempt == 1:
                    continue
                raise
            if method == "HEAD":
                connection.complete = True
                connection.keep_alive = False
            return connection
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Close idle connections."""
        for connection in self._idle:
            connection.close()
        self._idle.clear()


def decoder(headers: Headers) -> zlib._Decompress | None:
    """A decompressor when the upstream compressed its body despite ``identity``."""
    for name, value in headers:
        if name.lower() == b"content-encoding":
            encoding = value.strip().lower()
            if encoding == b"gzip":
                return zlib.decompressobj(16 + zlib.MAX_WBITS)
            if encoding == b"deflate":
                return zlib.decompressobj()
    return None
