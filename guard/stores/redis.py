"""``redis://host:6379/0``: a store shared by many proxy replicas.

Each operation is one Lua script (:mod:`guard.stores._redis_lua`), so a reserve is an
atomic check-and-add however many processes and replicas race. Time is the store's
clock, passed into every script (see :mod:`guard.stores.base`); keys also expire
natively a little after their logical expiry (their windows), so old windows and
ended sessions do not pile up.

Connections: one blocking pool for the sync face and one asyncio pool for the async
face, both :class:`~redis.BlockingConnectionPool` (the plain asyncio pool raises
``MaxConnectionsError`` under load instead of waiting). Each operation has one deadline
for the pool wait, connecting and the reply (:mod:`guard.stores._redis_deadline`).
URL options: ``?prefix=name:`` puts every key under a prefix (default ``guardwire:``),
so several deployments can share a database; ``max_connections`` (default 64) bounds
each pool; ``timeout`` (seconds, default 2) is each operation's deadline.
Needs the ``redis`` extra: ``pip install 'guardwire[redis]'``.

Rolling upgrades: data written by older versions reads unchanged (same layout). Their
scripts, still run by old processes during an upgrade, drop expired holds uncharged and
add a late settle in full; new scripts (new SHAs) charge expired holds and add only
spend beyond a charged reservation. A mixed fleet can so, for holds that expire during
the upgrade, give one back uncharged or count one twice.
"""

from __future__ import annotations

from typing import Any

from guard.errors import MissingDependency
from guard.stores._redis_deadline import (
    MAX_CONNECTIONS,
    OPERATION_TIMEOUT,
    Limits,
    async_pool,
    sync_pool,
)
from guard.stores._redis_ops import (
    SCAN_PAGE,
    SCRIPTS,
    Operations,
    Spec,
    script_args,
    split_url,
)
from guard.stores.base import Clock, Reservation, Scalar, StoredValue, SyncStore, wall_clock

__all__ = ["MAX_CONNECTIONS", "OPERATION_TIMEOUT", "RedisStore", "RedisSyncStore"]


def _redis() -> Any:
    try:
        import redis
    except ImportError:
        raise MissingDependency("the redis:// state store", "redis") from None
    return redis


class RedisSyncStore:
    """The blocking face (the sync transport, the CLI)."""

    kind = "redis"

    def __init__(self, url: str, prefix: str, clock: Clock, limits: Limits) -> None:
        self._ops = Operations(prefix, clock)
        self._url = url
        self._limits = limits
        self._client: Any = None
        self._scripts: dict[str, Any] = {}

    def open(self) -> None:
        if self._ops.opened:
            return
        redis = _redis()
        self._client = redis.Redis(connection_pool=sync_pool(self._url, self._limits))
        self._scripts = {name: self._client.register_script(s) for name, s in SCRIPTS.items()}
        self._ops.opened = True
        try:
            self.ping()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client.connection_pool.disconnect()
        self._client, self._ops.opened = None, False

    def ping(self) -> None:
        self._ops.require_open()
        with self._limits.operation():
            self._client.ping()

    def _run(self, spec: Spec) -> Any:
        self._ops.require_open()
        name, keys, args, convert = spec
        with self._limits.operation():
            result = self._scripts[name](keys=keys, args=script_args(args))
        return convert(result)

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        return int(self._run(self._ops.incr(key, amount, ttl)))

    def get(self, key: str) -> int:
        return int(self._run(self._ops.get(key)))

    def reserved(self, key: str) -> int:
        return int(self._run(self._ops.reserved(key)))

    def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Reservation | None:
        result: Reservation | None = self._run(self._ops.reserve(key, amount, limit, ttl, hold))
        return result

    def settle(
        self,
        reservation: Reservation,
        actual: int,
        keep: int = 0,
        *,
        spent_total: int | None = None,
    ) -> int:
        return int(self._run(self._ops.settle(reservation, actual, keep, spent_total)))

    def release(self, reservation: Reservation) -> None:
        self._run(self._ops.release(reservation))

    def set_if_absent(self, key: str, value: Scalar, ttl: float | None = None) -> Scalar:
        result: Scalar = self._run(self._ops.set_if_absent(key, value, ttl))
        return result

    def take(self, key: str) -> Scalar | None:
        result: Scalar | None = self._run(self._ops.take(key))
        return result

    def push_recent(self, key: str, item: str, keep: int, ttl: float | None = None) -> list[str]:
        result: list[str] = self._run(self._ops.push_recent(key, item, keep, ttl))
        return result

    def scan_values(self, prefix: str, limit: int) -> list[StoredValue]:
        """Live values under ``prefix``, by key, at most ``limit``: ``SCAN`` pages, each
        followed by one pipelined ``HMGET`` per key found (no Lua: a script would block
        the server for the whole walk)."""
        pattern = self._ops.scan_pattern(prefix, limit)
        self._ops.require_open()
        found: dict[str, StoredValue] = {}
        cursor: Any = 0
        while True:  # one deadline per page: the walk itself may take longer
            with self._limits.operation():
                cursor, keys = self._client.scan(cursor, match=pattern, count=SCAN_PAGE)
                if keys:
                    pipe = self._client.pipeline(transaction=False)
                    for key in keys:
                        pipe.hmget(key, "t", "x")
                    fields = pipe.execute()
                    now = self._ops.clock()
                    found.update((v.key, v) for v in self._ops.stored_values(keys, fields, now))
            if int(cursor) == 0 or len(found) >= limit:
                break
        return sorted(found.values(), key=lambda v: v.key)[:limit]


