"""A lease's writes are idempotent (guard/checks/_budget_lease_writes.py): a write whose reply
was lost after the store applied it (a Redis reply that timed out after the script ran,
an SQLite wait that gave up while its thread committed) is sent again by the next flush
and must not add the same spend twice; a write that truly failed must still be added.

Each test runs on every backend (Redis included: its Lua script does the replay check).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from guard.checks import _budget_demand as demand
from guard.checks import _budget_leases as leases
from guard.checks._budget_leases import Carved, LeaseBook
from guard.stores import Reservation, Store, StoreError, open_store
from tests.redis_server import fresh_url

KEY = "gw:budget:b:-:all:usd"
LIMIT = 100_000
HOLD = 900.0


class LosesReplies:
    """A store whose next ``settle`` fails once: after applying it (``applied=True``:
    the outcome is unknown to the caller) or before (nothing written)."""

    def __init__(self, store: Store, rng: random.Random | None = None) -> None:
        self.store = store
        self.fail_next: bool | None = None  # None: no failure armed; else: applied?
        self.failed = 0
        #: With a generator, every settle fails one time in three, half of them applied.
        self.rng = rng

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def lose_next_reply(self, *, applied: bool) -> None:
        self.fail_next = applied

    async def settle(self, reservation: Reservation, *args: Any, **kwargs: Any) -> int:
        applied, self.fail_next = self.fail_next, None
        if self.rng is not None and self.rng.random() < 1 / 3:
            applied = self.rng.random() < 0.5
        if applied is False:
            self.failed += 1
            raise StoreError("the test store failed before writing")
        value: int = await self.store.settle(reservation, *args, **kwargs)
        if applied:
            self.failed += 1
            raise StoreError("the test store lost the reply of a write it applied")
        return value


@pytest.fixture(autouse=True)
def steady_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key's demand is remembered for the whole test (not 0.1 s of a loaded machine's
    time): a key made busy keeps leasing."""
    monkeypatch.setattr(demand, "DEMAND_SECONDS", 60.0)


