"""A lean HTTP/1.1 client for the proxy's upstream calls: a keep-alive connection pool.

The upstream call is the proxy's hot path. Measured on the 2-core reference machine
(bench/proxy_load.py, py-spy), aiohttp's client took a third of the proxy's CPU per
request (~190 µs); this pool of plain ``asyncio.Protocol`` connections
(:mod:`guard.proxy.connection`, the C ``httptools`` parser) does the same work for a
fraction of that (bench/upstream_client.py compares it with httpcore).

What the pool guarantees:

- a request line or header that could change the request's framing (CTL, SP or
  non-ASCII in method or target, CR/LF/NUL in a header) is refused before any write,
  whatever its source (client, config, environment): :mod:`guard.proxy._request_head`;
- a request is never re-sent: a POST that may have reached the server is a model call
  that may be billed. Stale connections are avoided instead: idle connections expire
  after ``keep_alive_expiry`` and each is checked for liveness when taken
  (:mod:`guard.proxy._sockets`);
- cancellation anywhere (waiting for a slot, connecting, sending, waiting for the head)
  closes the connection and returns its slot; a cancelled waiter passes its wake-up on;
- waiting for a free slot is bounded (``pool_timeout``, then :class:`UpstreamBusy`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from urllib.parse import urlsplit

from guard.errors import UpstreamBusy, UpstreamError, UpstreamTimeout
from guard.proxy._request_head import request_head
from guard.proxy._sockets import alive, bound_unacknowledged_data
from guard.proxy.connection import Connection, Headers
from guard.proxy.egress import proxy_for, tunnel

__all__ = ["ConnectionPool", "Headers"]


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
        pool_timeout: float = 10.0,
        keep_alive_expiry: float = 4.0,
        max_response_bytes: int = 32 << 20,
        ca_file: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported upstream URL scheme in {url!r}")
        self.name = name
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/").encode("ascii")
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        self.authority = (host if default_port else f"{host}:{self.port}").encode("idna")
        self._ssl = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        #: An egress proxy from HTTPS_PROXY / HTTP_PROXY (NO_PROXY honoured), if any.
        self._egress = proxy_for(parts.scheme, self.host)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._pool_timeout = pool_timeout
        self._expiry = keep_alive_expiry
        self.max_response_bytes = max_response_bytes
        self._max = max_connections
        #: Idle connections, oldest first (taken from the newest end).
        self._idle: deque[Connection] = deque()
        #: Connections counted against ``max_connections``: idle, in use or connecting.
        self.open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        #: Closes idle connections past the expiry when no call comes to take them.
        self._reaper: asyncio.TimerHandle | None = None

    # -- connections ------------------------------------------------------------------

    def _new_connection(self) -> Connection:
        return Connection(self.name, self._read_timeout, self.max_response_bytes)

    async def connect(self) -> Connection:
        """A new connection (through the egress proxy and TLS, like every request)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(self._connect_timeout):
                if self._egress is None:
                    _, connection = await loop.create_connection(
                        self._new_connection, self.host, self.port, ssl=self._ssl
                    )
                else:
                    sock = await tunnel(self._egress, self.host, self.port, self.name)
                    _, connection = await loop.create_connection(
                        self._new_connection,
                        sock=sock,
                        ssl=self._ssl,
                        server_hostname=self.host if self._ssl is not None else None,
                    )
        except TimeoutError:
            raise UpstreamTimeout(
                f"upstream '{self.name}' did not accept a connection in time", request_sent=False
            ) from None
        except ssl.SSLCertVerificationError:
            raise UpstreamError(
                f"upstream '{self.name}' presented a certificate that is not trusted "
                "(set 'ca_file' for a private CA)",
                request_sent=False,
            ) from None
        except OSError as exc:
            raise UpstreamError(
                f"upstream '{self.name}' could not be reached ({type(exc).__name__})",
                request_sent=False,
            ) from None
        # Until its first answer, the connection is not proven accepted: the request must
        # be acknowledged within what is left of the connect timeout.
        bound_unacknowledged_data(connection, self._connect_timeout - (loop.time() - started))
        return connection

    def _take_idle(self) -> Connection | None:
        """The newest live idle connection; stale ones are closed on the way."""
        idle = self._idle
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle and now - (idle[0].idle_since or now) > self._expiry:
            self._discard(idle.popleft())  # older than the keep-alive expiry
        while idle:
            connection = idle.pop()
            if alive(connection, plain=self._ssl is None):
                connection.start_exchange()
                return connection
            self._discard(connection)
        return None

    async def acquire(self) -> Connection:
        """An idle connection, else a new one; waits (``pool_timeout``) when at the limit."""
        deadline: float | None = None
        while True:
            connection = self._take_idle()
            if connection is not None:
                return connection
            if self.open < self._max:
                break
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + self._pool_timeout
            await self._wait_for_slot(deadline)
        self.open += 1
        try:
            return await self.connect()
        except BaseException:
            self.open -= 1
            self._notify()
            raise

    async def _wait_for_slot(self, deadline: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._notify()  # woken, then cancelled: pass the wake-up on
            else:
                waiter.cancel()  # _notify skips it
            if isinstance(exc, TimeoutError):
                raise UpstreamBusy(
                    f"no connection to upstream '{self.name}' became free in time "
                    "(raise max_connections or timeouts.pool)"
                ) from None
            raise

    def release(self, connection: Connection) -> None:
        """Return a connection after its exchange (kept when reusable, else closed)."""
        if connection.returned:
            return  # released twice (an error path, then aclose): count it once
        connection.returned = True
        if connection.reusable():
            loop = asyncio.get_running_loop()
            connection.idle_since = loop.time()
            self._idle.append(connection)
            if self._reaper is None:
                self._reaper = loop.call_later(self._expiry, self._reap)
        else:
            self._discard(connection)
        self._notify()

    def _reap(self) -> None:
        """Close the idle connections past the expiry; wake again for the next one."""
        self._reaper = None
        idle = self._idle
        loop = asyncio.get_running_loop()
        now = loop.time()
        while idle and now - (idle[0].idle_since or now) >= self._expiry:
            self._discard(idle.popleft())
        if idle:
            due = (idle[0].idle_since or now) + self._expiry - now
            self._reaper = loop.call_later(max(due, 0.01), self._reap)

    def _discard(self, connection: Connection) -> None:
        connection.close()
        self.open -= 1

    def _notify(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    # -- exchanges --------------------------------------------------------------------

    def head(self, method: str, target: str, headers: Headers, length: int) -> bytes:
        """The request line and headers (``host`` and ``content-length`` set here).

        Raises :class:`UnsafeUpstreamRequest` for bytes that could change the framing.
        """
        return request_head(
            self.name, method, self.base_path, target, self.authority, headers, length
        )

    async def exchange(
        self,
        method: str,
        target: str,
        headers: Headers,
        body: bytes,
        *,
        deadline: float | None = None,
    ) -> Connection:
        """Send a request once; return its connection once the final response head arrived.

        Never retried: once written, a request may have reached the server.
        """
        head = self.head(method, target, headers, len(body))
        connection = await self.acquire()
        try:
            connection.deadline = deadline
            connection.send(head, body)
            await connection.response_head()
        except BaseException:
            self.release(connection)  # not complete: closed, slot returned
            raise
        if not connection.proven:
            # Accepted: from now on only a dead peer (unacknowledged for a whole connect
            # timeout) is cut, never a slow network.
            connection.proven = True
            bound_unacknowledged_data(connection, self._connect_timeout)
        if method == "HEAD":
            connection.complete = True
            connection.keep_alive = False
        return connection

    async def probe(self) -> bool:
        """Whether a new connection (egress proxy and TLS included) can be made now."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                connection = await self.connect()
                connection.close()
                await connection.wait_closed()
        except (UpstreamError, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        """Close idle connections."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        while self._idle:
            self._discard(self._idle.pop())
