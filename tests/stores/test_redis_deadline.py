"""One deadline per Redis store operation: waiting for a pooled connection, connecting
and the reply all count against it, and running out says which phase ran out.

The stuck server is a loopback socket that listens and never answers: a connection to
it opens (the kernel completes the handshake) and its reads wait forever, like a
wedged server. The bounds are wall-clock by nature (they are timeouts): each allows a
second of scheduling delay beyond the deadline, and still fails the old behaviour (the
pool wait, then redis-py's socket timeout of 2 s).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from guard.stores import StoreError, open_store
from guard.stores.redis import RedisStore
from tests.redis_server import fresh_url

#: The operation deadline the tests put in the store URL (seconds).
DEADLINE = 0.6
#: The longest a call may take: the deadline, and time for a loaded machine's scheduler.
BOUND = DEADLINE + 1.0


def _with(url: str, **options: object) -> str:
    joiner = "&" if "?" in url else "?"
    return url + joiner + "&".join(f"{k}={v}" for k, v in options.items())


@pytest.fixture
def stuck_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisStore]:
    """A store with one pooled connection, open on a server that never replies."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        store = open_store(_with(f"redis://127.0.0.1:{port}/0", max_connections=1,
                                 timeout=DEADLINE))  # fmt: skip
        assert isinstance(store, RedisStore)

        async def answered() -> None:
            return None

        # Open without the start-up ping (it would meet the stuck server first).
        with monkeypatch.context() as patched:
            patched.setattr(store, "ping", answered)
            patched.setattr(store.sync, "ping", lambda: None)
            asyncio.run(store.open())
        yield store
        asyncio.run(store.close())


async def test_an_exhausted_pool_fails_at_the_deadline_with_a_readable_error() -> None:
    store = open_store(_with(fresh_url(), max_connections=1, timeout=DEADLINE))
    await store.open()
    try:
        pool = store._client.connection_pool  # type: ignore[attr-defined]
        held = await pool.get_connection()  # the only connection: the pool is exhausted
        try:
            started = time.monotonic()
            results = await asyncio.gather(
                *(store.incr("k") for _ in range(4)), return_exceptions=True
            )
            elapsed = time.monotonic() - started
        finally:
            await pool.release(held)
        assert all(isinstance(r, StoreError) for r in results), results
        message = str(results[0])
        assert "no free connection within 0.6 s" in message and "max_connections" in message
        assert "127.0.0.1" not in message  # a URL may hold a password: never quoted
        assert elapsed < BOUND
        assert await store.incr("k") == 1  # the freed connection serves again
    finally:
        await store.close()


async def test_pool_wait_and_reply_share_one_deadline(stuck_store: RedisStore) -> None:
    ends: list[float] = []

    async def timed() -> BaseException | None:
        started = time.monotonic()
        try:
            await stuck_store.get("k")
        except StoreError as exc:
            return exc
        finally:
            ends.append(time.monotonic() - started)
        return None

    results = await asyncio.gather(*(timed() for _ in range(3)))
    assert all(isinstance(r, StoreError) for r in results), results
    # The call that had the connection ran out waiting for the server; those queued
    # behind it (which of them may get the connection at the last moment) for the pool.
    messages = [str(r).split(" within")[0] for r in results]
    assert "the redis state store did not answer" in messages
    assert set(messages) <= {
        "the redis state store did not answer",
        "the redis state store had no free connection",
    }
    # Before: the pool wait, then the socket timeout; a queued call took both.
    assert max(ends) < BOUND, ends


def test_the_sync_face_keeps_one_deadline_across_threads(stuck_store: RedisStore) -> None:
    sync = stuck_store.sync
    ends: list[float] = []
    errors: list[BaseException] = []

    def call() -> None:
        started = time.monotonic()
        try:
            sync.get("k")
        except StoreError as exc:
            errors.append(exc)
        finally:
            ends.append(time.monotonic() - started)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 3
    assert any("did not answer within 0.6 s" in str(e) for e in errors), errors
    assert max(ends) < BOUND, ends


@pytest.mark.parametrize("scheme", ["redis", "rediss", "unix"])
def test_both_faces_keep_the_connection_kind_the_url_chose(scheme: str) -> None:
    """rediss:// stays TLS and unix:// a Unix socket (the deadline wraps their class)."""
    import redis
    import redis.asyncio

    from guard.stores._redis_deadline import Limits, async_pool, sync_pool

    url = "unix:///run/redis.sock" if scheme == "unix" else f"{scheme}://cache:6379/0"
    kinds = {
        "redis": (redis.Connection, redis.asyncio.Connection),
        "rediss": (redis.SSLConnection, redis.asyncio.SSLConnection),
        "unix": (redis.UnixDomainSocketConnection, redis.asyncio.UnixDomainSocketConnection),
    }
    sync_kind, async_kind = kinds[scheme]
    assert issubclass(sync_pool(url, Limits()).connection_class, sync_kind)
    assert issubclass(async_pool(url, Limits()).connection_class, async_kind)
