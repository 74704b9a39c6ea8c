"""The blocking SQLite store: connections per thread, write transactions, errors.

See :mod:`guard.stores.sqlite` for the design (WAL, ``BEGIN IMMEDIATE``, how async
calls reach it); :mod:`guard.stores._sqlite_ops` holds the SQL.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from functools import partial
from pathlib import Path
from typing import TypeVar

from guard.stores import _sqlite_ops as ops
from guard.stores._sqlite_ops import (
    Operation,
    incr_operation,
    push_recent_operation,
    reserve_operation,
    scan_values_operation,
    set_if_absent_operation,
)
from guard.stores._sqlite_settle import settle_operation
from guard.stores.base import (
    SWEEP_EVERY,
    Clock,
    Reservation,
    Scalar,
    StoredValue,
    StoreError,
    wall_clock,
)

T = TypeVar("T")

#: How long a write waits for another process's lock before failing (seconds).
BUSY_TIMEOUT = 5.0


class _Busy(Exception):
    """An inline attempt would have had to wait for the write lock."""


class _ThreadConnection:
    """Holds one thread's connection. The store tracks holders weakly: when a thread
    ends, its holder and connection are freed (and closed) without waiting for close()."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class SQLiteSyncStore:
    """The blocking implementation; :class:`SQLiteStore` is its async face."""

    def __init__(
        self, path: str | Path, clock: Clock = wall_clock, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._write_lock = threading.Lock()
        self._registry_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._connections: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._local = threading.local()
        self._writes = 0
        self._open = False
        # A connection or a held lock must not cross fork(): a child starts afresh.
        os.register_at_fork(after_in_child=partial(_forget_parent_in_child, weakref.ref(self)))

    def _forget_parent(self) -> None:
        """In a forked child: abandon (never close: that would drop the parent's file
        locks) the parent's connections, and start with fresh locks."""
        self._write_lock = threading.Lock()
        self._registry_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._abandoned = list(self._connections)  # kept referenced: never finalised here
        self._connections = weakref.WeakSet()
        self._local = threading.local()

    # -- lifecycle ------------------------------------------------------------------

    def open(self) -> None:
        """Create the file and tables if missing, switch to WAL, purge expired rows."""
        with self._open_lock:
            if self._open:
                return
            try:
                conn = self._connection(patient=True, opening=True)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(ops.SCHEMA)
                with self._write_lock:
                    self._transaction(conn, lambda c, now: ops.sweep(c, now))
                self._open = True  # only now: no call may see a file without tables
            except BaseException as exc:
                self.close()
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from None
                raise

    def close(self) -> None:
        """Close every thread's connection; :meth:`open` may be called again."""
        with self._registry_lock:
            self._open = False
            for held in list(self._connections):
                held.conn.close()
            self._connections.clear()
            self._local = threading.local()

    def ping(self) -> None:
        """Run a trivial query; raise :class:`StoreError` if the file is unusable."""
        self._read(lambda c, now: c.execute("SELECT count(*) FROM counters").fetchone())

    # -- operations -----------------------------------------------------------------

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add to a counter; ``ttl`` applies when the counter is created."""
        return self.write(incr_operation(key, amount, ttl))

    def get(self, key: str) -> int:
        """The counter's value, 0 when absent or expired."""
        return self._read(lambda c, now: ops.counter(c, key, now))

    def reserved(self, key: str) -> int:
        """The sum of live reservations on ``key``."""
        return self._read(lambda c, now: ops.held(c, key, now))

    def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Reservation | None:
        """Hold ``amount`` if it fits under ``limit``; see :class:`SyncStore`."""
        return self.write(reserve_operation(key, amount, limit, ttl, hold))

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
        return self.write(settle_operation(reservation, actual, keep, spent_total))

    def release(self, reservation: Reservation) -> None:
        """Drop the hold; nothing is spent."""
        self.write(lambda c, now: ops.drop(c, reservation))

    def set_if_absent(self, key: str, value: Scalar, ttl: float | None = None) -> Scalar:
        """Store ``value`` unless a live value exists; return the stored one."""
        return self.write(set_if_absent_operation(key, value, ttl))

    def take(self, key: str) -> Scalar | None:
        """Remove and return the live value at ``key``."""
        return self.write(lambda c, now: ops.take(c, key, now))

    def push_recent(self, key: str, item: str, keep: int, ttl: float | None = None) -> list[str]:
        """Append ``item``, keep the newest ``keep``, return them oldest first."""
        return self.write(push_recent_operation(key, item, keep, ttl))

    def scan_values(self, prefix: str, limit: int) -> list[StoredValue]:
        """The live values under ``prefix``, by key, at most ``limit`` (a read)."""
        return self._read(scan_values_operation(prefix, limit))

    # -- running operations ---------------------------------------------------------

    def write(self, operation: Operation[T]) -> T:
        """Run ``operation`` in a write transaction, waiting for the lock if needed."""
        with self._write_lock:
            return self._transaction(self._connection(patient=True), operation)

    def try_write_inline(self, operation: Operation[T]) -> T:
        """Run ``operation`` only if the write lock is free right now; raise ``_Busy``
        instead of waiting (the event loop must not block on a lock)."""
        if not self._write_lock.acquire(blocking=False):
            raise _Busy
        try:
            return self._transaction(self._connection(patient=False), operation, inline=True)
        finally:
            self._write_lock.release()

    def _read(self, operation: Operation[T]) -> T:
        """Run a read in autocommit (WAL readers do not wait for writers)."""
        try:
            return operation(self._connection(patient=True), self._clock())
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _transaction(
        self, conn: sqlite3.Connection, operation: Operation[T], *, inline: bool = False
    ) -> T:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if inline and exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                raise _Busy from None
            raise self._error(exc) from None
        try:
            now = self._clock()
            result = operation(conn, now)
            self._writes += 1
            if self._writes % SWEEP_EVERY == 0:
                ops.sweep(conn, now)
            conn.execute("COMMIT")
            return result
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):  # a broken connection: nothing to undo
                conn.execute("ROLLBACK")
            if inline and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
                raise _Busy from None  # rolled back: safe to run again in a thread
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from None
            raise

    def _connection(self, *, patient: bool, opening: bool = False) -> sqlite3.Connection:
        """This thread's connection: ``patient`` ones wait up to the busy timeout for
        another process's lock, the other (used inline on an event loop) never waits."""
        if not (self._open or opening):
            raise StoreError(f"the SQLite state store at {self.path} is not open")
        local = self._local
        name = "patient" if patient else "fast"
        held: _ThreadConnection | None = getattr(local, name, None)
        if held is None:
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=self._busy_timeout if patient else 0.0,
                    isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
                    check_same_thread=False,  # only so close() may close it from elsewhere
                )
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise self._error(exc) from None
            held = _ThreadConnection(conn)
            with self._registry_lock:
                self._connections.add(held)
            setattr(local, name, held)
        return held.conn

    def _error(self, exc: sqlite3.Error) -> StoreError:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
            return StoreError(
                f"the SQLite state store at {self.path} stayed locked by another process for"
                f" more than {self._busy_timeout:g} s; check for a stuck guardwire process"
            )
        return StoreError(
            f"the SQLite state store at {self.path} failed ({type(exc).__name__});"
            " check that the file is a guardwire state database and the disk is writable"
        )


def _forget_parent_in_child(store: weakref.ref[SQLiteSyncStore]) -> None:
    alive = store()
    if alive is not None:
        alive._forget_parent()
