"""Persistent stores keep their state across a restart; a crashed holder's reservation
expires instead of leaking (every store)."""

from __future__ import annotations

import pytest

from guard.stores import Store, open_store
from tests.stores.conftest import FakeClock, StoreCase


@pytest.fixture
def persistent(case: StoreCase) -> StoreCase:
    if not case.persistent:
        pytest.skip(f"the {case.name} store keeps state in one process only, by design")
    return case


async def test_state_survives_a_restart(
    persistent: StoreCase, store: Store, store_url: str, clock: FakeClock
) -> None:
    held = await store.reserve("budget", 30, limit=100, ttl=3600, hold=60)
    spent = await store.reserve("budget", 20, limit=100, ttl=3600, hold=60)
    assert held is not None and spent is not None
    await store.settle(spent, 15)
    await store.incr("steps", 3, ttl=600)
    await store.set_if_absent("first", clock.now, ttl=600)
    await store.push_recent("calls", "h1", keep=4, ttl=600)
    await store.close()

    restarted = open_store(store_url, clock=clock)
    await restarted.open()
    try:
        assert await restarted.get("budget") == 15
        assert await restarted.reserved("budget") == 30
        assert await restarted.get("steps") == 3
        assert await restarted.set_if_absent("first", 0.0) == clock.now
        assert await restarted.push_recent("calls", "h2", keep=4) == ["h1", "h2"]
        # A reservation made before the restart settles after it.
        assert await restarted.settle(held, 30) == 45
        assert await restarted.reserved("budget") == 0
    finally:
        await restarted.close()


async def test_a_crashed_holders_reservation_expires_charged_at_its_amount(
    store: Store, store_url: str, clock: FakeClock, case: StoreCase
) -> None:
    # "Crash": the holder never settles nor releases. Another user of the same data
    # (a second process for shared stores, the same one otherwise) sees the hold go
    # once ``hold`` seconds have passed, charged at its amount: the crashed call may
    # well have been charged upstream, so its room does not come back.
    other = open_store(store_url, clock=clock) if case.shared_across_processes else store
    await other.open()
    try:
        assert await store.reserve("budget", 60, limit=100, ttl=None, hold=45) is not None
        assert await other.reserve("budget", 41, limit=100, ttl=None, hold=45) is None
        clock.advance(45)
        assert await other.reserve("budget", 41, limit=100, ttl=None, hold=45) is None
        assert await other.reserved("budget") == 0
        assert await other.get("budget") == 60
        assert await other.reserve("budget", 40, limit=100, ttl=None, hold=45) is not None
    finally:
        if other is not store:
            await other.close()
