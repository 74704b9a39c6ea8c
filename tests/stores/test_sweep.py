"""Expired state is purged even for keys nobody touches again (old budget windows,
ended sessions), so a long-running store stays bounded by its live state."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from guard.stores import MemoryStore, SQLiteStore, Store, SyncStore
from guard.stores.base import SWEEP_EVERY
from tests.stores.conftest import FakeClock


def _fill_and_expire(store: SyncStore, clock: FakeClock) -> None:
    for index in range(300):
        store.incr(f"window:{index}", 1, ttl=60)
        store.set_if_absent(f"first:{index}", clock.now, ttl=60)
        store.push_recent(f"recent:{index}", "h", keep=3, ttl=60)
        store.reserve(f"budget:{index}", 1, 10, 60, hold=60)
        lease = store.reserve(f"leased:{index}", 5, 10, 60, hold=60)
        assert lease is not None
        store.settle(lease, 3, spent_total=3)  # a lease's final write: marked a minute
    clock.advance(61)
    for _ in range(SWEEP_EVERY):
        store.incr("live", 1)


def test_the_memory_store_forgets_expired_keys() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.sync.open()
    _fill_and_expire(store.sync, clock)
    state = store.sync
    assert set(state._counters) == {"live"}  # type: ignore[attr-defined]
    assert not state._values and not state._recent and not state._holds  # type: ignore[attr-defined]
    assert not state._records._by_key  # type: ignore[attr-defined]


def test_the_sqlite_store_deletes_expired_rows(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SQLiteStore(tmp_path / "state.db", clock)
    store.sync.open()
    _fill_and_expire(store.sync, clock)
    store.sync.close()
    db = sqlite3.connect(tmp_path / "state.db")
    rows = {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("counters", "holds", "first_values", "recent", "settled")
    }
    assert rows == {"counters": 1, "holds": 0, "first_values": 0, "recent": 0, "settled": 0}


def test_both_stores_honour_the_protocols(tmp_path: Path) -> None:
    for store in (MemoryStore(), SQLiteStore(tmp_path / "state.db")):
        assert isinstance(store, Store) and isinstance(store.sync, SyncStore)
