"""Per-process allocation leases: most budgeted calls reserve and settle in memory.

Two write transactions per call (reserve, settle) cost a proxy on SQLite about half its
throughput. A process that serves a budget instead takes a **lease**: one ordinary
store reservation for the room its key is expected to ask for until the next flush
(:mod:`guard.checks._budget_demand`; never more than :data:`LEASE_CALLS` calls like the
one that asked, nor 1/:data:`LEASE_SHARE` of the limit), granted by the store's atomic
check-and-add like any reservation. Calls then carve their reservations out of the
lease in memory, and settle into it in memory. A key asking for one call's room per
interval reserves exactly, per call.

Why the ceiling stays exact: the store counts the whole lease as reserved until it is
settled, so counter + every hold in the store (leases included) never passes the limit,
and a call only ever gets room its lease was granted. Every :data:`FLUSH_SECONDS` a
background task writes each lease's spend with one ``settle(lease, spent, keep=...)``
(spend added and hold shrunk in one atomic step); a lease idle since the last flush, or
older than :data:`LEASE_SECONDS`, stops lending and gives its unused room back. When a
lease cannot be had (the budget is nearly used up), the process gives back its own
unused room and reserves the call's exact amount, as without leases.

A failed write is sent again by the next flush, yet it may have been applied: so writes
carry the lease's running total and the store adds only what it has not recorded
(:mod:`guard.checks._budget_lease_writes`).

What it costs: ``guardwire budgets`` shows leased room as reserved; the spend of the last
:data:`FLUSH_SECONDS` reaches the store late (a graceful shutdown writes it:
:func:`close_leases`; a killed process loses it, as it loses its calls in flight), and a
killed process's lease stays reserved until its hold expires, and is then charged at
what it held (the store cannot tell the room its calls used from the room it kept):
its calls in flight, and the room of the calls expected before the next flush that
did not come. Sizing leases by demand keeps that last part small (measured: under one
call reservation on average up to 3 calls per key per flush interval and process,
about 4 at 8; before, about 8 at any rate); making it always less than one call would
take a store write per call, which leases exist to avoid.
Leases are switched on per store by its owner (the proxy, which flushes at shutdown);
other users reserve per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guard.checks._budget_demand import Demand
from guard.checks._budget_lease_writes import Lease, write_lease
from guard.checks._budget_retries import SHUTDOWN_SECONDS, Pending, pending_for, shut_down
from guard.stores.base import Reservation, StoreError

log = logging.getLogger("guardwire")

#: A lease holds the room of this many calls like the one that takes it...
LEASE_CALLS = 16
#: ...but never more than this share of the limit (1/N), so leases left idle in other
#: processes leave most of a budget to whoever needs it.
LEASE_SHARE = 16
#: A lease lends for at most this long; then a fresh one is taken (its hold expiry is the
#: call hold plus this, so every call carved from it is held as long as a call's own).
LEASE_SECONDS = 2.0
#: How often spend is written to the store and idle room given back.
FLUSH_SECONDS = 0.1


@dataclass(eq=False, slots=True)
class Carved:
    """A call's reservation carved out of a lease (settled into the lease)."""

    book: LeaseBook
    lease: Lease
    amount: int


