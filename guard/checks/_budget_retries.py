"""Settlements the store did not take, written again in the background until it does.

A call's settle can fail: a Redis reply that timed out, an SQLite wait that gave up.
The caller cannot tell whether the store applied it (the reply was lost) or not. Dropped,
its hold would count as spent until it expires (``HOLD_SECONDS``, 15 minutes), and
what the call really spent would never be recorded. So a failed settle is queued here
and retried with backoff, on the event loop (never blocking it), until the store takes
it:

- **Idempotent.** A retry is ``settle(reservation, 0, spent_total=actual)``. The store
  adds ``actual`` only while the hold is still live, because a plain settle drops the
  hold in the same atomic step as it adds. If the first attempt was applied, the hold
  is gone and the retry adds nothing (the store's "forgotten" case adds the
  unconfirmed part, here 0). The retry leaves a record (:mod:`guard.stores._settle_totals`),
  so a replay of the retry itself adds nothing either. A lease's writes carry their
  running total already (:mod:`guard.checks._budget_lease_writes`): they are queued as
  they are.
- **Before the hold expires.** A retry is exact while the hold is live. A settlement
  still unwritten when its hold expires is given up and counted (``abandoned``): the
  store then charges the hold at its reserved amount, the upper bound the call was
  allowed (it never gives the room back as if nothing was spent). So is one that finds
  the queue full (:data:`MAX_PENDING`), or one that a shutdown could not write within
  its bounded time (:func:`drain_pending`).
- **Bounded.** At most :data:`MAX_PENDING` settlements wait. Retries start after
  :data:`FIRST_DELAY` and back off to :data:`MAX_DELAY` while the store keeps failing.

Nothing here holds user text: a reservation is a key, an id and integers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from guard.stores.base import Reservation, StoreError

log = logging.getLogger("guardwire")

#: At most this many settlements wait for the store (a few minutes of a busy process's
#: per-call settles; each is a few hundred bytes).
MAX_PENDING = 10_000
#: The first retry waits this long: an attempt still on its way (an SQLite thread the
#: caller stopped waiting for) lands before it, and the retry then adds nothing.
FIRST_DELAY = 0.2
#: Retries back off (doubling) to at most this interval while the store keeps failing.
MAX_DELAY = 5.0
#: How long a shutdown keeps retrying what is still pending (:func:`drain_pending`).
SHUTDOWN_SECONDS = 5.0

#: What happened to a failed settlement, for ``guardwire_budget_settle_retries_total``.
QUEUED, WRITTEN, ABANDONED = "queued", "written", "abandoned"


@dataclass(eq=False, slots=True)
class Pending:
    """One write the store failed to take, and until when it is worth trying."""

    write: Callable[[], Awaitable[Any]]
    #: Store-clock time after which the write is given up (the hold has expired).
    expires_at: float


class PendingSettlements:
    """The failed settlements of one store, retried in the background."""

    def __init__(self, store: Any) -> None:
        self.store = store
        #: The store's clock (wall time; tests inject theirs): holds expire by it.
        self.clock: Callable[[], float] = time.time
        #: Called with ``queued``, ``written`` or ``abandoned`` (the budget check counts).
        self.on_result: Callable[[str], None] | None = None
        self._items: deque[Pending] = deque()
        self._retrier: asyncio.Task[None] | None = None
        self._sleeping = False
        self._full = False
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    def add_settle(self, reservation: Reservation, actual: int) -> None:
        """Queue the retry of a plain settle whose outcome is unknown (see the module)."""
        store = self.store

        async def write() -> None:
            await store.settle(reservation, 0, spent_total=actual)

        self.add(Pending(write, reservation.expires_at))

    def add(self, pending: Pending) -> None:
        """Queue ``pending`` and make sure a retrier runs (abandoned if the queue is full)."""
        if len(self._items) >= MAX_PENDING:
            self._count(ABANDONED)
            if not self._full:  # said once per time it fills up, not once per call
                log.error(
                    "budget settlement queue full (%d waiting for the state store); further"
                    " failed settlements are dropped, their holds charged at their amount when they"
                    " expire",
                    MAX_PENDING,
                )
            self._full = True
            return
        self._full = False
        self._items.append(pending)
        self._count(QUEUED)
        if not self.closed and (self._retrier is None or self._retrier.done()):
            self._retrier = asyncio.get_running_loop().create_task(self._retry_forever())

    async def retry_once(self) -> bool:
        """Try every pending write in order; ``True`` when none is left. Stops at the
        first failure (the store is still down: the others would only wait too)."""
        expired = 0
        while self._items:
            pending = self._items[0]
            if pending.expires_at <= self.clock():
                self._items.popleft()
                self._count(ABANDONED)
                expired += 1
                continue
            try:
                await pending.write()
            except StoreError:
                self._log_expired(expired)
                return False
            # Popped only now: the write stays queued if this task is cancelled mid-way.
            if self._items and self._items[0] is pending:
                self._items.popleft()
            self._count(WRITTEN)
        self._log_expired(expired)
        return True

    @staticmethod
    def _log_expired(expired: int) -> None:
        if expired:
            log.error(
                "%d budget settlements given up: not written before their holds expired"
                " (the state store did not answer for as long as a hold lasts)",
                expired,
            )

    async def _retry_forever(self) -> None:
        delay = FIRST_DELAY
        while self._items and not self.closed:
            self._sleeping = True
            try:
                await asyncio.sleep(delay)
            finally:
                self._sleeping = False
            if self.closed:
                break
            delay = FIRST_DELAY if await self.retry_once() else min(delay * 2, MAX_DELAY)

    async def drain(self, seconds: float) -> int:
        """At shutdown: stop the retrier, then retry with backoff for at most ``seconds``;
        return how many writes were given up (counted and logged once)."""
        self.closed = True
        retrier = self._retrier
        # A retrier of another loop (async calls, then a sync close) stops when it wakes
        # (closed); it is not awaited from here. Should it write meanwhile too, the
        # writes are idempotent.
        if retrier is not None and not retrier.done() and _runs_here(retrier):
            if self._sleeping:
                retrier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retrier
        await _with_backoff(self.retry_once, time.monotonic() + seconds)
        lost = len(self._items)
        if lost:
            self._items.clear()
            for _ in range(lost):
                self._count(ABANDONED)
            log.error(
                "%d budget settlements not written at shutdown: the state store did not"
                " answer within %.0f s; their holds are charged at their amount when they expire",
                lost,
                seconds,
            )
        return lost

    def _count(self, result: str) -> None:
        if self.on_result is not None:
            self.on_result(result)


def _runs_here(task: asyncio.Task[None]) -> bool:
    return task.get_loop() is asyncio.get_running_loop()


async def _with_backoff(attempt: Callable[[], Awaitable[bool]], deadline: float) -> bool:
    """Call ``attempt`` until it returns ``True``, backing off from :data:`FIRST_DELAY`
    to :data:`MAX_DELAY`, while the next try still starts before ``deadline``
    (``time.monotonic()``); whether it succeeded."""
    delay = FIRST_DELAY
    while not await attempt():
        if time.monotonic() + delay > deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
    return True


_queues: weakref.WeakKeyDictionary[Any, PendingSettlements] = weakref.WeakKeyDictionary()


def pending_for(store: Any) -> PendingSettlements:
    """The failed settlements of ``store`` (a new queue after a drained one)."""
    queue = _queues.get(store)
    if queue is None or queue.closed:
        queue = _queues[store] = PendingSettlements(store)
    return queue


async def drain_pending(store: Any, seconds: float = SHUTDOWN_SECONDS) -> int:
    """Write what ``store``'s queue still holds, for at most ``seconds`` (at shutdown)."""
    queue = _queues.get(store)
    return 0 if queue is None else await queue.drain(seconds)


async def shut_down(store: Any, book: Any, seconds: float) -> None:
    """Close ``book`` (a :class:`~guard.checks._budget_leases.LeaseBook`, or ``None``),
    retrying its writes with backoff while the store fails, then drain ``store``'s
    queue, all within ``seconds``. What is still unwritten then is counted and logged
    (its holds are charged at their amount when they expire); a book's last error is
    raised."""
    deadline = time.monotonic() + seconds
    failure: StoreError | None = None
    if book is not None:

        async def close_book() -> bool:
            nonlocal failure
            try:
                await book.close()  # idempotent writes: trying again adds nothing twice
            except StoreError as exc:
                failure = exc
                return False
            failure = None
            return True

        if not await _with_backoff(close_book, deadline):
            book.abandon()
    await drain_pending(store, max(deadline - time.monotonic(), 0.0))
    if failure is not None:
        raise failure
