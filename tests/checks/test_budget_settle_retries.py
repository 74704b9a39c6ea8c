"""A settlement the store fails to take is retried, and recorded exactly once
(guard/checks/_budget_retries.py).

Before: a call's settle that failed (a Redis reply timing out, an SQLite wait giving up)
was logged and dropped; its hold counted as spent until it expired, then its room came
back and the call's spend was never recorded. A lease's final write that failed at
shutdown was lost the same way. Each test runs on every backend.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks import _budget_demand as demand
from guard.checks import _budget_leases as leases
from guard.checks import _budget_retries as retries
from guard.checks._budget_leases import Carved, LeaseBook, close_leases, enable_leases
from guard.checks._budget_ledger import Counter, Ledger
from guard.checks._budget_retries import drain_pending, pending_for
from guard.checks.budget import BudgetCheck
from guard.policy import Policy
from guard.stores import Reservation, Store, StoreError, open_store
from guard.types import Usage
from tests.checks.test_budget import chat, reply_for
from tests.redis_server import fresh_url
from tests.stores.conftest import FakeClock

KEY = "gw:budget:b:-:all:usd"
LIMIT = 100_000
HOLD = 900.0


class Flaky:
    """A store that fails on demand: ``down`` fails every operation before it reaches the
    store; ``script`` fails the next settles in order, each ``"lost"`` (applied, reply
    lost) or ``"failed"`` (not applied)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.down = False
        self.script: list[str] = []
        self.settles = 0
        self.reserved_keys: list[str] = []

    async def reserve(self, key: str, *args: Any) -> Reservation | None:
        if self.down:
            raise StoreError("the test store is down")
        self.reserved_keys.append(key)
        granted: Reservation | None = await self.store.reserve(key, *args)
        return granted

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if not callable(attribute) or name in ("sync",):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StoreError("the test store is down")
            return await attribute(*args, **kwargs)

        return call

    async def settle(self, reservation: Reservation, *args: Any, **kwargs: Any) -> int:
        self.settles += 1
        if self.down:
            raise StoreError("the test store is down")
        failure = self.script.pop(0) if self.script else None
        if failure == "failed":
            raise StoreError("the test store failed before writing")
        value: int = await self.store.settle(reservation, *args, **kwargs)
        if failure == "lost":
            raise StoreError("the test store lost the reply of a write it applied")
        return value


