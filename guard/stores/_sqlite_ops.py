"""The SQL of the SQLite store: one function per store operation, run inside a write
transaction that the caller opened with ``BEGIN IMMEDIATE`` (so check-and-add is atomic
across threads and processes) or, for reads, in autocommit.

Expired rows are ignored by every query and purged lazily: per key when it is touched,
and across all tables every :data:`~guard.stores.base.SWEEP_EVERY` writes.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from guard.stores.base import (
    Reservation,
    Scalar,
    StoredValue,
    check_amounts,
    check_item,
    check_key,
    check_scan,
    expiry,
)

T = TypeVar("T")
#: An operation: runs in a transaction (or autocommit, for reads) at time ``now``.
Operation = Callable[[sqlite3.Connection, float], T]

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS holds (
    id TEXT PRIMARY KEY, key TEXT NOT NULL, amount INTEGER NOT NULL, expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS holds_by_key ON holds (key);
-- "value" has no declared type on purpose: no affinity, so 7, 7.5 and '7' stay as given.
CREATE TABLE IF NOT EXISTS first_values (
    key TEXT PRIMARY KEY, value, expires_at REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recent (
    key TEXT PRIMARY KEY, items TEXT NOT NULL, expires_at REAL
) WITHOUT ROWID;
-- What settles with a total added per reservation (guard.stores._settle_totals); apart
-- from holds, so it never counts as reserved room (and older files gain it on open).
CREATE TABLE IF NOT EXISTS settled (
    id TEXT PRIMARY KEY, key TEXT NOT NULL, total INTEGER NOT NULL, final INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS settled_by_key ON settled (key);
"""

_LIVE = "(expires_at IS NULL OR expires_at > :now)"


def sweep(conn: sqlite3.Connection, now: float) -> None:
    """Delete every expired row (expired holds charged first: see :func:`charge_expired`)."""
    conn.execute(
        "UPDATE counters SET value = value + (SELECT SUM(h.amount) FROM holds h"
        f"  WHERE h.key = counters.key AND NOT (h.expires_at > :now))"
        f" WHERE {_LIVE} AND key IN (SELECT key FROM holds WHERE NOT (expires_at > :now))",
        {"now": now},
    )
    for table in ("counters", "holds", "first_values", "recent", "settled"):
        conn.execute(f"DELETE FROM {table} WHERE NOT {_LIVE}", {"now": now})


def add(conn: sqlite3.Connection, key: str, amount: int, ttl: float | None, now: float) -> int:
    """Add to a counter, restarting it (with a fresh expiry) if it had expired."""
    row = conn.execute(
        "INSERT INTO counters (key, value, expires_at) VALUES (:key, :amount, :exp)"
        " ON CONFLICT (key) DO UPDATE SET"
        f"  value = CASE WHEN {_LIVE} THEN value + :amount ELSE :amount END,"
        f"  expires_at = CASE WHEN {_LIVE} THEN expires_at ELSE :exp END"
        " RETURNING value",
        {"key": key, "amount": amount, "exp": expiry(now, ttl), "now": now},
    ).fetchone()
    return int(row[0])


def counter(conn: sqlite3.Connection, key: str, now: float) -> int:
    """A counter's live value, 0 when absent or expired; with the expired holds not yet
    charged to it (:func:`charge_expired`), as a read cannot delete them."""
    row = conn.execute(
        "SELECT value + (SELECT COALESCE(SUM(amount), 0) FROM holds"
        f"  WHERE key = :key AND NOT {_LIVE})"
        f" FROM counters WHERE key = :key AND {_LIVE}",
        {"key": key, "now": now},
    ).fetchone()
    return int(row[0]) if row else 0


def held(conn: sqlite3.Connection, key: str, now: float) -> int:
    """The sum of live reservations on ``key``."""
    row = conn.execute(
        f"SELECT COALESCE(SUM(amount), 0) FROM holds WHERE key = :key AND {_LIVE}",
        {"key": key, "now": now},
    ).fetchone()
    return int(row[0])


def reserve(
    conn: sqlite3.Connection,
    key: str,
    amount: int,
    limit: int,
    ttl: float | None,
    hold: float,
    now: float,
) -> Reservation | None:
    """Insert a hold if counter + live holds + amount stays within ``limit``."""
    # One read for the live and the expired holds (RETURNING costs ~8 us a statement).
    live, expired = conn.execute(
        f"SELECT COALESCE(SUM(CASE WHEN {_LIVE} THEN amount END), 0),"
        f" SUM(CASE WHEN NOT {_LIVE} THEN amount END) FROM holds WHERE key = :key",
        {"key": key, "now": now},
    ).fetchone()
    if expired is not None:
        charge_expired(conn, key, now)
    row = conn.execute(
        f"SELECT value FROM counters WHERE key = :key AND {_LIVE}", {"key": key, "now": now}
    ).fetchone()
    # Created when absent (with its window's expiry): a hold that expires unsettled
    # always has a counter to be charged to.
    used = int(row[0]) if row else add(conn, key, 0, ttl, now)
    if used + int(live) + amount > limit:
        return None
    reservation = Reservation(
        key=key, id=secrets.token_hex(8), amount=amount, expires_at=now + hold, ttl=ttl
    )
    conn.execute(
        "INSERT INTO holds (id, key, amount, expires_at) VALUES (?, ?, ?, ?)",
        (reservation.id, key, amount, reservation.expires_at),
    )
    return reservation


