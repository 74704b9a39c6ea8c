"""One deadline per Redis store operation: the pool wait, connecting and the reply together.

redis-py bounds each phase on its own: the pool's ``timeout`` (waiting for a free pooled
connection), then the connect and read timeouts. With the same 2 s for each, a call on a
starved machine waited for the pool and then for the socket, and a budget check that
should have failed closed in 2 s took twice that or more. Here a store operation gets
one deadline (:attr:`Limits.timeout`):

- the pool waits only for what is left of it (the pools' ``timeout`` is read per wait);
- connections read their connect and socket timeouts as what is left: the asyncio
  connection reads them for every connect, send and read; the sync one when it
  connects, and each send sets its socket's timeout (the reply is read with it).
  A connection whose reply was cut off is dropped by redis-py, so no late reply
  reaches the next caller.

Running out is the store's own error, naming the phase: no free connection (the pool is
exhausted: a slow server or an overloaded process) or no answer in time.
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from guard.stores.base import StoreError

#: Connections per pool: enough for a busy worker, bounded so replicas cannot exhaust
#: the server's clients (callers beyond it wait for a free connection). The store URL's
#: ``max_connections`` option sets another bound.
MAX_CONNECTIONS = 64
#: Seconds one store operation may take in all: waiting for a pooled connection,
#: connecting and the reply. The store URL's ``timeout`` option sets another.
OPERATION_TIMEOUT = 2.0

#: When the running operation must end (``time.monotonic()``); None outside one.
_deadline: ContextVar[float | None] = ContextVar("guardwire_redis_deadline", default=None)
#: Whether the running operation got its pooled connection (names the phase that ran out).
_connected: ContextVar[bool] = ContextVar("guardwire_redis_connected", default=False)


class PoolExhausted(Exception):
    """No pooled connection came free before the operation's deadline."""


@dataclass(frozen=True)
class Limits:
    """The store URL's pool size and operation deadline."""

    max_connections: int = MAX_CONNECTIONS
    timeout: float = OPERATION_TIMEOUT

    @classmethod
    def from_url(cls, url: str) -> tuple[str, Limits]:
        """The URL without guardwire's ``timeout`` option, and the limits it gives.

        ``max_connections`` stays in the URL (redis-py reads it, and it wins over the
        default passed here); ``timeout`` would set only the pool wait, so it is taken
        out and becomes the whole operation's deadline.
        """
        parts = urlsplit(url)
        options = parse_qsl(parts.query)
        given = dict(options)
        try:
            limits = cls(
                int(given.get("max_connections", MAX_CONNECTIONS)),
                float(given.get("timeout", OPERATION_TIMEOUT)),
            )
        except ValueError:
            raise StoreError(
                "the redis store URL's max_connections must be an integer and its timeout"
                " a number of seconds"
            ) from None
        if limits.max_connections < 1 or not limits.timeout > 0:
            raise StoreError("the redis store URL's max_connections and timeout must be above zero")
        query = urlencode([(k, v) for k, v in options if k != "timeout"])
        return urlunsplit(parts._replace(query=query)), limits

    def expired(self) -> StoreError:
        """The error of an operation that ran out of time, naming the phase."""
        if not _connected.get():
            return StoreError(
                f"the redis state store had no free connection within {self.timeout:g} s"
                f" (its pool of {self.max_connections} was in use): the server answers"
                " slowly or this process is overloaded; check the server's latency or"
                " raise max_connections in the store URL"
            )
        return StoreError(
            f"the redis state store did not answer within {self.timeout:g} s; check the"
            " server's load and the network, or raise timeout in the store URL"
        )

    @contextmanager
    def operation(self) -> Iterator[None]:
        """Run one store operation (sync, or async: nothing here awaits) against the
        deadline; driver errors become StoreError."""
        redis = _redis_module()
        deadline = _deadline.set(time.monotonic() + self.timeout)
        connected = _connected.set(False)
        try:
            yield
        except (PoolExhausted, redis.TimeoutError, TimeoutError):
            raise self.expired() from None
        except Exception as exc:
            raise failed(exc) from None
        finally:
            _deadline.reset(deadline)
            _connected.reset(connected)


def failed(exc: Exception) -> StoreError:
    """Any other driver failure. Its message may hold the host: the type says enough."""
    return StoreError(
        f"the redis state store failed ({type(exc).__name__}); check that the server is"
        " reachable and the store URL is right"
    )