class RedisStore:
    """``redis://``: the async face; ``sync`` is a blocking face on the same data."""

    kind = "redis"

    def __init__(self, url: str, clock: Clock = wall_clock) -> None:
        plain, prefix = split_url(url)
        self._url, self._limits = Limits.from_url(plain)
        self._ops = Operations(prefix, clock)
        self._sync = RedisSyncStore(self._url, prefix, clock, self._limits)
        self._client: Any = None
        self._scripts: dict[str, Any] = {}

    @property
    def sync(self) -> SyncStore:
        """The blocking view of the same data."""
        return self._sync

    async def open(self) -> None:
        """Connect (both faces) and check the server answers."""
        if self._ops.opened:
            return
        redis = _redis()
        self._client = redis.asyncio.Redis(connection_pool=async_pool(self._url, self._limits))
        self._scripts = {name: self._client.register_script(s) for name, s in SCRIPTS.items()}
        self._ops.opened = True
        try:
            await self.ping()
            self._sync.open()
        except BaseException:
            await self.close()  # not half open: a later open() tries again
            raise

    async def close(self) -> None:
        """Close both faces' connections."""
        if self._client is not None:
            await self._client.aclose()
            await self._client.connection_pool.disconnect()
        self._client, self._ops.opened = None, False
        self._sync.close()

    async def ping(self) -> None:
        """Raise :class:`StoreError` unless the server answers."""
        self._ops.require_open()
        with self._limits.operation():
            await self._client.ping()

    async def _run(self, spec: Spec) -> Any:
        self._ops.require_open()
        name, keys, args, convert = spec
        with self._limits.operation():
            result = await self._scripts[name](keys=keys, args=script_args(args))
        return convert(result)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        return int(await self._run(self._ops.incr(key, amount, ttl)))

    async def get(self, key: str) -> int:
        return int(await self._run(self._ops.get(key)))

    async def reserved(self, key: str) -> int:
        return int(await self._run(self._ops.reserved(key)))

    async def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Reservation | None:
        result: Reservation | None = await self._run(
            self._ops.reserve(key, amount, limit, ttl, hold)
        )
        return result

    async def settle(
        self,
        reservation: Reservation,
        actual: int,
        keep: int = 0,
        *,
        spent_total: int | None = None,
    ) -> int:
        return int(await self._run(self._ops.settle(reservation, actual, keep, spent_total)))

    async def release(self, reservation: Reservation) -> None:
        await self._run(self._ops.release(reservation))

    async def set_if_absent(self, key: str, value: Scalar, ttl: float | None = None) -> Scalar:
        result: Scalar = await self._run(self._ops.set_if_absent(key, value, ttl))
        return result

    async def take(self, key: str) -> Scalar | None:
        result: Scalar | None = await self._run(self._ops.take(key))
        return result

    async def push_recent(
        self, key: str, item: str, keep: int, ttl: float | None = None
    ) -> list[str]:
        result: list[str] = await self._run(self._ops.push_recent(key, item, keep, ttl))
        return result

    async def scan_values(self, prefix: str, limit: int) -> list[StoredValue]:
        """See :meth:`RedisSyncStore.scan_values`."""
        pattern = self._ops.scan_pattern(prefix, limit)
        self._ops.require_open()
        found: dict[str, StoredValue] = {}
        cursor: Any = 0
        while True:  # one deadline per page: the walk itself may take longer
            with self._limits.operation():
                cursor, keys = await self._client.scan(cursor, match=pattern, count=SCAN_PAGE)
                if keys:
                    pipe = self._client.pipeline(transaction=False)
                    for key in keys:
                        pipe.hmget(key, "t", "x")
                    fields = await pipe.execute()
                    now = self._ops.clock()
                    found.update((v.key, v) for v in self._ops.stored_values(keys, fields, now))
            if int(cursor) == 0 or len(found) >= limit:
                break
        return sorted(found.values(), key=lambda v: v.key)[:limit]
