"""How budgets talk to the state store: counters, reserving on all of them, settling.

A budget has up to three counters (USD in nano-dollars, tokens, requests), each an
integer in the store. A call reserves on every counter of every budget that applies;
if one refuses (another call took the room meanwhile), what it already holds is
released and the amounts are worked out again from fresh figures — a few times, then
the call is refused. Nothing is ever held that the store did not grant atomically, so
the settled spend never passes a limit whatever the concurrency.

Where the store's owner switched leases on (the proxy), reservations are carved from a
per-process lease (:mod:`guard.checks._budget_leases`) instead of one store
transaction each; per-request budgets always reserve in the store.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

from guard.checks._budget_leases import Carved, LeaseBook, leases_for
from guard.checks._budget_retries import pending_for
from guard.checks._prices import token_cost
from guard.stores.base import Reservation, StoreError
from guard.types import Usage

#: Rounds of "read the figures, reserve everything" before a call is refused.
ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class Counter:
    """One counter of one budget, and what a call costs on it:
    ``input x per_input + output x per_output + fixed``."""

    budget: str
    scope: str
    resets_at: float | None
    ttl: float | None
    key: str
    limit: int
    per_input: int
    per_output: int
    fixed: int
    #: Input read from / written to the prompt cache (``None``: like other input).
    per_cached_input: int | None = None
    per_cache_write: int | None = None
    #: Audio in and out (``None``: the call sends / asks for none: priced as text).
    per_audio_input: int | None = None
    per_audio_output: int | None = None

    @property
    def unit(self) -> str:
        """``usd`` (nano-dollars in the store), ``tokens`` or ``requests``."""
        return self.key.rsplit(":", 1)[-1]

    def amount(self, input_tokens: int, output_tokens: int) -> int:
        """What ``input_tokens`` in and ``output_tokens`` out cost at most on this
        counter (for reservations: any input token might be a dearer cache write)."""
        per_input = max(self.per_input, self.per_cache_write or 0, self.per_audio_input or 0)
        return input_tokens * per_input + output_tokens * self.most_per_output + self.fixed

    @property
    def most_per_output(self) -> int:
        """The dearest an output token may be (audio, when the call asks for it)."""
        return max(self.per_output, self.per_audio_output or 0)

    def spent(self, usage: Usage) -> int:
        """What a call that used ``usage`` cost on this counter (cache reads and writes,
        audio, each at its price)."""
        cached_price = self.per_input if self.per_cached_input is None else self.per_cached_input
        write_price = self.per_input if self.per_cache_write is None else self.per_cache_write
        priced = token_cost(
            usage, per_input=self.per_input, per_output=self.per_output,
            per_cached=cached_price, per_write=write_price,
            per_audio_in=self.per_audio_input, per_audio_out=self.per_audio_output,
        )  # fmt: skip
        return priced + self.fixed


@dataclass(slots=True)
class Hold:
    """A granted reservation on one counter."""

    counter: Counter
    #: A store reservation, or one carved from this process's lease.
    reservation: Reservation | Carved
    #: The counter's remaining room after settling (for the remaining-budget gauge).
    remaining: float | None = None

    def note_value(self, value: int) -> None:
        """The counter's value after settling: set :attr:`remaining` from it."""
        counter = self.counter
        remaining = max(counter.limit - value, 0)
        self.remaining = remaining / 1e9 if counter.unit == "usd" else float(remaining)