class LeaseBook:
    """The leases of one process on one store."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._lending: dict[str, Lease] = {}
        #: Every lease still held in the store, by counter key.
        self._leases: dict[str, list[Lease]] = {}
        #: The counter's value when this process last wrote to it (for the gauge).
        self._values: dict[str, int] = {}
        #: What each key asked for lately: the next lease's size.
        self.demand = Demand(time.monotonic())
        self._flusher: asyncio.Task[None] | None = None
        self._sleeping = False
        self._failing = False
        self.closed = False
        #: Called on each failed background write (the budget check counts it in
        #: ``guardwire_store_errors_total``).
        self.on_store_error: Callable[[], None] | None = None
        #: Called per lease given up at shutdown (``abandoned`` in the retries metric).
        self.on_abandoned: Callable[[], None] | None = None

    async def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Carved | Reservation | None:
        """Carve ``amount`` from this process's lease on ``key``, taking a new lease when
        needed; near the limit, an exact store reservation (``None``: refused)."""
        lease = self._lending.get(key)
        now = time.monotonic()
        demand = self.demand
        demand.roll(now)
        demand.ask(key, amount)
        if lease is not None:
            if lease.free >= amount and now - lease.started < LEASE_SECONDS:
                return self._carve(lease, amount)
            self._stop_lending(lease)  # its rest goes back at the next flush
        size = min(amount * LEASE_CALLS, limit // LEASE_SHARE, demand.expected(key, amount))
        if size > amount and not self.closed:
            granted = await self.store.reserve(key, size, limit, ttl, hold + LEASE_SECONDS)
            if granted is not None:
                lease = Lease(granted, size, now)
                self._leases.setdefault(key, []).append(lease)
                previous = self._lending.get(key)  # taken by a call that raced this one
                if previous is not None:
                    self._stop_lending(previous)
                self._lending[key] = lease
                self._start_flusher()
                return self._carve(lease, amount)
        await self._give_back(key)
        granted = await self.store.reserve(key, amount, limit, ttl, hold)
        return granted  # type: ignore[no-any-return]

    def carve_now(self, key: str, amount: int) -> Carved | None:
        """Carve ``amount`` from the lease lending on ``key`` if it has the room, without
        waiting for anything (``None``: :meth:`reserve` must take a lease or reserve)."""
        lease = self._lending.get(key)
        if (
            lease is None
            or lease.free < amount
            or time.monotonic() - lease.started >= LEASE_SECONDS
            or self.closed
        ):
            return None
        # Demand.ask inlined (the fast path of every leased call): a key that has a
        # lease lending is one of a bounded few, so no bound to check here.
        asked = self.demand.asked
        asked[key] = asked.get(key, 0) + amount
        return self._carve(lease, amount)

    def _carve(self, lease: Lease, amount: int) -> Carved:
        lease.outstanding += amount
        lease.carved_since_flush = True
        return Carved(self, lease, amount)

    async def settle(self, carved: Carved, actual: int) -> int | None:
        """Spend ``actual`` in the lease; return the counter's value as far as this
        process knows (last written value plus its own unwritten spend), ``None`` before
        its first write."""
        self.spend(carved, actual)
        if self.closed:  # a call that outlived the shutdown flush: write it now
            lease = carved.lease
            try:
                await self._write(lease)
            except StoreError:
                # Its running total makes the write idempotent: retried as it is.
                write = functools.partial(self._write, lease)
                pending_for(self.store).add(Pending(write, lease.reservation.expires_at))
                raise
        return self.known_value(carved.lease.reservation.key)

    def spend(self, carved: Carved, actual: int) -> None:
        """Spend ``actual`` in the lease, in memory (the next flush writes it; after
        :meth:`close`, only :meth:`settle` writes)."""
        lease = carved.lease
        lease.outstanding -= carved.amount
        lease.spent += actual

    def known_value(self, key: str) -> int | None:
        """The counter's value as far as this process knows (see :meth:`settle`)."""
        written = self._values.get(key)
        if written is None:
            return None
        return written + sum(held.spent for held in self._leases.get(key, ()))

    def release(self, carved: Carved) -> None:
        """Give a carved reservation back to its lease."""
        carved.lease.outstanding -= carved.amount

    def free(self, key: str) -> int:
        """Room this process holds on ``key`` that no call uses."""
        return sum(max(lease.free, 0) for lease in self._leases.get(key, ()))

    async def flush(self, *, final: bool = False) -> None:
        """Write every lease's spend; give back the room of idle and old leases."""
        now = time.monotonic()
        self.demand.roll(now, flushing=True)
        for lease in [lease for leases in self._leases.values() for lease in leases]:
            if lease.lending and (
                final or not lease.carved_since_flush or now - lease.started >= LEASE_SECONDS
            ):
                self._stop_lending(lease)
            lease.carved_since_flush = False
            await self._write(lease)

    async def _give_back(self, key: str) -> None:
        """Stop lending on ``key`` and return the unused room (near the limit)."""
        for lease in list(self._leases.get(key, ())):
            self._stop_lending(lease)
            await self._write(lease)

    def _stop_lending(self, lease: Lease) -> None:
        """No call carves from ``lease`` any more: its next write gives back what running
        calls do not carry. (A lease left lending while that write is on the way would
        lend room the write gives back, and a spend arriving after it would be lost.)"""
        lease.lending = False
        key = lease.reservation.key
        if self._lending.get(key) is lease:
            del self._lending[key]

    async def _write(self, lease: Lease) -> None:
        async with lease.writing:
            await self._write_now(lease)

    async def _write_now(self, lease: Lease) -> None:
        value = await write_lease(self.store, lease)
        if value is None:
            return
        self._values[lease.reservation.key] = value
        leases = self._leases.get(lease.reservation.key)
        if lease.held == 0 and leases is not None and lease in leases:
            self._stop_lending(lease)
            leases.remove(lease)
            if not leases:
                del self._leases[lease.reservation.key]
                self._values.pop(lease.reservation.key, None)

    def _start_flusher(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        while self._leases and not self.closed:
            self._sleeping = True
            try:
                await asyncio.sleep(FLUSH_SECONDS)
            finally:
                self._sleeping = False
            try:
                await self.flush()
            except StoreError as exc:
                # Unwritten spend stays in the lease (still held in the store) for the
                # next try. Said once per outage, not ten times a second.
                if self.on_store_error is not None:
                    self.on_store_error()
                if not self._failing:
                    log.error("budget spend not written to the store (%s); retrying", exc)
                self._failing = True
            else:
                if self._failing:
                    log.warning("budget spend written to the store again")
                self._failing = False

    def abandon(self) -> None:
        """Give up the leases a shutdown could not write (counted and logged once)."""
        unwritten = [lease for leases in self._leases.values() for lease in leases]
        self._leases.clear()
        if unwritten:
            if self.on_abandoned is not None:
                for _ in unwritten:
                    self.on_abandoned()
            log.error(
                "%d budget leases not written at shutdown: the state store did not answer;"
                " their holds are charged at what they hold when they expire",
                len(unwritten),
            )

    async def close(self) -> None:
        """Write all spend and give back all unused room (at shutdown)."""
        self.closed = True
        flusher = self._flusher
        if flusher is not None:
            if self._sleeping:  # never cancelled mid-write: the write's outcome is unknown
                flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        await self.flush(final=True)


_books: weakref.WeakKeyDictionary[Any, LeaseBook] = weakref.WeakKeyDictionary()


def enable_leases(store: Any) -> None:
    """Let budgets on ``store`` lease room per process (call :func:`close_leases` before
    closing the store, so the last spend is written)."""
    book = _books.get(store)
    if book is None or book.closed:
        _books[store] = LeaseBook(store)


def leases_for(store: Any) -> LeaseBook | None:
    """The store's lease book, ``None`` when leases are off (or closed)."""
    book = _books.get(store)
    return None if book is None or book.closed else book


async def close_leases(store: Any, seconds: float = SHUTDOWN_SECONDS) -> None:
    """At shutdown: write the spend of ``store``'s leases and give their room back
    (leases end), then the settlements still waiting for the store; retried for at most
    ``seconds`` (see :func:`guard.checks._budget_retries.shut_down`)."""
    await shut_down(store, _books.get(store), seconds)