@pytest.fixture(autouse=True)
def steady_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key's demand is remembered for the whole test (not 0.1 s of a loaded machine's
    time): a key made busy keeps leasing."""
    monkeypatch.setattr(demand, "DEMAND_SECONDS", 60.0)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "FIRST_DELAY", 0.01)
    monkeypatch.setattr(retries, "MAX_DELAY", 0.02)


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    urls = {"memory": "memory://", "sqlite": f"sqlite://{tmp_path / 'state.db'}"}
    url = urls.get(request.param) or fresh_url()
    opened = open_store(url)
    await opened.open()
    yield opened
    await drain_pending(opened, 0.0)
    await opened.close()


def _counter(limit: int = LIMIT) -> Counter:
    return Counter("b", "global", None, None, KEY, limit, 1, 1, 0)


async def _written(store: Store, expected: int, flaky: Flaky) -> None:
    """Wait (briefly) for the background retries to empty the queue."""
    for _ in range(200):
        if not len(pending_for(flaky)) and await store.get(KEY) == expected:
            return
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    "script",
    [["failed"], ["lost"], ["failed", "failed"], ["lost", "lost"], ["failed", "lost", "failed"]],
    ids=["not-written", "reply-lost", "twice-not-written", "retry-reply-lost", "mixed"],
)
async def test_a_failed_call_settle_is_retried_and_recorded_exactly_once(
    store: Store, script: list[str]
) -> None:
    flaky = Flaky(store)
    flaky.script = list(script)
    ledger = Ledger(flaky)
    granted, _ = await ledger.reserve([_counter()], 100, 400, 16, HOLD)
    assert granted is not None
    _, holds = granted
    with pytest.raises(StoreError):
        await ledger.settle(holds, Usage(100, 250))  # spends 350
    assert await store.get(KEY) == (350 if script[0] == "lost" else 0)
    await _written(store, 350, flaky)
    assert await store.get(KEY) == 350 and await store.reserved(KEY) == 0
    assert flaky.settles == len(script) + 1
    # A replay of the last retry (its reply lost once more) adds nothing.
    reservation = holds[0].reservation
    assert isinstance(reservation, Reservation)
    await store.settle(reservation, 0, spent_total=350)
    assert await store.get(KEY) == 350


async def test_a_store_down_for_a_while_then_back_records_every_spend_once_within_the_ceiling(
    store: Store,
) -> None:
    """Calls settle while the store is down (their settles fail, new reserves fail
    closed); the holds keep the room taken meanwhile; once it is back, every spend is
    recorded once and nothing stays held."""
    flaky = Flaky(store)
    clock = FakeClock(time.time())
    counters = [_counter(limit=10_000)]
    ledger = Ledger(flaky, clock)
    spends: list[int] = []
    holds_per_call = []
    for _ in range(6):
        granted, _ = await ledger.reserve(counters, 100, 1_500, 16, HOLD)
        if granted is None:
            break
        holds_per_call.append(granted[1])
    assert len(holds_per_call) == 6  # 6 x 1,600 = 9,600 <= 10,000
    flaky.down = True
    for number, holds in enumerate(holds_per_call):
        with pytest.raises(StoreError):
            await ledger.settle(holds, Usage(100, 100 * number))
        spends.append(100 + 100 * number)
    with pytest.raises(StoreError):
        await ledger.reserve(counters, 100, 1_500, 16, HOLD)
    await asyncio.sleep(0.1)  # retries fail meanwhile
    assert len(pending_for(flaky)) == 6
    assert await store.get(KEY) + await store.reserved(KEY) <= 10_000
    flaky.down = False
    await _written(store, sum(spends), flaky)
    assert await store.get(KEY) == sum(spends) and await store.reserved(KEY) == 0
    assert not len(pending_for(flaky))


async def test_the_check_queues_a_failed_settle_and_counts_it(store: Store) -> None:
    """Through the engine: the call's finish does not fail, the metric counts the retry
    queued then written, and the spend is recorded once."""
    flaky = Flaky(store)
    policy = Policy.from_dict(
        {"name": "b", "budgets": [{"name": "team", "scope": "tenant", "limit_usd": 1.0}]}
    )
    engine = guard.Guard(policy, store=flaky, registry=CollectorRegistry())
    call = chat(max_tokens=100)
    lifecycle = engine.open(call, frontend="check")
    request = await lifecycle.astart()
    assert request is not None
    flaky.script = ["lost"]
    await lifecycle.adeliver(reply_for(request, 40))
    await lifecycle.afinish()
    check = engine.input_checks[-1]
    assert isinstance(check, BudgetCheck)
    keys = [k for k in flaky.reserved_keys if k.endswith(":usd")]
    first = await store.get(keys[0])
    assert first > 0
    for _ in range(200):
        if not len(pending_for(flaky)):
            break
        await asyncio.sleep(0.01)
    assert await store.get(keys[0]) == first
    assert await store.reserved(keys[0]) == 0

    def sample(result: str) -> float | None:
        return engine.telemetry.registry.get_sample_value(
            "guardwire_budget_settle_retries_total", {"result": result}
        )

    assert sample("queued") == 1 and sample("written") == 1


async def test_a_settlement_still_failing_at_shutdown_is_retried_then_counted(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = Flaky(store)
    results: list[str] = []
    pending_for(flaky).on_result = results.append
    ledger = Ledger(flaky)
    granted, _ = await ledger.reserve([_counter()], 10, 10, 10, HOLD)
    assert granted is not None
    flaky.down = True
    with pytest.raises(StoreError):
        await ledger.settle(granted[1], Usage(10, 10))
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, "guardwire"):
        await close_leases(flaky, seconds=0.3)
    assert time.monotonic() - started < 2.0  # bounded (0.3 s of retries)
    assert results.count("abandoned") == 1 and "written" not in results
    assert "1 budget settlements not written at shutdown" in caplog.text
    assert KEY not in caplog.text  # no keys (tenants) in the log
    # The hold was left as it was: it counts as spent until it expires.
    flaky.down = False
    assert await store.get(KEY) == 0 and await store.reserved(KEY) == 20


async def test_a_settlement_pending_at_shutdown_is_written_when_the_store_comes_back(
    store: Store,
) -> None:
    flaky = Flaky(store)
    ledger = Ledger(flaky)
    granted, _ = await ledger.reserve([_counter()], 10, 10, 10, HOLD)
    assert granted is not None
    flaky.script = ["failed"] * 4
    with pytest.raises(StoreError):
        await ledger.settle(granted[1], Usage(10, 5))
    await close_leases(flaky, seconds=5.0)
    assert await store.get(KEY) == 15 and await store.reserved(KEY) == 0


@pytest.mark.parametrize("applied", [True, False], ids=["reply-lost", "not-written"])
async def test_a_lease_final_write_failing_at_shutdown_is_retried_within_a_bound(
    store: Store, applied: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "FLUSH_SECONDS", 3600.0)
    flaky = Flaky(store)
    enable_leases(flaky)
    book = leases.leases_for(flaky)
    assert book is not None
    first = await book.reserve(KEY, 1_600, LIMIT, None, HOLD)  # busy: 16 calls' room
    assert isinstance(first, Reservation)
    await store.release(first)
    carved = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(carved, Carved)
    await book.settle(carved, 70)
    flaky.script = ["lost" if applied else "failed"] * 3
    await close_leases(flaky, seconds=5.0)
    assert await store.get(KEY) == 70 and await store.reserved(KEY) == 0


async def test_a_lease_final_write_failing_past_the_bound_is_counted(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(leases, "FLUSH_SECONDS", 3600.0)
    flaky = Flaky(store)
    book = LeaseBook(flaky)
    leases._books[flaky] = book
    abandoned: list[int] = []
    book.on_abandoned = lambda: abandoned.append(1)
    first = await book.reserve(KEY, 1_600, LIMIT, None, HOLD)  # busy: 16 calls' room
    assert isinstance(first, Reservation)
    await store.release(first)
    carved = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(carved, Carved)
    await book.settle(carved, 70)
    flaky.down = True
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, "guardwire"), pytest.raises(StoreError):
        await close_leases(flaky, seconds=0.3)
    assert time.monotonic() - started < 2.0
    assert abandoned == [1]
    assert "1 budget leases not written at shutdown" in caplog.text


@pytest.mark.parametrize("failure", ["lost", "failed"])
async def test_a_call_outliving_the_shutdown_flush_is_queued_when_its_write_fails(
    store: Store, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    monkeypatch.setattr(leases, "FLUSH_SECONDS", 3600.0)
    flaky = Flaky(store)
    book = LeaseBook(flaky)
    first = await book.reserve(KEY, 1_600, LIMIT, None, HOLD)  # busy: 16 calls' room
    assert isinstance(first, Reservation)
    await store.release(first)
    carved = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(carved, Carved)
    await book.close()  # the call is still running: its room stays held
    flaky.script = [failure]
    with pytest.raises(StoreError):
        await book.settle(carved, 60)
    await _written(store, 60, flaky)
    assert await store.get(KEY) == 60 and await store.reserved(KEY) == 0


async def test_a_settlement_not_written_before_its_hold_expires_is_given_up(
    store: Store,
) -> None:
    """Past its hold a retry is no longer exact (the room may be lent again): counted as
    abandoned and not written."""
    flaky = Flaky(store)
    queue = pending_for(flaky)
    results: list[str] = []
    queue.on_result = results.append
    granted, _ = await Ledger(flaky).reserve([_counter()], 10, 10, 10, HOLD)
    assert granted is not None
    flaky.down = True
    with pytest.raises(StoreError):
        await Ledger(flaky).settle(granted[1], Usage(10, 10))
    queue.clock = lambda: time.time() + HOLD + 1
    flaky.down = False
    assert await queue.retry_once()
    assert results == ["queued", "abandoned"]


async def test_the_queue_is_bounded_and_says_so_once(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(retries, "MAX_PENDING", 3)
    flaky = Flaky(store)
    results: list[str] = []
    pending_for(flaky).on_result = results.append
    ledger = Ledger(flaky)
    held = []
    for _ in range(5):
        granted, _ = await ledger.reserve([_counter()], 10, 10, 10, HOLD)
        assert granted is not None
        held.append(granted[1])
    flaky.down = True
    with caplog.at_level(logging.ERROR, "guardwire"):
        for holds in held:
            with pytest.raises(StoreError):
                await ledger.settle(holds, Usage(10, 10))
    assert len(pending_for(flaky)) == 3
    assert results.count("queued") == 3 and results.count("abandoned") == 2
    assert caplog.text.count("budget settlement queue full") == 1
    flaky.down = False
    await _written(store, 60, flaky)
    assert await store.get(KEY) == 60 and await store.reserved(KEY) == 40  # 2 holds wait


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def clocked(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, FakeClock]]:
    clock = FakeClock(time.time())
    urls = {"memory": "memory://", "sqlite": f"sqlite://{tmp_path / 'state.db'}"}
    opened = open_store(urls.get(request.param) or fresh_url(), clock=clock)
    await opened.open()
    yield opened, clock
    await drain_pending(opened, 0.0)
    await opened.close()


async def test_a_store_down_past_the_hold_charges_the_reservation_never_the_room_back(
    clocked: tuple[Store, FakeClock],
) -> None:
    """The outage outlasts the hold: the settlement is given up, and the store charges
    the hold's reserved amount when it expires (it does not give its room back as if
    nothing was spent); the ceiling holds and nothing is counted twice."""
    store, clock = clocked
    flaky = Flaky(store)
    ledger = Ledger(flaky, clock)
    counters = [_counter(limit=1_000)]
    granted, _ = await ledger.reserve(counters, 100, 500, 16, HOLD)  # holds 600
    assert granted is not None
    flaky.down = True
    with pytest.raises(StoreError):
        await ledger.settle(granted[1], Usage(100, 200))  # spent 300 of the 600
    clock.advance(HOLD + 1)  # (Redis keeps expiry times to the microsecond)
    flaky.down = False
    queue = pending_for(flaky)
    assert await queue.retry_once() and not len(queue)  # past the hold: given up
    assert await store.get(KEY) == 600 and await store.reserved(KEY) == 0
    clamped, _ = await ledger.reserve(counters, 100, 500, 16, HOLD)
    assert clamped is not None and clamped[0] == 300  # clamped to the 400 left, not 1,000
    # Even a late write of the call's settle adds nothing within the reservation.
    reservation = granted[1][0].reservation
    assert isinstance(reservation, Reservation)
    assert await store.settle(reservation, 300) == 600
    assert await store.settle(reservation, 0, spent_total=300) == 600
