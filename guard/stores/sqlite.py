"""``sqlite:///path``: the embedded default. Survives restarts; safe for several worker
processes on one file.

How it stays correct:

- WAL journal, so readers never wait for the writer; ``synchronous=NORMAL`` (a commit
  survives a process crash; a power cut may lose the last commits, never corrupt).
- Every write is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken up front,
  so a check-and-add (``reserve``) can never interleave with another process's and no
  update is lost. Waits for another process's lock use SQLite's busy timeout.
- Within a process, writers queue on a Python lock first, so threads do not poll
  SQLite's busy handler (which sleeps 1, 2, 5... ms between tries).
- One connection per thread (a ``sqlite3`` connection must not be shared while in use);
  a forked child abandons its parent's connections and locks and opens its own.

How async calls reach SQLite (measured with ``./dev bench stores``, figures in
``bench/README.md``): a reserve + settle takes about 0.05 ms inline (median) and about
0.26 ms through ``asyncio.to_thread`` — the hop alone would break issue 18's 0.2 ms
target. A thread only earns its cost when the call would otherwise block the loop on a
lock. So async calls run **inline** while the write lock is free — the common case —
and move to a worker thread only when they would wait: when another thread of this
process holds the write lock, or another process does (the inline attempt uses a zero
busy timeout, so it fails at once instead of blocking the loop, and is rolled back).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal, TypeVar

from guard.stores import _sqlite_ops as ops
from guard.stores._sqlite_ops import (
    Operation,
    incr_operation,
    push_recent_operation,
    reserve_operation,
    set_if_absent_operation,
)
from guard.stores._sqlite_settle import settle_operation
from guard.stores._sqlite_sync import BUSY_TIMEOUT, SQLiteSyncStore, _Busy
from guard.stores.base import Clock, Reservation, Scalar, StoredValue, SyncStore, wall_clock

__all__ = ["BUSY_TIMEOUT", "Offload", "SQLiteStore", "SQLiteSyncStore"]

T = TypeVar("T")
#: ``auto``: inline unless the write lock is taken, then a worker thread (the default);
#: ``inline`` and ``thread``: always one or the other (for benchmarks and comparisons).
Offload = Literal["auto", "inline", "thread"]


class SQLiteStore:
    """``sqlite:///path``: the async face of :class:`SQLiteSyncStore` (see the module
    docstring for how calls reach SQLite without blocking the event loop on a lock)."""

    kind = "sqlite"

    def __init__(
        self,
        path: str | Path,
        clock: Clock = wall_clock,
        *,
        busy_timeout: float = BUSY_TIMEOUT,
        offload: Offload = "auto",
    ) -> None:
        self._sync = SQLiteSyncStore(path, clock, busy_timeout)
        self._offload = offload

    @property
    def path(self) -> Path:
        """The database file."""
        return self._sync.path

    @property
    def sync(self) -> SyncStore:
        """The blocking view of the same data."""
        return self._sync

    async def open(self) -> None:
        """Create the file and tables (in a thread: first open may wait for a lock)."""
        await asyncio.to_thread(self._sync.open)

    async def close(self) -> None:
        """Close every connection."""
        self._sync.close()

    async def ping(self) -> None:
        """See :meth:`SQLiteSyncStore.ping`."""
        self._sync.ping()

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """See :meth:`SQLiteSyncStore.incr`."""
        return await self._write(incr_operation(key, amount, ttl))

    async def get(self, key: str) -> int:
        """See :meth:`SQLiteSyncStore.get`."""
        return self._sync.get(key)

    async def reserved(self, key: str) -> int:
        """See :meth:`SQLiteSyncStore.reserved`."""
        return self._sync.reserved(key)

    async def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Reservation | None:
        """See :meth:`SQLiteSyncStore.reserve`."""
        return await self._write(reserve_operation(key, amount, limit, ttl, hold))

    async def settle(
        self,
        reservation: Reservation,
        actual: int,
        keep: int = 0,
        *,
        spent_total: int | None = None,
    ) -> int:
        """See :meth:`SQLiteSyncStore.settle`."""
        return await self._write(settle_operation(reservation, actual, keep, spent_total))

    async def release(self, reservation: Reservation) -> None:
        """See :meth:`SQLiteSyncStore.release`."""
        await self._write(lambda c, now: ops.drop(c, reservation))

    async def set_if_absent(self, key: str, value: Scalar, ttl: float | None = None) -> Scalar:
        """See :meth:`SQLiteSyncStore.set_if_absent`."""
        return await self._write(set_if_absent_operation(key, value, ttl))

    async def take(self, key: str) -> Scalar | None:
        """See :meth:`SQLiteSyncStore.take`."""
        return await self._write(lambda c, now: ops.take(c, key, now))

    async def push_recent(
        self, key: str, item: str, keep: int, ttl: float | None = None
    ) -> list[str]:
        """See :meth:`SQLiteSyncStore.push_recent`."""
        return await self._write(push_recent_operation(key, item, keep, ttl))

    async def scan_values(self, prefix: str, limit: int) -> list[StoredValue]:
        """See :meth:`SQLiteSyncStore.scan_values` (a WAL read: it never waits for a lock)."""
        return self._sync.scan_values(prefix, limit)

    async def _write(self, operation: Operation[T]) -> T:
        if self._offload != "thread":
            try:
                if self._offload == "inline":
                    return self._sync.write(operation)
                return self._sync.try_write_inline(operation)
            except _Busy:
                pass
        return await asyncio.to_thread(self._sync.write, operation)