class Ledger:
    """Budget operations on one store (async face)."""

    #: Stores budgets opened already (weakly held: a store dropped by its owner goes).
    _opened: weakref.WeakSet[Any] = weakref.WeakSet()

    def __init__(self, store: Any, clock: Any = None) -> None:
        self.store = store
        self.clock = clock or time.time
        self.leases: LeaseBook | None = leases_for(store)

    def now(self) -> float:
        """Wall time (the store's clock in tests)."""
        return float(self.clock())

    @staticmethod
    def opened(store: Any) -> bool:
        """Budgets opened ``store`` already (see :meth:`ensure_open`)."""
        return store in Ledger._opened

    async def ensure_open(self) -> None:
        """Open the store on first use (a Guard built with a URL); idempotent."""
        if self.store not in Ledger._opened:
            await self.store.open()
            Ledger._opened.add(self.store)

    async def allowance(self, counter: Counter, input_tokens: int, wanted: int) -> int:
        """How many output tokens ``counter`` still allows (negative: not even the input)."""
        store = self.store
        used = await store.get(counter.key) + await store.reserved(counter.key)
        if self.leases is not None:
            used -= self.leases.free(counter.key)  # this process's own unlent room
        room = counter.limit - used - counter.amount(input_tokens, 0)
        if room < 0:
            return -1
        per_output = counter.most_per_output
        return wanted if per_output == 0 else min(wanted, room // per_output)

    async def reserve(
        self, counters: list[Counter], input_tokens: int, wanted: int, minimum: int, hold: float
    ) -> tuple[tuple[int, list[Hold]] | None, Counter | None]:
        """Reserve on every counter for the most output tokens up to ``wanted`` they all
        allow: ``((tokens, holds), None)``, or ``(None, the counter that is short)``."""
        # The common case first: room for everything asked. One atomic reserve per counter
        # and no reads; the figures are read only to work out a clamp or a refusal.
        granted = await self._reserve_all(counters, input_tokens, wanted, hold)
        if isinstance(granted, list):
            return (wanted, granted), None
        short: Counter | None = granted
        for _ in range(ATTEMPTS):
            tokens = wanted
            for counter in counters:
                allows = await self.allowance(counter, input_tokens, wanted)
                if allows < tokens:
                    tokens, short = allows, counter
            if tokens < minimum:
                return None, short
            granted = await self._reserve_all(counters, input_tokens, tokens, hold)
            if isinstance(granted, list):
                return (tokens, granted), None
            short = granted
        return None, short

    async def _reserve_all(
        self, counters: list[Counter], input_tokens: int, tokens: int, hold: float
    ) -> list[Hold] | Counter:
        """Reserve for ``tokens`` output tokens on every counter: the holds, or the
        counter that refused (nothing is then held)."""
        holds: list[Hold] = []
        for counter in counters:
            amount = counter.amount(input_tokens, tokens)
            granted: Reservation | Carved | None
            if self.leases is not None and counter.scope != "request":
                granted = await self.leases.reserve(
                    counter.key, amount, counter.limit, counter.ttl, hold
                )
            else:
                granted = await self.store.reserve(
                    counter.key, amount, counter.limit, counter.ttl, hold
                )
            if granted is None:
                await self.release(holds)
                return counter
            holds.append(Hold(counter, granted))
        return holds

    async def release(self, holds: list[Hold]) -> None:
        """Drop reservations without spending."""
        for held in holds:
            reservation = held.reservation
            if isinstance(reservation, Carved):
                reservation.book.release(reservation)
            else:
                await self.store.release(reservation)

    async def settle(self, holds: list[Hold], usage: Usage) -> None:
        """Spend what the call used (``usage``) on every counter it held.

        A store settle that fails is queued for retries (:mod:`._budget_retries`), and so
        are the call's later store holds, without waiting on a store that just failed;
        then the error is raised for the caller to count."""
        failed: StoreError | None = None
        for held in holds:
            counter = held.counter
            reservation = held.reservation
            actual = counter.spent(usage)
            value: int | None
            if isinstance(reservation, Carved):
                if failed is not None and not reservation.book.closed:
                    reservation.book.spend(reservation, actual)  # in memory: cannot fail
                    continue
                try:
                    value = await reservation.book.settle(reservation, actual)
                except StoreError as exc:
                    failed = failed or exc  # the book queued its lease's write
                    continue
                if value is None:
                    continue  # not known before the lease's first write
            elif failed is not None:
                self._retry_later(reservation, actual)
                continue
            else:
                try:
                    value = await self.store.settle(reservation, actual)
                except StoreError as exc:
                    failed = exc
                    self._retry_later(reservation, actual)
                    continue
            held.note_value(value)
        if failed is not None:
            raise failed

    def _retry_later(self, reservation: Reservation, actual: int) -> None:
        queue = pending_for(self.store)
        queue.clock = self.clock
        queue.add_settle(reservation, actual)


def carve_all(
    book: LeaseBook, counters: list[Counter], input_tokens: int, tokens: int
) -> list[Hold] | None:
    """Carve a call's reservation on every counter from the leases ``book`` lends now, in
    memory: the holds, or ``None`` (nothing held) when one counter has no such room —
    then :meth:`Ledger.reserve` takes leases, clamps or refuses, as it always does."""
    holds: list[Hold] = []
    for counter in counters:
        carved = None
        if counter.scope != "request":
            carved = book.carve_now(counter.key, counter.amount(input_tokens, tokens))
        if carved is None:
            release_carved(holds)
            return None
        holds.append(Hold(counter, carved))
    return holds


def carved_in_open_leases(holds: list[Hold]) -> bool:
    """Every hold was carved from a lease of a book still open (settled in memory)."""
    for held in holds:
        reservation = held.reservation
        if not isinstance(reservation, Carved) or reservation.book.closed:
            return False
    return True


def release_carved(holds: list[Hold]) -> None:
    """:meth:`Ledger.release` of holds carved from leases (in memory)."""
    for held in holds:
        carved: Any = held.reservation
        carved.book.release(carved)


def settle_carved(holds: list[Hold], usage: Usage) -> None:
    """:meth:`Ledger.settle` of holds carved from open leases (see
    :func:`carved_in_open_leases`), in memory: the next flush writes the spend."""
    for held in holds:
        carved: Any = held.reservation
        counter = held.counter
        used = counter.spent(usage)
        carved.book.spend(carved, used)
        value = carved.book.known_value(counter.key)
        if value is not None:  # not known before the lease's first write
            held.note_value(value)
