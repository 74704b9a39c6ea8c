"""The state-store interface: counters, reservations, first-seen values and recent items.

Budgets (reserve before a call, settle after it) and agent limits (step counts,
first-seen time, a window of recent tool calls) keep their state here. Every backend
(``memory://``, ``sqlite://``, later ``redis://``) honours the same two protocols —
:class:`Store` for async frontends and :class:`SyncStore` (``store.sync``) for the sync
in-process transport, on the same data — and passes one shared test suite
(``tests/stores/``).

What is stored is numbers and short identifiers only (keys, hashes, names): never
user text. Amounts are integers so that every backend adds them exactly; budgets count
tokens and micro-dollars.

Writing a backend: every expiry is decided by the store's :data:`Clock` (passed in,
so tests move time by hand), never by the server's own clock. A Redis backend passes
``now`` into its Lua scripts and compares it with stored expiry times; native key
expiry (``PEXPIREAT`` a little after the logical one) is only garbage collection.
Errors are :class:`StoreError` (never the driver's); a closed store raises it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from guard.errors import GuardError
from guard.types import Verdict

#: What ``set_if_absent`` stores: a number or a short identifier.
Scalar = int | float | str

#: Seconds since the epoch. Wall time, not monotonic: SQLite and Redis share expiry
#: times between processes and across restarts. Tests inject their own.
Clock = Callable[[], float]

#: Longest key or stored string accepted. Keys and items are ids and hashes; a longer
#: string is almost certainly user text that must not be stored.
MAX_KEY_LENGTH = 200
MAX_ITEM_LENGTH = 128

#: How long a store remembers a lease's last write after it (see ``spent_total`` in
#: :meth:`SyncStore.settle`): a writer retries every fraction of a second, so a replay
#: of a write whose reply was lost arrives well within this.
REPLAY_SECONDS = 60.0

#: Purge every expired entry once per this many writes (amortised; keys that are
#: touched are purged on the spot, so this only bounds keys nobody touches any more).
SWEEP_EVERY = 4096


class StoreError(GuardError):
    """The state store failed (unreachable, closed, locked for too long, corrupt)."""


#: The error code of a call refused because a check's state store failed (with
#: ``on_error: block``): the service is unavailable, not the caller's content, so the
#: call is answered 503, which both SDKs retry.
STORE_UNAVAILABLE = "store_unavailable"
#: The ``retry-after`` of that refusal, in seconds: a store blip (a Redis failover, a
#: locked SQLite file) is usually over by then, and the SDKs wait this long before
#: their retry (instead of their own backoff of a fraction of a second).
STORE_RETRY_AFTER = 1.0


def unavailable(verdict: Verdict) -> Verdict:
    """``verdict`` (a check that failed on its store and blocks) as a 503 refusal with
    :data:`STORE_UNAVAILABLE`; the reason names the check, never the store's URL."""
    verdict.status, verdict.code, verdict.retry_after = 503, STORE_UNAVAILABLE, STORE_RETRY_AFTER
    verdict.reason = (
        f"check '{verdict.check}' could not reach its state store, so the limit it "
        "enforces cannot be checked; retry shortly"
    )
    return verdict


@dataclass(frozen=True, slots=True)
class Reservation:
    """Room held on ``key`` for one call until it is settled, released or expires."""

    key: str
    #: Unique within the store; how settle and release find the reservation.
    id: str
    amount: int
    #: Wall time after which the reservation no longer counts (a crashed process's hold).
    expires_at: float
    #: Time to live given to ``key`` if settling creates it (the budget window).
    ttl: float | None


@dataclass(frozen=True, slots=True)
class StoredValue:
    """A live value ``set_if_absent`` stored, as :meth:`SyncStore.scan_values` lists it."""

    key: str
    value: Scalar
    #: Wall time the value expires at; ``None`` when it never does.
    expires_at: float | None


#: Most values one ``scan_values`` call may return (listings are pages, not dumps).
MAX_SCAN = 10_000


