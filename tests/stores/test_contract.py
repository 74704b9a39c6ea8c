"""The contract every state store honours (memory, SQLite; Redis will run it too).

Each test runs once per backend and once per face (async methods, sync facade).
Time is a fake clock: TTLs and reservation holds expire without sleeping.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from guard.stores import Reservation, Store, StoreError
from tests.stores.conftest import Api, FakeClock

HOUR = 3600.0


async def test_incr_returns_the_new_value_and_get_reads_it(api: Api) -> None:
    assert await api.get("steps") == 0
    assert await api.incr("steps") == 1
    assert await api.incr("steps", 41) == 42
    assert await api.incr("steps", -2) == 40
    assert await api.get("steps") == 40
    assert await api.get("other") == 0


async def test_counter_ttl_is_a_fixed_window_set_when_created(api: Api, clock: FakeClock) -> None:
    await api.incr("window", 5, ttl=60)
    clock.advance(50)
    await api.incr("window", 1, ttl=60)  # does not extend the window
    assert await api.get("window") == 6
    clock.advance(10)
    assert await api.get("window") == 0
    assert await api.incr("window", 2, ttl=60) == 2  # a new window starts from zero
    clock.advance(59)
    assert await api.get("window") == 2


async def test_reserve_is_a_check_and_add_against_the_limit(api: Api) -> None:
    first = await api.reserve("budget", 60, limit=100, ttl=None, hold=30)
    assert isinstance(first, Reservation) and first.amount == 60 and first.key == "budget"
    assert await api.reserved("budget") == 60
    assert await api.reserve("budget", 41, limit=100, ttl=None, hold=30) is None
    exactly = await api.reserve("budget", 40, limit=100, ttl=None, hold=30)
    assert exactly is not None and exactly.id != first.id
    assert await api.reserve("budget", 1, limit=100, ttl=None, hold=30) is None
    assert await api.reserved("budget") == 100
    assert await api.get("budget") == 0  # reserved is not used


async def test_used_counts_against_the_limit(api: Api) -> None:
    await api.incr("budget", 90)
    assert await api.reserve("budget", 11, limit=100, ttl=None, hold=30) is None
    assert await api.reserve("budget", 10, limit=100, ttl=None, hold=30) is not None


async def test_settle_moves_the_actual_amount_to_used(api: Api) -> None:
    small = await api.reserve("budget", 50, limit=100, ttl=None, hold=30)
    big = await api.reserve("budget", 50, limit=100, ttl=None, hold=30)
    assert small is not None and big is not None
    assert await api.settle(small, 20) == 20
    assert await api.reserved("budget") == 50
    # Over the reservation and over the limit: spend that happened is never refused.
    assert await api.settle(big, 95) == 115
    assert await api.reserved("budget") == 0
    assert await api.get("budget") == 115
    assert await api.reserve("budget", 0, limit=100, ttl=None, hold=30) is None


async def test_settle_with_keep_spends_and_keeps_the_rest_held(api: Api, clock: FakeClock) -> None:
    # A lease (guard.checks._budget_leases): spend what its calls used, keep holding
    # what its calls still carry, in one atomic step.
    lease = await api.reserve("budget", 80, limit=100, ttl=None, hold=30)
    assert lease is not None
    assert await api.settle(lease, 30, keep=20) == 30
    assert await api.reserved("budget") == 20 and await api.get("budget") == 30
    assert await api.reserve("budget", 51, limit=100, ttl=None, hold=30) is None
    assert await api.reserve("budget", 50, limit=100, ttl=None, hold=30) is not None
    # The kept hold still expires when the original one would have, charged at what it
    # held (20; the other hold's 50 too): expired unsettled, it counts as spent.
    clock.advance(30)
    assert await api.reserved("budget") == 0
    assert await api.get("budget") == 100
    # Settling the expired hold later adds only what passes its reservation (80).
    assert await api.settle(lease, 5, keep=10) == 100
    assert await api.settle(lease, 85) == 105
    assert await api.reserved("budget") == 0
    second = await api.reserve("budget", 10, limit=200, ttl=None, hold=30)
    assert second is not None
    assert await api.settle(second, 0, keep=4) == 105
    assert await api.settle(second, 4) == 109  # keep=0: dropped
    assert await api.reserved("budget") == 0


async def test_release_drops_the_reservation_and_is_idempotent(api: Api) -> None:
    held = await api.reserve("budget", 70, limit=100, ttl=None, hold=30)
    assert held is not None
    await api.release(held)
    await api.release(held)
    assert await api.reserved("budget") == 0 and await api.get("budget") == 0
    settled = await api.reserve("budget", 100, limit=100, ttl=None, hold=30)
    assert settled is not None
    await api.settle(settled, 10)
    await api.release(settled)  # after settle: nothing left to drop, spend stays
    assert await api.get("budget") == 10


async def test_a_reservation_expires_after_its_hold(api: Api, clock: FakeClock) -> None:
    held = await api.reserve("budget", 100, limit=100, ttl=None, hold=30)
    assert held is not None and held.expires_at == clock.now + 30
    clock.advance(29)
    assert await api.reserve("budget", 1, limit=100, ttl=None, hold=30) is None
    clock.advance(1)
    # Expired unsettled: charged at its amount (its process may have died mid-call, the
    # provider may have charged it), never given back as if nothing was spent.
    assert await api.reserved("budget") == 0
    assert await api.reserve("budget", 1, limit=100, ttl=None, hold=30) is None
    assert await api.get("budget") == 100
    # The holder settling late adds only spend beyond what was charged.
    assert await api.settle(held, 40) == 100
    assert await api.settle(held, 130) == 130
    again = await api.reserve("budget", 100, limit=300, ttl=None, hold=30)
    assert again is not None
    assert await api.reserved("budget") == 100


async def test_settle_creates_the_counter_with_the_reservation_ttl(
    api: Api, clock: FakeClock
) -> None:
    held = await api.reserve("day", 10, limit=100, ttl=HOUR, hold=30)
    assert held is not None and held.ttl == HOUR
    await api.settle(held, 7)
    clock.advance(HOUR - 1)
    assert await api.get("day") == 7
    clock.advance(1)
    assert await api.get("day") == 0
    assert await api.reserve("day", 100, limit=100, ttl=HOUR, hold=30) is not None


async def test_set_if_absent_keeps_the_first_value_with_its_type(
    api: Api, clock: FakeClock
) -> None:
    first_seen = clock.now
    assert await api.set_if_absent("session:first", first_seen, ttl=600) == first_seen
    clock.advance(5)
    assert await api.set_if_absent("session:first", clock.now, ttl=600) == first_seen
    assert await api.set_if_absent("count", 7) == 7
    assert await api.set_if_absent("hash", "7") == "7"
    assert isinstance(await api.set_if_absent("hash", 8), str)
    clock.advance(595)
    assert await api.set_if_absent("session:first", clock.now, ttl=600) == clock.now


async def test_take_removes_a_value_exactly_once(api: Api, clock: FakeClock) -> None:
    # An approval (issue 23) lets the same tool call through once within its TTL.
    assert await api.take("approval:a1") is None
    await api.set_if_absent("approval:a1", "granted", ttl=900)
    assert await api.take("approval:a1") == "granted"
    assert await api.take("approval:a1") is None
    assert await api.set_if_absent("approval:a1", "again", ttl=900) == "again"
    clock.advance(900)
    assert await api.take("approval:a1") is None  # expired: nothing to take


async def test_take_hands_a_value_to_one_of_many_racing_callers(store: Store) -> None:
    await store.set_if_absent("approval:a2", 1, ttl=900)
    start = threading.Barrier(8)

    def take() -> object:
        start.wait()
        return store.sync.take("approval:a2")

    with ThreadPoolExecutor(8) as pool:
        from_threads = [pool.submit(take) for _ in range(8)]
        from_tasks = await asyncio.gather(*(store.take("approval:a2") for _ in range(8)))
        taken = [*from_tasks, *(future.result() for future in from_threads)]
    assert taken.count(1) == 1 and taken.count(None) == 15


async def test_push_recent_keeps_the_newest_items_oldest_first(api: Api) -> None:
    assert await api.push_recent("calls", "a", keep=3) == ["a"]
    assert await api.push_recent("calls", "b", keep=3) == ["a", "b"]
    assert await api.push_recent("calls", "c", keep=3) == ["a", "b", "c"]
    assert await api.push_recent("calls", "d", keep=3) == ["b", "c", "d"]
    assert await api.push_recent("calls", "d", keep=2) == ["d", "d"]
    assert await api.push_recent("other", "x", keep=3) == ["x"]


async def test_push_recent_renews_its_ttl_and_starts_over_when_idle(
    api: Api, clock: FakeClock
) -> None:
    await api.push_recent("calls", "a", keep=5, ttl=60)
    clock.advance(50)
    await api.push_recent("calls", "b", keep=5, ttl=60)
    clock.advance(50)
    assert await api.push_recent("calls", "c", keep=5, ttl=60) == ["a", "b", "c"]
    clock.advance(60)
    assert await api.push_recent("calls", "d", keep=5, ttl=60) == ["d"]


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.incr("k" * 201),
        lambda api: api.incr(""),
        lambda api: api.incr("k", 1.5),
        lambda api: api.reserve("k", -1, limit=10, ttl=None, hold=30),
        lambda api: api.reserve("k", 1, limit=10, ttl=None, hold=0),
        lambda api: api.reserve("k", 1, limit=10, ttl=-5, hold=30),
        lambda api: api.set_if_absent("k", "x" * 129),
        lambda api: api.set_if_absent("k", [1]),
        lambda api: api.push_recent("k", "a user's whole prompt, " * 10, keep=3),
        lambda api: api.push_recent("k", "a", keep=0),
    ],
)
async def test_values_that_are_not_short_ids_or_numbers_are_refused(api: Api, call: object) -> None:
    with pytest.raises(ValueError):
        await call(api)  # type: ignore[operator]


async def test_sync_facade_and_async_methods_share_the_data(store: Store) -> None:
    await store.incr("steps", 2)
    assert store.sync.incr("steps", 3) == 5
    held = store.sync.reserve("budget", 10, 10, None, 30)
    assert held is not None
    assert await store.reserve("budget", 1, 10, None, 30) is None
    assert await store.settle(held, 4) == 4
    assert store.sync.get("budget") == 4


async def test_a_closed_store_fails_with_a_store_error(store: Store) -> None:
    await store.ping()
    store.sync.ping()
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match="not open"):
        await store.ping()
    with pytest.raises(StoreError):
        await store.incr("steps")
    with pytest.raises(StoreError):
        store.sync.reserve("budget", 1, 10, None, 30)
    await store.open()
    await store.open()  # idempotent
    await store.ping()


async def test_scan_values_lists_live_values_under_a_prefix(api: Api, clock: FakeClock) -> None:
    # Pending approvals (issue 23) are listed by key prefix: live values only, bounded.
    await api.set_if_absent("approval:b", "second", ttl=60)
    await api.set_if_absent("approval:a", 7, ttl=900)
    await api.set_if_absent("approval:c", 1.5)
    await api.set_if_absent("approvals:other", "not under the prefix", ttl=900)
    await api.set_if_absent("x:approval:d", "not a prefix match", ttl=900)
    await api.incr("approval:counter", 1, ttl=900)  # counters are not values
    listed = await api.scan_values("approval:", 10)
    assert [(v.key, v.value) for v in listed] == [
        ("approval:a", 7), ("approval:b", "second"), ("approval:c", 1.5),
    ]  # fmt: skip
    expires = {v.key: v.expires_at for v in listed}
    assert expires == {"approval:a": clock.now + 900, "approval:b": clock.now + 60,
                       "approval:c": None}  # fmt: skip
    assert len(await api.scan_values("approval:", 2)) == 2  # bounded
    clock.advance(60)
    assert [v.key for v in await api.scan_values("approval:", 10)] == ["approval:a", "approval:c"]
    await api.take("approval:a")
    assert [v.key for v in await api.scan_values("approval:", 10)] == ["approval:c"]


async def test_scan_values_takes_the_prefix_literally(api: Api) -> None:
    # Glob and LIKE characters in a prefix match only themselves (Redis MATCH, SQL).
    await api.set_if_absent("a*[x]%_:1", 1, ttl=60)
    await api.set_if_absent("ab[x]%_:2", 2, ttl=60)
    await api.set_if_absent("a*[x]%_", 3, ttl=60)
    assert [v.key for v in await api.scan_values("a*[x]%_:", 10)] == ["a*[x]%_:1"]
    assert await api.scan_values("nothing:", 10) == []
    with pytest.raises(ValueError):
        await api.scan_values("approval:", 0)
