"""``memory://``: state in this process only, for tests and single-process use.

One lock guards all data, so the store is safe to share between threads (the sync
transport may run on many). Every operation holds it for microseconds, which is why the
async methods run inline on the event loop instead of hopping to a thread.
"""

from __future__ import annotations

from guard.stores._memory_sync import MemorySyncStore
from guard.stores.base import (
    Clock,
    Reservation,
    Scalar,
    StoredValue,
    SyncStore,
    wall_clock,
)

__all__ = ["MemoryStore", "MemorySyncStore"]


class MemoryStore:
    """``memory://``: the async face of :class:`MemorySyncStore` (calls run inline)."""

    kind = "memory"

    def __init__(self, clock: Clock = wall_clock) -> None:
        self._sync = MemorySyncStore(clock)

    @property
    def sync(self) -> SyncStore:
        """The blocking view of the same data."""
        return self._sync

    async def open(self) -> None:
        """See :meth:`MemorySyncStore.open`."""
        self._sync.open()

    async def close(self) -> None:
        """See :meth:`MemorySyncStore.close`."""
        self._sync.close()

    async def ping(self) -> None:
        """See :meth:`MemorySyncStore.ping`."""
        self._sync.ping()

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """See :meth:`MemorySyncStore.incr`."""
        return self._sync.incr(key, amount, ttl)

    async def get(self, key: str) -> int:
        """See :meth:`MemorySyncStore.get`."""
        return self._sync.get(key)

    async def reserved(self, key: str) -> int:
        """See :meth:`MemorySyncStore.reserved`."""
        return self._sync.reserved(key)

    async def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Reservation | None:
        """See :meth:`MemorySyncStore.reserve`."""
        return self._sync.reserve(key, amount, limit, ttl, hold)

    async def settle(
        self,
        reservation: Reservation,
        actual: int,
        keep: int = 0,
        *,
        spent_total: int | None = None,
    ) -> int:
        """See :meth:`MemorySyncStore.settle`."""
        return self._sync.settle(reservation, actual, keep, spent_total=spent_total)

    async def release(self, reservation: Reservation) -> None:
        """See :meth:`MemorySyncStore.release`."""
        self._sync.release(reservation)

    async def set_if_absent(self, key: str, value: Scalar, ttl: float | None = None) -> Scalar:
        """See :meth:`MemorySyncStore.set_if_absent`."""
        return self._sync.set_if_absent(key, value, ttl)

    async def take(self, key: str) -> Scalar | None:
        """See :meth:`MemorySyncStore.take`."""
        return self._sync.take(key)

    async def push_recent(
        self, key: str, item: str, keep: int, ttl: float | None = None
    ) -> list[str]:
        """See :meth:`MemorySyncStore.push_recent`."""
        return self._sync.push_recent(key, item, keep, ttl)

    async def scan_values(self, prefix: str, limit: int) -> list[StoredValue]:
        """See :meth:`MemorySyncStore.scan_values`."""
        return self._sync.scan_values(prefix, limit)