def charge_expired(conn: sqlite3.Connection, key: str, now: float) -> None:
    """Delete ``key``'s expired holds and add their amounts to its live counter: a hold
    unsettled at its expiry (its process died, or could not reach the store) is charged
    at what it held, never given back as if nothing was spent."""
    rows = conn.execute(
        f"DELETE FROM holds WHERE key = :key AND NOT {_LIVE} RETURNING amount",
        {"key": key, "now": now},
    ).fetchall()
    if rows:
        conn.execute(
            f"UPDATE counters SET value = value + :amount WHERE key = :key AND {_LIVE}",
            {"amount": sum(int(row[0]) for row in rows), "key": key, "now": now},
        )


def drop(conn: sqlite3.Connection, reservation: Reservation, now: float | None = None) -> bool:
    """Delete a hold; whether it was live. Given ``now``, an expired one is charged (as
    :func:`charge_expired` would), so that a hold gone past its expiry was charged."""
    if now is None:  # a plain DELETE: RETURNING costs ~8 us a statement
        return bool(conn.execute("DELETE FROM holds WHERE id = ?", (reservation.id,)).rowcount)
    found = conn.execute(
        "DELETE FROM holds WHERE id = ? RETURNING amount, expires_at", (reservation.id,)
    ).fetchone()
    if found is None:
        return False
    if now is None or found[1] > now:
        return True
    conn.execute(
        f"UPDATE counters SET value = value + :amount WHERE key = :key AND {_LIVE}",
        {"amount": int(found[0]), "key": reservation.key, "now": now},
    )
    return False


def set_if_absent(
    conn: sqlite3.Connection, key: str, value: Scalar, ttl: float | None, now: float
) -> Scalar:
    """Store ``value`` unless a live one exists; return the stored value."""
    row = conn.execute(
        "INSERT INTO first_values (key, value, expires_at) VALUES (:key, :value, :exp)"
        " ON CONFLICT (key) DO UPDATE SET"
        f"  value = CASE WHEN {_LIVE} THEN value ELSE :value END,"
        f"  expires_at = CASE WHEN {_LIVE} THEN expires_at ELSE :exp END"
        " RETURNING value",
        {"key": key, "value": value, "exp": expiry(now, ttl), "now": now},
    ).fetchone()
    stored: Scalar = row[0]
    return stored


def take(conn: sqlite3.Connection, key: str, now: float) -> Scalar | None:
    """Delete the value at ``key`` and return it if it was live."""
    row = conn.execute(
        "DELETE FROM first_values WHERE key = :key RETURNING value, expires_at", {"key": key}
    ).fetchone()
    if row is None or (row[1] is not None and row[1] <= now):
        return None
    taken: Scalar = row[0]
    return taken


def push_recent(
    conn: sqlite3.Connection, key: str, item: str, keep: int, ttl: float | None, now: float
) -> list[str]:
    """Append to a bounded list (stored as one JSON array) and renew its expiry."""
    row = conn.execute(
        f"SELECT items FROM recent WHERE key = :key AND {_LIVE}", {"key": key, "now": now}
    ).fetchone()
    items: list[str] = json.loads(row[0]) if row else []
    items.append(item)
    del items[:-keep]
    conn.execute(
        "INSERT INTO recent (key, items, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET items = excluded.items, expires_at = excluded.expires_at",
        (key, json.dumps(items), expiry(now, ttl)),
    )
    return items


def scan_values(conn: sqlite3.Connection, prefix: str, limit: int, now: float) -> list[StoredValue]:
    """Live values whose key starts with ``prefix``: a range over the primary key (no
    LIKE, so ``%`` and ``_`` in a prefix are plain characters)."""
    rows = conn.execute(
        "SELECT key, value, expires_at FROM first_values"
        f" WHERE key >= :low AND key < :high AND {_LIVE} ORDER BY key LIMIT :limit",
        {"low": prefix, "high": prefix + _LAST_CHARACTER, "now": now, "limit": limit},
    ).fetchall()
    return [StoredValue(key, value, expires_at) for key, value, expires_at in rows]


#: Sorts after every character a key may hold (keys compare as UTF-8 bytes).
_LAST_CHARACTER = "\U0010ffff"


def scan_values_operation(prefix: str, limit: int) -> Operation[list[StoredValue]]:
    """A ``scan_values`` ready to run (a read)."""
    check_scan(prefix, limit)
    return lambda c, now: scan_values(c, prefix, limit, now)


# Operations are built (and their arguments validated) in the caller's thread, then run
# in whichever thread and transaction the async path picks.


def incr_operation(key: str, amount: int, ttl: float | None) -> Operation[int]:
    """An ``incr`` ready to run."""
    check_key(key)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError("a store amount must be an integer")
    check_amounts(0, ttl)
    return lambda c, now: add(c, key, amount, ttl, now)


def reserve_operation(
    key: str, amount: int, limit: int, ttl: float | None, hold: float
) -> Operation[Reservation | None]:
    """A ``reserve`` ready to run."""
    check_key(key)
    check_amounts(amount, ttl, hold)
    return lambda c, now: reserve(c, key, amount, limit, ttl, hold, now)


def set_if_absent_operation(key: str, value: Scalar, ttl: float | None) -> Operation[Scalar]:
    """A ``set_if_absent`` ready to run."""
    check_key(key)
    check_item(value)
    check_amounts(0, ttl)
    return lambda c, now: set_if_absent(c, key, value, ttl, now)


def push_recent_operation(
    key: str, item: str, keep: int, ttl: float | None
) -> Operation[list[str]]:
    """A ``push_recent`` ready to run."""
    check_key(key)
    check_item(item)
    check_amounts(0, ttl)
    if keep < 1:
        raise ValueError("push_recent must keep at least one item")
    return lambda c, now: push_recent(c, key, item, keep, ttl, now)
