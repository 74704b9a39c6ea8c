"""How a store applies ``settle(..., spent_total=N)`` (see :meth:`SyncStore.settle`),
shared by the memory and SQLite stores; the Redis store's Lua script
(:data:`guard.stores._redis_lua.SETTLE_TOTAL`) does the same steps.

Per reservation the store keeps a **record**: the total spend it has added for it, and
whether the final write (``keep=0``) came. The record is separate from the hold, so it
never counts as reserved room and lives on after the hold is dropped: until
:data:`~guard.stores.base.REPLAY_SECONDS` after the final write, or after the hold's
expiry (or the last write, if later) for a lease that never wrote its final one.

A hold gone past its expiry was charged at its amount when the store dropped it (see
:meth:`~guard.stores.base.SyncStore.reserve`): a late write adds only spend beyond the
reservation's amount. For a lease whose hold shrank before it expired, that can leave
spend beyond what it held then uncounted (a process that could not write for longer than
a hold, 15 minutes, and then spent more than the room it had kept).
"""

from __future__ import annotations

from dataclasses import dataclass

from guard.stores.base import REPLAY_SECONDS, Reservation


@dataclass(frozen=True, slots=True)
class Record:
    """The total spend a store added for one reservation, as of its last write."""

    total: int
    final: bool
    expires_at: float


@dataclass(frozen=True, slots=True)
class TotalSettle:
    """What one settle with a total does, decided from what the store holds."""

    #: Added to the counter (0 for a replay or an older write).
    add: int
    #: ``None``: leave the hold and the record as they are (a replay or an older write).
    record: Record | None
    #: Set the hold's amount to ``keep`` (else drop the hold), when ``record`` is set.
    keep_hold: bool


def settle_by_total(
    *,
    actual: int,
    keep: int,
    spent_total: int,
    record: Record | None,
    hold_live: bool,
    hold_expires_at: float,
    now: float,
    charged: int = 0,
) -> TotalSettle:
    """Decide a settle carrying ``spent_total``; ``record`` must be live at ``now``.
    ``charged``: what the store charged for the hold when it expired (the reservation's
    amount when its hold is gone past its expiry, else 0): only spend beyond it is added."""
    if record is not None and (record.final or spent_total < record.total):
        return TotalSettle(0, None, keep_hold=False)
    if record is not None:
        add = max(spent_total - record.total - charged, 0)
    elif hold_live:
        add = spent_total  # nothing written for this reservation yet
    else:
        add = max(actual - charged, 0)  # forgotten (expired): the unconfirmed part
    final = keep == 0
    lasts = now if final else max(hold_expires_at, now)
    return TotalSettle(
        add, Record(spent_total, final, lasts + REPLAY_SECONDS), keep > 0 and hold_live
    )


def charged_at_expiry(reservation: Reservation, present: bool, now: float) -> int:
    """What the store charged for ``reservation``'s hold when it expired unsettled: its
    amount when the hold is gone (``present`` false) past its expiry, else 0."""
    return reservation.amount if not present and reservation.expires_at <= now else 0


def late_part(reservation: Reservation, present: bool, actual: int, now: float) -> int:
    """What a plain settle adds: all of ``actual``, or only what passes the reservation
    when its hold is gone past its expiry (charged then at the reserved amount)."""
    return max(actual - charged_at_expiry(reservation, present, now), 0)


class RecordTable:
    """The records of the memory store, by counter key and reservation id; expired ones
    are forgotten when their key is touched or at a sweep."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, Record]] = {}

    def live(self, key: str, reservation_id: str, now: float) -> Record | None:
        """The live record of a reservation on ``key`` (forgetting the key's expired ones)."""
        records = self._by_key.get(key)
        if records is None:
            return None
        for expired in [i for i, r in records.items() if r.expires_at <= now]:
            del records[expired]
        if not records:
            del self._by_key[key]
        return records.get(reservation_id)

    def put(self, key: str, reservation_id: str, record: Record) -> None:
        """Record (or replace) what was added for a reservation."""
        self._by_key.setdefault(key, {})[reservation_id] = record

    def sweep(self, now: float) -> None:
        """Forget every expired record."""
        for key in list(self._by_key):
            self.live(key, "", now)
