"""The blocking ``memory://`` store: one lock, dictionaries, expiry and holds.

See :mod:`guard.stores.memory` for why one lock and inline async calls are enough.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace

from guard.stores._memory_tables import Entry, MemoryTables, Recent
from guard.stores._settle_totals import (
    RecordTable,
    late_part,
)
from guard.stores.base import (
    SWEEP_EVERY,
    Clock,
    Reservation,
    Scalar,
    StoredValue,
    StoreError,
    check_amounts,
    check_item,
    check_key,
    check_scan,
    check_settle,
    expiry,
    wall_clock,
)


class MemorySyncStore(MemoryTables):
    """The blocking implementation; :class:`MemoryStore` is its async face."""

    def __init__(self, clock: Clock = wall_clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counters = {}
        self._values = {}
        self._recent = {}
        self._holds = {}
        self._records = RecordTable()
        self._ids = itertools.count(1)
        self._writes = 0
        self._open = False

    def open(self) -> None:
        """Mark the store usable (there is nothing to connect to)."""
        self._open = True

    def close(self) -> None:
        """Mark the store closed; the data stays until the process ends."""
        self._open = False

    def ping(self) -> None:
        """Raise :class:`StoreError` when the store is not open."""
        self._require_open()

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add to a counter; ``ttl`` applies when the counter is created."""
        check_key(key)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError("a store amount must be an integer")
        check_amounts(0, ttl)
        with self._lock:
            self._require_open()
            return self._add(key, amount, ttl, self._clock())

    def get(self, key: str) -> int:
        """The counter's value, 0 when absent or expired."""
        with self._lock:
            self._require_open()
            now = self._clock()
            self._held(key, now)  # charges expired holds first
            entry = self._live(self._counters, key, now)
            return int(entry.value) if entry else 0

    def reserved(self, key: str) -> int:
        """The sum of live reservations on ``key``."""
        with self._lock:
            self._require_open()
            return self._held(key, self._clock())

    def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Reservation | None:
        """Hold ``amount`` if it fits under ``limit``; see :class:`SyncStore`."""
        check_key(key)
        check_amounts(amount, ttl, hold)
        with self._lock:
            self._require_open()
            now = self._clock()
            held = self._held(key, now)  # first: charges expired holds to the counter
            entry = self._live(self._counters, key, now)
            if entry is None:  # so that a hold expiring unsettled has a window to charge
                entry = self._counters[key] = Entry(0, expiry(now, ttl))
            if int(entry.value) + held + amount > limit:
                return None
            reservation = Reservation(
                key=key, id=f"m{next(self._ids)}", amount=amount, expires_at=now + hold, ttl=ttl
            )
            self._holds.setdefault(key, {})[reservation.id] = reservation
            return reservation

    def settle(
        self,
        reservation: Reservation,
        actual: int,
        keep: int = 0,
        *,
        spent_total: int | None = None,
    ) -> int:
        """Drop the hold (or keep ``keep`` of it) and add what was actually spent (with
        ``spent_total``: what this reservation's record says is not added yet)."""
        check_settle(actual, keep, spent_total)
        with self._lock:
            self._require_open()
            now = self._clock()
            hold = self._live_hold(reservation, now)
            if spent_total is not None:
                added = self._settle_total(reservation, hold, actual, keep, spent_total, now)
                return self._add(reservation.key, added, reservation.ttl, now)
            present = hold is not None
            if keep and hold is not None:
                self._holds[reservation.key][reservation.id] = replace(hold, amount=keep)
            else:
                self._drop(reservation)
            added = late_part(reservation, present, actual, now)
            return self._add(reservation.key, added, reservation.ttl, now)

    def release(self, reservation: Reservation) -> None:
        """Drop the hold; nothing is spent."""
        with self._lock:
            self._require_open()
            self._drop(reservation)

    def set_if_absent(self, key: str, value: Scalar, ttl: float | None = None) -> Scalar:
        """Store ``value`` unless a live value exists; return the stored one."""
        check_key(key)
        check_item(value)
        check_amounts(0, ttl)
        with self._lock:
            self._require_open()
            now = self._clock()
            entry = self._live(self._values, key, now)
            if entry is None:
                entry = self._values[key] = Entry(value, expiry(now, ttl))
            return entry.value

    def take(self, key: str) -> Scalar | None:
        """Remove and return the live value at ``key``."""
        with self._lock:
            self._require_open()
            entry = self._live(self._values, key, self._clock())
            if entry is None:
                return None
            del self._values[key]
            return entry.value

    def push_recent(self, key: str, item: str, keep: int, ttl: float | None = None) -> list[str]:
        """Append ``item``, keep the newest ``keep``, return them oldest first."""
        check_key(key)
        check_item(item)
        check_amounts(0, ttl)
        if keep < 1:
            raise ValueError("push_recent must keep at least one item")
        with self._lock:
            self._require_open()
            now = self._clock()
            recent = self._recent.get(key)
            if recent is None or (recent.expires_at is not None and recent.expires_at <= now):
                recent = self._recent[key] = Recent()
            recent.items.append(item)
            while len(recent.items) > keep:
                recent.items.popleft()
            recent.expires_at = expiry(now, ttl)
            return list(recent.items)

    def scan_values(self, prefix: str, limit: int) -> list[StoredValue]:
        """The live values under ``prefix``, by key, at most ``limit``."""
        check_scan(prefix, limit)
        with self._lock:
            self._require_open()
            now = self._clock()
            keys = sorted(k for k in self._values if k.startswith(prefix))
            found: list[StoredValue] = []
            for key in keys:
                entry = self._live(self._values, key, now)
                if entry is not None:
                    found.append(StoredValue(key, entry.value, entry.expires_at))
                    if len(found) == limit:
                        break
            return found

    # -- helpers; the caller holds the lock ------------------------------------------

    def _require_open(self) -> None:
        if not self._open:
            raise StoreError("the memory state store is not open; open it at start-up")
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self._sweep(self._clock())
