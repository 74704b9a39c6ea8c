"""A worker killed mid-call: what its budget leases cost once their holds expire.

The worker is a :class:`LeaseBook` serving calls at a steady rate (flushing every
tick, as its background task does every ``FLUSH_SECONDS``); it is "killed" between two
flushes with calls in flight: no close, no further write. Its holds then expire in the
store (the store's clock moves past them) and are charged at what they hold.

- **The ceiling** (holds): the counter never passes the limit, during the run or after
  the holds were charged.
- **The overcharge**: what expiry charges beyond what the worker had reserved and not
  settled in the store (the reservations of its calls in flight and of those settled
  in memory since its last write). A lease is charged at all the room it holds. Leases
  used to hold 16 calls' room whatever their key's rate: 5.8-8.3 call reservations on
  average over these kills. They now hold about what their key asks for until the next
  flush: under one call on average at up to 3 calls per flush interval; at 8, about 4
  (at most 13), which is still open (strict xfail).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from guard.checks import _budget_leases as leases
from guard.checks._budget_leases import Carved, LeaseBook
from guard.stores import Reservation, Store, open_store
from tests.redis_server import fresh_url
from tests.stores.conftest import FakeClock

KEY = "gw:budget:b:-:all:usd"
HOLD = 900.0
#: One call's reservation; each call spends half of it.
CALL = 1_000
#: Ticks of steady traffic before the kill.
TICKS = 30


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Store]:
    urls = {"memory": "memory://", "sqlite": f"sqlite://{tmp_path / 'state.db'}"}
    opened = open_store(urls.get(request.param) or fresh_url(), clock=clock)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture(autouse=True)
def manual_time(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The book's monotonic time moves by hand, one flush interval per tick, and its
    background flusher never runs on its own (the test flushes each tick)."""
    now = [1_000.0]
    monkeypatch.setattr(leases.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(leases, "FLUSH_SECONDS", 3_600.0)
    return now


async def _killed_mid_call(
    store: Store, clock: FakeClock, now: list[float], rate: float, seed: int, limit: int
) -> tuple[int, int, int]:
    """Serve ``rate`` calls per flush interval (each lasting 1-5 intervals), kill the
    worker between two flushes, let its holds expire. Returns (peak of counter + holds
    during the run, what expiry charged, what the worker had reserved and not settled
    in the store)."""
    book = LeaseBook(store)
    rng = random.Random(seed)
    in_flight: list[tuple[Carved | Reservation, int]] = []
    peak = 0

    def poisson(mean: float) -> int:
        arrived, waited = 0, rng.expovariate(1.0)
        while waited < mean:
            arrived, waited = arrived + 1, waited + rng.expovariate(1.0)
        return arrived

    async def arrivals(tick: int, share: float = 1.0) -> None:
        for _ in range(poisson(rate * share)):
            held = await book.reserve(KEY, CALL, limit, None, HOLD)
            if held is not None:
                in_flight.append((held, tick + rng.randint(1, 5)))

    settled_in_memory = 0
    for tick in range(TICKS):
        await arrivals(tick)
        for ended in [item for item in in_flight if item[1] <= tick]:
            in_flight.remove(ended)
            held = ended[0]
            if isinstance(held, Carved):
                await book.settle(held, CALL // 2)
                settled_in_memory += held.amount
            else:
                await store.settle(held, CALL // 2)
        peak = max(peak, await store.get(KEY) + await store.reserved(KEY))
        now[0] += 0.1
        await book.flush()
        settled_in_memory = 0
    # Killed mid-interval: calls taken since the last write, then no more writes.
    await arrivals(TICKS, rng.random())
    if book._flusher is not None:
        book._flusher.cancel()
    unsettled = settled_in_memory + sum(held.amount for held, _ in in_flight)
    written = await store.get(KEY)
    clock.advance(HOLD + leases.LEASE_SECONDS + 1)
    charged = await store.get(KEY) - written
    await asyncio.sleep(0)
    return peak, charged, unsettled


@pytest.mark.parametrize("rate", [0.5, 8.0])
async def test_a_killed_workers_holds_never_pass_the_limit(
    store: Store, clock: FakeClock, manual_time: list[float], rate: float
) -> None:
    limit = 40 * CALL  # tight: the traffic would spend more
    for seed in range(3):
        peak, charged, unsettled = await _killed_mid_call(
            store, clock, manual_time, rate, seed, limit
        )
        assert peak <= limit
        assert await store.get(KEY) <= limit
        assert charged >= unsettled  # whatever the worker had not settled is charged
        assert await store.reserved(KEY) == 0
        await store.incr(KEY, -(await store.get(KEY)))  # next seed starts from zero


async def _overcharges(
    store: Store, clock: FakeClock, now: list[float], rate: float, seeds: int = 10
) -> list[float]:
    """What expiry charged beyond the unsettled reservations, in call reservations, for
    a kill at each seed's moment."""
    found = []
    for seed in range(seeds):
        _, charged, unsettled = await _killed_mid_call(store, clock, now, rate, seed, 10**9)
        found.append((charged - unsettled) / CALL)
        await store.incr(KEY, -(await store.get(KEY)))
    return found


@pytest.mark.parametrize("rate", [0.5, 1.0, 3.0])
async def test_a_killed_workers_lease_is_overcharged_less_than_one_call_on_average(
    store: Store, clock: FakeClock, manual_time: list[float], rate: float
) -> None:
    """Leases hold about the room their key asks for until the next flush, so a kill
    charges little beyond the calls in flight. Before, a lease held 16 calls' room
    whatever the key's rate: 5.8 / 8.3 / 8.1 calls on average over these kills."""
    overcharges = await _overcharges(store, clock, manual_time, rate)
    assert sum(overcharges) / len(overcharges) < 1
    assert min(overcharges) >= 0  # never less than what was unsettled: the ceiling


@pytest.mark.xfail(
    strict=True,
    reason="not fixed: a lease holds the room its key is expected to ask for until the"
    " next flush; a kill before those calls came charges it (4 calls on average here, at"
    " most 13; 8.3 and 14 before). Less than one call each time needs a store write per"
    " call, which leases exist to avoid",
)
async def test_a_killed_busy_workers_lease_is_overcharged_less_than_one_call_each_time(
    store: Store, clock: FakeClock, manual_time: list[float]
) -> None:
    overcharges = await _overcharges(store, clock, manual_time, 8.0)
    assert max(overcharges) < 1