@pytest.fixture(autouse=True)
def only_explicit_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background flush takes a failure meant for the test's own flush, and no lease
    ages out between two calls on a loaded machine."""
    monkeypatch.setattr(leases, "FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(leases.time, "monotonic", lambda: 1_000.0)


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    urls = {"memory": "memory://", "sqlite": f"sqlite://{tmp_path / 'state.db'}"}
    url = urls.get(request.param) or fresh_url()
    opened = open_store(url)
    await opened.open()
    yield opened
    await opened.close()


async def _leased_book(store: Store) -> tuple[LeaseBook, LosesReplies]:
    """A book on a flaky view of ``store`` whose key is busy (later calls lease)."""
    flaky = LosesReplies(store)
    book = LeaseBook(flaky)
    first = await book.reserve(KEY, 1_600, LIMIT, None, HOLD)  # busy: 16 calls' room
    assert isinstance(first, Reservation)
    await store.release(first)
    return book, flaky


async def _call(book: LeaseBook, actual: int) -> None:
    held = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(held, Carved)
    await book.settle(held, actual)


@pytest.mark.parametrize("applied", [True, False], ids=["reply-lost", "not-written"])
async def test_a_flush_retried_after_a_failed_write_adds_the_spend_exactly_once(
    store: Store, applied: bool
) -> None:
    book, flaky = await _leased_book(store)
    await _call(book, 40)
    flaky.lose_next_reply(applied=applied)
    with pytest.raises(StoreError):
        await book.flush()
    assert await store.get(KEY) == (40 if applied else 0)
    await _call(book, 25)  # more spend before the retry
    await book.flush()  # the retry: carries the first write's spend again
    assert await store.get(KEY) == 65
    await book.flush()
    await book.close()
    assert flaky.failed == 1
    assert await store.get(KEY) == 65 and await store.reserved(KEY) == 0


@pytest.mark.parametrize("applied", [True, False], ids=["reply-lost", "not-written"])
async def test_the_final_write_of_an_idle_lease_retried_adds_its_spend_exactly_once(
    store: Store, applied: bool
) -> None:
    book, flaky = await _leased_book(store)
    await _call(book, 70)
    running = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(running, Carved)
    await book.flush()  # carved since the last flush: still lending, 70 written
    assert await store.get(KEY) == 70
    await book.settle(running, 45)
    flaky.lose_next_reply(applied=applied)
    with pytest.raises(StoreError):
        await book.flush()  # idle: the final write (keep=0) spends 45, gives the room back
    assert await store.get(KEY) == (115 if applied else 70)
    assert await store.reserved(KEY) == (0 if applied else 1_600 - 70)
    await book.flush()  # sent again
    assert flaky.failed == 1
    assert await store.get(KEY) == 115 and await store.reserved(KEY) == 0
    await book.close()
    assert await store.get(KEY) == 115 and await store.reserved(KEY) == 0


@pytest.mark.parametrize("applied", [True, False], ids=["reply-lost", "not-written"])
async def test_close_retried_after_its_final_write_failed_adds_the_spend_exactly_once(
    store: Store, applied: bool
) -> None:
    book, flaky = await _leased_book(store)
    for actual in (10, 20, 30):
        await _call(book, actual)
    flaky.lose_next_reply(applied=applied)
    with pytest.raises(StoreError):
        await book.close()
    assert await store.get(KEY) == (60 if applied else 0)
    await book.close()  # the shutdown tries again
    assert flaky.failed == 1
    assert await store.get(KEY) == 60 and await store.reserved(KEY) == 0


async def test_many_lost_replies_in_a_row_never_add_more_than_was_spent(store: Store) -> None:
    """Property: every write of a busy lease loses its reply after applying, for many
    flushes in a row, spend arriving between them; the counter never passes the true
    spend and equals it once a write succeeds."""
    book, flaky = await _leased_book(store)
    spent = 0
    for number in range(12):
        actual = 7 * number + 1
        await _call(book, actual)
        spent += actual
        flaky.lose_next_reply(applied=True)
        with pytest.raises(StoreError):
            await book.flush()
        assert await store.get(KEY) == spent
    await book.close()
    assert await store.get(KEY) == spent and await store.reserved(KEY) == 0


async def test_random_lost_replies_under_concurrency_keep_the_ceiling_and_the_spend(
    store: Store,
) -> None:
    """Property: two books (two processes) serve random calls while a third of their
    writes fail, half of those after the store applied them; the store's counter plus
    holds never passes the limit, and once the books are closed (retried until a
    write succeeds) the counter is exactly what the calls spent, with nothing held."""
    rng = random.Random(22)
    books = [LeaseBook(LosesReplies(store, rng)) for _ in range(2)]
    for book in books:
        first = await book.reserve(KEY, 1_600, LIMIT, None, HOLD)  # busy: 16 calls' room
        assert isinstance(first, Reservation)
        await store.release(first)
    spent = 0
    peaks: list[int] = []

    async def one_call(number: int) -> None:
        nonlocal spent
        book = books[number % 2]
        amount = rng.randint(50, 2_000)
        try:
            held = await book.reserve(KEY, amount, LIMIT, None, HOLD)
        except StoreError:
            return  # giving back room near the limit failed: on_error decides the call
        if held is None:
            return
        await asyncio.sleep(0)
        actual = rng.randint(0, amount)
        spent += actual
        if isinstance(held, Carved):
            await book.settle(held, actual)
        else:
            await store.settle(held, actual)
        if number % 5 == 0:
            with contextlib.suppress(StoreError):  # the next flush sends it again
                await book.flush()
        peaks.append(await store.get(KEY) + await store.reserved(KEY))

    await asyncio.gather(*(one_call(n) for n in range(300)))
    for book in books:
        for _ in range(50):
            try:
                await book.close()
                break
            except StoreError:
                continue
    assert max(peaks) <= LIMIT
    assert await store.get(KEY) == spent and await store.reserved(KEY) == 0


class SlowSettles:
    """A store whose ``settle`` waits until the test lets it finish."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def settle(self, reservation: Reservation, *args: Any, **kwargs: Any) -> int:
        self.started.set()
        await self.go_on.wait()
        value: int = await self.store.settle(reservation, *args, **kwargs)
        return value


async def test_no_call_carves_from_a_lease_while_it_is_given_back(store: Store) -> None:
    """Near the limit a call gives back its process's leases before reserving exactly
    (and a racing call may just have taken the lease it gives back). A call carving
    from such a lease while its last write is on the way would use room the store no
    longer holds, and its spend would never be written (the lease is gone after it)."""
    slow = SlowSettles(store)
    book = LeaseBook(slow)
    first = await book.reserve(KEY, 1_600, LIMIT, None, HOLD)  # busy: 16 calls' room
    assert isinstance(first, Reservation)
    await store.release(first)
    slow.go_on.set()
    await _call(book, 60)  # the lease lends on KEY; nothing carved from it now
    slow.go_on.clear()
    giving_back = asyncio.ensure_future(book._give_back(KEY))
    await slow.started.wait()  # the lease's final write is on the way
    late = book.carve_now(KEY, 100)
    slow.go_on.set()
    await giving_back
    spent = 60
    if late is not None:  # a carve is only right if the store holds its room...
        assert await store.reserved(KEY) >= late.amount
        await book.settle(late, 50)
        spent += 50
    await book.close()
    # ...and its spend is written.
    assert await store.get(KEY) == spent and await store.reserved(KEY) == 0