@runtime_checkable
class SyncStore(Protocol):
    """The blocking view of a store, for the sync transport. Same data and semantics as
    :class:`Store`; safe to call from many threads at once."""

    def open(self) -> None:
        """Connect and create what is missing; idempotent."""

    def close(self) -> None:
        """Release connections; idempotent."""

    def ping(self) -> None:
        """Return when the store answers, raise :class:`StoreError` otherwise."""

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` to the counter ``key`` atomically and return the new value.
        ``ttl`` (seconds) sets the expiry only when the counter is created: a fixed
        window, like Redis ``SET NX EX`` followed by ``INCRBY``."""

    def get(self, key: str) -> int:
        """The counter's value; 0 when it does not exist or has expired."""

    def reserved(self, key: str) -> int:
        """The sum of live reservations on ``key``."""

    def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Reservation | None:
        """Hold ``amount`` on ``key`` if counter + live reservations + amount stays within
        ``limit`` (atomic check-and-add); ``None`` otherwise. The hold expires after
        ``hold`` seconds if nobody settles or releases it, and is then **charged**: its
        amount (what it holds then) is added to the counter, never given back as if
        nothing was spent (its process may have died mid-call, or could not reach the
        store, and the provider may well have charged it). So the counter is created
        here (value 0, expiring with ``ttl``) when absent: a window to charge to."""

    def settle(
        self,
        reservation: Reservation,
        actual: int,
        keep: int = 0,
        *,
        spent_total: int | None = None,
    ) -> int:
        """Drop the reservation and add ``actual`` (which may be more or less than was
        reserved, and may pass the limit: spend that happened is never lost) to its
        counter; return the counter's new value. Call once per reservation. A hold
        gone past its expiry was charged at the reservation's amount then: only what
        ``actual`` passes it is added (so the call counts max(spent, reserved), once).

        ``keep`` > 0 keeps the reservation held with that amount instead (same id and
        expiry; nothing if it expired meanwhile), in the same atomic step: a lease of
        many calls spends what its finished calls used and keeps what the others
        carry. Settle it again later (finally with ``keep=0``).

        ``spent_total`` makes such repeated settles idempotent: it is everything spent
        on the reservation so far (``actual`` is the part not yet confirmed written).
        The store records the total it has added for the reservation and adds only
        ``spent_total`` minus that record: nothing when a write is sent again after its
        reply was lost, nor for an older write arriving late (which leaves the hold
        alone too). The final write (``keep=0``) leaves a mark holding no room for
        :data:`REPLAY_SECONDS`, so its replay adds nothing either. When the store
        knows nothing of the reservation (its hold and record gone), it adds
        ``actual`` (less the amount charged, past the hold's expiry). With
        ``actual=0`` and ``spent_total=N`` a settle adds N only while the hold is live:
        the retry of a plain settle whose reply was lost (which dropped the hold in
        the same step as it added)."""

    def release(self, reservation: Reservation) -> None:
        """Drop the reservation without spending; a no-op when it is already gone."""

    def set_if_absent(self, key: str, value: Scalar, ttl: float | None = None) -> Scalar:
        """Store ``value`` unless ``key`` holds a live value; return the stored value
        (e.g. a session's first-seen time: the first caller's ``now`` wins)."""

    def take(self, key: str) -> Scalar | None:
        """Remove and return the live value ``set_if_absent`` stored at ``key``; ``None``
        when there is none. Atomic: of many racing callers, one gets the value (an
        approval that lets one call through)."""

    def push_recent(self, key: str, item: str, keep: int, ttl: float | None = None) -> list[str]:
        """Append ``item`` to the list ``key``, keep its newest ``keep`` items and return
        them oldest first. ``ttl`` is renewed on every push (an idle session expires)."""

    def scan_values(self, prefix: str, limit: int) -> list[StoredValue]:
        """The live values ``set_if_absent`` stored under keys starting with ``prefix``
        (taken literally: no glob), ordered by key, at most ``limit`` of them (pending
        approvals, issue 23). Counters and lists are not values and are not listed."""


@runtime_checkable
class Store(Protocol):
    """The async state store. ``sync`` is the blocking view of the same data."""

    #: ``memory``, ``sqlite``, ``redis``: for /readyz, metrics and error messages.
    kind: str

    @property
    def sync(self) -> SyncStore:
        """The blocking view, for the sync in-process transport."""

    async def open(self) -> None:
        """Connect and create what is missing; idempotent."""

    async def close(self) -> None:
        """Release connections; idempotent."""

    async def ping(self) -> None:
        """Return when the store answers, raise :class:`StoreError` otherwise."""

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """See :meth:`SyncStore.incr`."""

    async def get(self, key: str) -> int:
        """See :meth:`SyncStore.get`."""

    async def reserved(self, key: str) -> int:
        """See :meth:`SyncStore.reserved`."""

    async def reserve(
        self, key: str, amount: int, limit: int, ttl: float | None, hold: float
    ) -> Reservation | None:
        """See :meth:`SyncStore.reserve`."""

    async def settle(
        self,
        reservation: Reservation,
        actual: int,
        keep: int = 0,
        *,
        spent_total: int | None = None,
    ) -> int:
        """See :meth:`SyncStore.settle`."""

    async def release(self, reservation: Reservation) -> None:
        """See :meth:`SyncStore.release`."""

    async def set_if_absent(self, key: str, value: Scalar, ttl: float | None = None) -> Scalar:
        """See :meth:`SyncStore.set_if_absent`."""

    async def take(self, key: str) -> Scalar | None:
        """See :meth:`SyncStore.take`."""

    async def push_recent(
        self, key: str, item: str, keep: int, ttl: float | None = None
    ) -> list[str]:
        """See :meth:`SyncStore.push_recent`."""

    async def scan_values(self, prefix: str, limit: int) -> list[StoredValue]:
        """See :meth:`SyncStore.scan_values`."""


def wall_clock() -> float:
    """The default clock: :func:`time.time`."""
    return time.time()


def check_key(key: str) -> None:
    """Refuse keys that are not short identifiers (they must never carry user text)."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(
            f"a store key must be a non-empty string of at most {MAX_KEY_LENGTH} characters"
        )


def check_item(item: Scalar) -> None:
    """Refuse stored strings that are longer than an id or a hash."""
    if isinstance(item, str) and len(item) > MAX_ITEM_LENGTH:
        raise ValueError(
            f"a stored string must be an id or a hash of at most {MAX_ITEM_LENGTH} characters"
        )
    if isinstance(item, bool) or not isinstance(item, int | float | str):
        raise ValueError("a store holds numbers and short strings only")


def check_amounts(amount: int, *more: float | None) -> None:
    """Refuse negative or non-integer amounts and non-positive times."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError("a store amount must be a non-negative integer")
    for seconds in more:
        if seconds is not None and not seconds > 0:
            raise ValueError("a time to live or hold must be a positive number of seconds")


def check_settle(actual: int, keep: int, spent_total: int | None) -> None:
    """Refuse a settle whose amounts are not non-negative integers, or whose total spend
    is less than its unconfirmed part."""
    check_amounts(actual)
    check_amounts(keep)
    if spent_total is not None:
        check_amounts(spent_total)
        if spent_total < actual:
            raise ValueError("a settle's spent_total must include its actual spend")


def expiry(now: float, ttl: float | None) -> float | None:
    """The expiry time for a time to live, ``None`` for no expiry."""
    return None if ttl is None else now + ttl


def check_scan(prefix: str, limit: int) -> None:
    """Refuse a scan that is unbounded or has no prefix a key could start with."""
    if not isinstance(prefix, str) or len(prefix) > MAX_KEY_LENGTH:
        raise ValueError(f"a scan prefix must be a string of at most {MAX_KEY_LENGTH} characters")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SCAN:
        raise ValueError(f"a scan returns between 1 and {MAX_SCAN} values; pass such a limit")
