"""The SQL of an SQLite settle (see :mod:`guard.stores._sqlite_ops` for the rest): a plain
settle, a settle with a running total (:mod:`guard.stores._settle_totals`), and a hold
gone past its expiry, which was charged then at its amount (only spend beyond it is
added).
"""

from __future__ import annotations

import sqlite3

from guard.stores._settle_totals import Record, charged_at_expiry, late_part, settle_by_total
from guard.stores._sqlite_ops import _LIVE, Operation, add, charge_expired, drop
from guard.stores.base import Reservation, check_settle


def settle_operation(
    reservation: Reservation, actual: int, keep: int = 0, spent_total: int | None = None
) -> Operation[int]:
    """A ``settle`` ready to run (``keep``: leave that much of the hold in place;
    ``spent_total``: see :mod:`guard.stores._settle_totals`)."""
    check_settle(actual, keep, spent_total)

    def settle(conn: sqlite3.Connection, now: float) -> int:
        if spent_total is not None:
            added = settle_total(conn, reservation, actual, keep, spent_total, now)
            return add(conn, reservation.key, added, reservation.ttl, now)
        kept = (
            keep
            and conn.execute(
                f"UPDATE holds SET amount = :keep WHERE id = :id AND {_LIVE}",
                {"keep": keep, "id": reservation.id, "now": now},
            ).rowcount
        )
        # The common case in one plain DELETE: the hold is there and live.
        present = bool(kept) or bool(
            conn.execute(
                f"DELETE FROM holds WHERE id = :id AND {_LIVE}", {"id": reservation.id, "now": now}
            ).rowcount
        )
        present = present or drop(conn, reservation, now)  # expired: charged here
        if not present:  # rare: charge the key's other expired holds too (one value)
            charge_expired(conn, reservation.key, now)
        added = late_part(reservation, present, actual, now)
        return add(conn, reservation.key, added, reservation.ttl, now)

    return settle


def settle_total(
    conn: sqlite3.Connection,
    reservation: Reservation,
    actual: int,
    keep: int,
    spent_total: int,
    now: float,
) -> int:
    """Apply a settle with a total to the hold and its record; return what to add."""
    found = conn.execute(
        f"SELECT total, final, expires_at FROM settled WHERE id = :id AND {_LIVE}",
        {"id": reservation.id, "now": now},
    ).fetchone()
    hold = conn.execute("SELECT expires_at FROM holds WHERE id = ?", (reservation.id,)).fetchone()
    if hold is not None and hold[0] <= now:
        charge_expired(conn, reservation.key, now)  # expired: charged, then gone
        hold = None
    decided = settle_by_total(
        actual=actual, keep=keep, spent_total=spent_total,
        record=None if found is None else Record(int(found[0]), bool(found[1]), found[2]),
        hold_live=hold is not None, hold_expires_at=reservation.expires_at,
        now=now, charged=charged_at_expiry(reservation, hold is not None, now),
    )  # fmt: skip
    record = decided.record
    if record is None:
        return 0
    if record.final:  # the key's other expired records go with it (bounded per key)
        conn.execute(
            f"DELETE FROM settled WHERE key = :key AND NOT {_LIVE}",
            {"key": reservation.key, "now": now},
        )
    conn.execute(
        "INSERT INTO settled (id, key, total, final, expires_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET total = excluded.total, final = excluded.final,"
        " expires_at = excluded.expires_at",
        (reservation.id, reservation.key, record.total, int(record.final), record.expires_at),
    )
    if decided.keep_hold:
        conn.execute("UPDATE holds SET amount = ? WHERE id = ?", (keep, reservation.id))
    else:
        drop(conn, reservation)
    return decided.add
