"""The contract of ``settle(..., spent_total=N)``: a lease's writes carry its cumulative
spend, so a write sent twice (its reply was lost after the store applied it) adds
nothing the second time. Runs on every backend and both faces, like test_contract.py.
"""

from __future__ import annotations

import pytest

from guard.stores import Reservation
from guard.stores.base import REPLAY_SECONDS
from tests.stores.conftest import Api, FakeClock

LIMIT = 1_000


async def _lease(api: Api, amount: int = 800, hold: float = 900) -> Reservation:
    lease = await api.reserve("budget", amount, limit=LIMIT, ttl=None, hold=hold)
    assert isinstance(lease, Reservation)
    return lease


async def test_a_replayed_write_adds_nothing_and_keeps_the_same_hold(api: Api) -> None:
    lease = await _lease(api)
    assert await api.settle(lease, 30, keep=500, spent_total=30) == 30
    assert await api.settle(lease, 30, keep=500, spent_total=30) == 30  # the replay
    assert await api.reserved("budget") == 500
    # The next write carries the lease's whole spend; only the new part is added.
    assert await api.settle(lease, 10, keep=400, spent_total=40) == 40
    assert await api.settle(lease, 10, keep=400, spent_total=40) == 40
    assert await api.get("budget") == 40 and await api.reserved("budget") == 400


async def test_a_write_that_never_arrived_is_carried_by_the_next_one(api: Api) -> None:
    lease = await _lease(api)
    assert await api.settle(lease, 30, keep=500, spent_total=30) == 30
    # The write of 25 more (total 55) failed before reaching the store; the retry
    # carries it with 15 more (total 70).
    assert await api.settle(lease, 40, keep=450, spent_total=70) == 70
    assert await api.reserved("budget") == 450


async def test_a_replayed_final_write_adds_nothing_and_holds_nothing(api: Api) -> None:
    lease = await _lease(api)
    assert await api.settle(lease, 30, keep=500, spent_total=30) == 30
    assert await api.settle(lease, 15, spent_total=45) == 45  # keep=0: the final write
    assert await api.settle(lease, 15, spent_total=45) == 45  # its replay
    assert await api.settle(lease, 30, keep=500, spent_total=30) == 45  # an older one
    # What marks the write as done holds no room: the whole rest of the limit is free.
    assert await api.reserved("budget") == 0
    assert await api.reserve("budget", LIMIT - 45, limit=LIMIT, ttl=None, hold=30) is not None
    assert await api.reserve("budget", 1, limit=LIMIT, ttl=None, hold=30) is None


async def test_an_older_write_arriving_late_changes_nothing(api: Api) -> None:
    lease = await _lease(api)
    assert await api.settle(lease, 40, keep=300, spent_total=40) == 40
    assert await api.settle(lease, 30, keep=600, spent_total=30) == 40
    assert await api.reserved("budget") == 300


async def test_the_final_mark_expires_a_minute_after_the_write(api: Api, clock: FakeClock) -> None:
    lease = await _lease(api)
    assert await api.settle(lease, 45, spent_total=45) == 45
    clock.advance(REPLAY_SECONDS - 1)
    assert await api.settle(lease, 45, spent_total=45) == 45
    clock.advance(1)
    # Forgotten: a write of a reservation the store knows nothing of adds its ``actual``
    # (spend is never lost), like a settle after the hold expired.
    assert await api.settle(lease, 5, spent_total=50) == 50


async def test_writes_after_the_hold_expired_are_still_counted_once(
    api: Api, clock: FakeClock
) -> None:
    lease = await _lease(api, hold=30)
    assert await api.settle(lease, 20, keep=500, spent_total=20) == 20
    clock.advance(30)  # the hold expired (a process stalled past it): charged (500)
    # Later writes add only spend beyond the reservation (800): none here.
    assert await api.settle(lease, 10, keep=400, spent_total=30) == 520
    assert await api.settle(lease, 10, keep=400, spent_total=30) == 520
    assert await api.reserved("budget") == 0  # an expired hold is not brought back
    clock.advance(REPLAY_SECONDS)
    # Nothing of the lease is left in the store: its ``actual`` (the unconfirmed part)
    # is added, less the reservation charged at expiry; never the whole total again.
    assert await api.settle(lease, 7, spent_total=37) == 520
    assert await api.settle(lease, 7, spent_total=37) == 520  # its replay: nothing


async def test_a_lease_hold_charged_at_expiry_is_not_charged_again_by_a_late_write(
    api: Api, clock: FakeClock
) -> None:
    lease = await _lease(api, hold=30)
    assert await api.settle(lease, 20, keep=500, spent_total=20) == 20
    clock.advance(30)
    assert await api.reserved("budget") == 0  # purged: charged at what it held (500)
    assert await api.get("budget") == 520
    # The late write of 10 more: within what was charged, nothing is added.
    assert await api.settle(lease, 10, keep=400, spent_total=30) == 520
    assert await api.reserved("budget") == 0


async def test_plain_settles_ignore_the_totals(api: Api) -> None:
    lease = await _lease(api)
    assert await api.settle(lease, 30, keep=500, spent_total=30) == 30
    assert await api.settle(lease, 30, keep=500) == 60  # no total: adds, as always
    assert await api.settle(lease, 5) == 65
    assert await api.reserved("budget") == 0


@pytest.mark.parametrize(("actual", "total"), [(10, 9), (1, -1), (1, 1.5)])
async def test_a_total_below_the_actual_spend_is_refused(
    api: Api, actual: int, total: object
) -> None:
    lease = await _lease(api)
    with pytest.raises(ValueError):
        await api.settle(lease, actual, keep=0, spent_total=total)
    assert await api.get("budget") == 0 and await api.reserved("budget") == 800