def _left(default: float | None) -> float | None:
    """Seconds left of the running operation; ``default`` outside one. A spent deadline
    still leaves a millisecond: a zero socket timeout would mean non-blocking instead."""
    deadline = _deadline.get()
    if deadline is None:
        return default
    return max(0.001, deadline - time.monotonic())


def _within_deadline(stored: str) -> Any:
    """A timeout attribute of redis-py's that reads as what the running operation has
    left; outside an operation, as the configured value (kept in attribute ``stored``)."""

    def left(self: Any) -> float | None:
        return _left(getattr(self, stored))

    def configure(self: Any, value: float | None) -> None:
        setattr(self, stored, value)

    return property(left, configure)


def _redis_module() -> Any:
    import redis

    return redis


@cache
def _sync_connection(base: type[Any]) -> type[Any]:
    """``base`` (the class the URL chose: plain TCP, TLS or a Unix socket), connecting
    and sending within what is left of the operation's deadline."""

    class DeadlineConnection(base):  # type: ignore[misc]
        # redis-py reads these when it connects (it keeps its own in `_socket_*`).
        socket_timeout = _within_deadline("_socket_timeout")
        socket_connect_timeout = _within_deadline("_socket_connect_timeout")

        def connect(self) -> None:
            _connected.set(True)  # out of the pool: from here on, waiting is on the server
            super().connect()

        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            # A reused connection keeps the socket timeout of its last operation, and
            # the reply is read with the one set here (redis-py's socket is `_sock`).
            sock = getattr(self, "_sock", None)
            if sock is not None and _deadline.get() is not None:
                sock.settimeout(_left(None))
            super().send_packed_command(command, check_health)

    return DeadlineConnection


@cache
def _async_connection(base: type[Any]) -> type[Any]:
    """``base`` (the class the URL chose) with its timeouts read as what is left of the
    operation's deadline: redis-py's asyncio connection reads them for every connect,
    send and read."""

    class AsyncDeadlineConnection(base):  # type: ignore[misc]
        socket_timeout = _within_deadline("_given_socket_timeout")
        socket_connect_timeout = _within_deadline("_given_connect_timeout")

    return AsyncDeadlineConnection


@cache
def _sync_pool_class() -> type[Any]:
    import redis  # the optional dependency: imported when a redis:// store opens

    class DeadlinePool(redis.BlockingConnectionPool):
        """Waits for a free connection only as long as the operation has left."""

        timeout = _within_deadline("_timeout_given")

        def get_connection(self, *args: Any, **kwargs: Any) -> Any:
            try:
                connection = super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
            except redis.ConnectionError as exc:
                # "No connection available.", raised while handling queue.Empty.
                if isinstance(exc.__context__, queue.Empty):
                    raise PoolExhausted from None
                raise
            _connected.set(True)
            return connection

    return DeadlinePool


@cache
def _async_pool_class() -> type[Any]:
    import redis.asyncio

    class AsyncDeadlinePool(redis.asyncio.BlockingConnectionPool):
        """Waits for a free connection only as long as the operation has left."""

        timeout = _within_deadline("_timeout_given")

        async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
            except redis.ConnectionError as exc:
                if isinstance(exc.__cause__, asyncio.TimeoutError):
                    raise PoolExhausted from None
                raise

        async def ensure_connection(self, connection: Any) -> None:
            _connected.set(True)  # out of the pool: from here on, waiting is on the server
            await super().ensure_connection(connection)

    return AsyncDeadlinePool


def _pool_options(limits: Limits) -> dict[str, Any]:
    # The socket timeouts are a backstop outside an operation (they are the deadline).
    return {
        "max_connections": limits.max_connections,
        "timeout": limits.timeout,
        "socket_timeout": limits.timeout,
        "socket_connect_timeout": limits.timeout,
    }


def sync_pool(url: str, limits: Limits) -> Any:
    """The sync face's pool: every wait, connect and reply within the deadline."""
    pool = _sync_pool_class().from_url(url, **_pool_options(limits))
    # Connections are made on demand, of the class the URL chose (TLS, Unix socket).
    pool.connection_class = _sync_connection(pool.connection_class)
    return pool


def async_pool(url: str, limits: Limits) -> Any:
    """The async face's pool: every wait, connect, send and read within the deadline."""
    pool = _async_pool_class().from_url(url, **_pool_options(limits))
    pool.connection_class = _async_connection(pool.connection_class)
    return pool
