"""The ``memory://`` store's tables and what reads them under its lock: entries that
expire, holds charged at their expiry, settlement by total (a part of
:class:`~guard.stores._memory_sync.MemorySyncStore`; every method here expects the
caller to hold the store's lock)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from guard.stores._settle_totals import RecordTable, charged_at_expiry, settle_by_total
from guard.stores.base import Reservation, Scalar, expiry


@dataclass(slots=True)
class Entry:
    value: Scalar
    expires_at: float | None


@dataclass(slots=True)
class Recent:
    items: deque[str] = field(default_factory=deque)
    expires_at: float | None = None


class MemoryTables:
    """The tables of a :class:`MemorySyncStore` and their helpers."""

    _counters: dict[str, Entry]
    _values: dict[str, Entry]
    _recent: dict[str, Recent]
    #: key -> reservation id -> reservation
    _holds: dict[str, dict[str, Reservation]]
    #: What settles with a total have added, per reservation.
    _records: RecordTable

    def _sweep(self, now: float) -> None:
        """Forget expired entries of keys nobody touches any more (old windows, ended
        sessions), so memory stays bounded by the live state."""
        for table in (self._counters, self._values):
            for key in [
                k for k, e in table.items() if e.expires_at is not None and e.expires_at <= now
            ]:
                del table[key]
        for key in [
            k for k, r in self._recent.items() if r.expires_at is not None and r.expires_at <= now
        ]:
            del self._recent[key]
        for key in list(self._holds):
            self._held(key, now)
            if not self._holds[key]:
                del self._holds[key]
        self._records.sweep(now)

    @staticmethod
    def _live(table: dict[str, Entry], key: str, now: float) -> Entry | None:
        entry = table.get(key)
        if entry is not None and entry.expires_at is not None and entry.expires_at <= now:
            del table[key]
            return None
        return entry

    def _add(self, key: str, amount: int, ttl: float | None, now: float) -> int:
        entry = self._live(self._counters, key, now)
        if entry is None:
            entry = self._counters[key] = Entry(0, expiry(now, ttl))
        entry.value = int(entry.value) + amount
        return entry.value

    def _held(self, key: str, now: float) -> int:
        holds = self._holds.get(key)
        if not holds:
            return 0
        for expired in [r for r in holds.values() if r.expires_at <= now]:
            # Unsettled at its expiry (its process died, or could not reach the store):
            # charged at what it held, never given back as if nothing was spent.
            del holds[expired.id]
            self._charge_expired(expired, now)
        return sum(r.amount for r in holds.values())

    def _live_hold(self, reservation: Reservation, now: float) -> Reservation | None:
        """The reservation's hold if live; an expired one is charged now (see :meth:`_held`)
        and dropped, so that a hold gone past its expiry has always been charged."""
        holds = self._holds.get(reservation.key)
        hold = holds.get(reservation.id) if holds else None
        if hold is not None and hold.expires_at <= now:
            self._drop(hold)
            self._charge_expired(hold, now)
            return None
        return hold

    def _charge_expired(self, hold: Reservation, now: float) -> None:
        """Charge a hold dropped unsettled at its expiry at its amount (see :meth:`_held`)."""
        entry = self._live(self._counters, hold.key, now)
        if entry is not None:
            entry.value = int(entry.value) + hold.amount

    def _settle_total(
        self,
        reservation: Reservation,
        hold: Reservation | None,
        actual: int,
        keep: int,
        spent_total: int,
        now: float,
    ) -> int:
        decided = settle_by_total(
            actual=actual, keep=keep, spent_total=spent_total,
            record=self._records.live(reservation.key, reservation.id, now),
            hold_live=hold is not None,
            hold_expires_at=reservation.expires_at, now=now,
            charged=charged_at_expiry(reservation, hold is not None, now),
        )  # fmt: skip
        if decided.record is not None:
            self._records.put(reservation.key, reservation.id, decided.record)
            if decided.keep_hold and hold is not None:
                self._holds[reservation.key][reservation.id] = replace(hold, amount=keep)
            else:
                self._drop(reservation)
        return decided.add

    def _drop(self, reservation: Reservation) -> None:
        holds = self._holds.get(reservation.key)
        if holds is not None:
            holds.pop(reservation.id, None)
            if not holds:
                del self._holds[reservation.key]
