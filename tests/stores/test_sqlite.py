"""SQLite specifics: how async calls reach the file, WAL, and what a lock wait does."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sqlite3
import threading
import warnings
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from guard.stores import SQLiteStore, StoreError


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "state.db", busy_timeout=2.0)
    await store.open()
    yield store
    await store.close()


async def test_writes_wait_for_another_process_lock_in_a_thread_not_on_the_loop(
    sqlite_store: SQLiteStore,
) -> None:
    # Another process (another connection) holds the write lock.
    other = sqlite3.connect(sqlite_store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    work = asyncio.create_task(sqlite_store.incr("steps", 1))
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0.002)
        ticks += 1
    assert not work.done() and ticks == 20  # the loop ran while the write waited
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(work, 2) == 1


async def test_writes_wait_for_another_thread_in_a_thread_not_on_the_loop(
    sqlite_store: SQLiteStore,
) -> None:
    lock = sqlite_store.sync._write_lock  # type: ignore[attr-defined]
    lock.acquire()
    try:
        work = asyncio.create_task(sqlite_store.incr("steps", 1))
        await asyncio.sleep(0.01)
        assert not work.done()
    finally:
        lock.release()
    assert await asyncio.wait_for(work, 2) == 1


async def test_a_lock_held_past_the_busy_timeout_is_a_store_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db", busy_timeout=0.05)
    await store.open()
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(
            StoreError, match=r"stayed locked by another process for more than 0\.05 s"
        ):
            await store.reserve("budget", 1, 10, None, 30)
        with pytest.raises(StoreError, match="stayed locked"):
            store.sync.incr("steps")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await store.incr("steps") == 1  # nothing half-done was left behind
    await store.close()


async def test_the_database_uses_wal(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.incr("steps")
    mode = sqlite3.connect(sqlite_store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


async def test_a_file_that_is_not_a_database_is_a_clear_store_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    store = SQLiteStore(path)
    with pytest.raises(StoreError, match="is a guardwire state database") as caught:
        await store.open()
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("offload", ["auto", "inline", "thread"])
async def test_every_offload_mode_gives_the_same_results(tmp_path: Path, offload: str) -> None:
    store = SQLiteStore(tmp_path / "state.db", offload=offload)  # type: ignore[arg-type]
    await store.open()
    held = await store.reserve("budget", 5, 10, None, 30)
    assert held is not None
    assert await store.settle(held, 3) == 3
    assert await store.push_recent("calls", "a", keep=2) == ["a"]
    await store.close()


def _child_writes(path: str, queue: object) -> None:
    store = _inherited[0]
    try:
        queue.put(store.sync.incr("steps"))  # type: ignore[attr-defined]
    except Exception as exc:  # pragma: no cover - reported to the parent
        queue.put(repr(exc))  # type: ignore[attr-defined]


_inherited: list[SQLiteStore] = []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
async def test_a_forked_child_opens_its_own_connection(sqlite_store: SQLiteStore) -> None:
    # A pre-fork server may open the store before forking workers; the parent's
    # connection and write lock (held here during the fork) must not leak into the child.
    assert await sqlite_store.incr("steps") == 1
    _inherited[:] = [sqlite_store]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    lock = sqlite_store.sync._write_lock  # type: ignore[attr-defined]
    with lock:
        child = context.Process(
            target=_child_writes, args=(str(sqlite_store.path), queue), daemon=True
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
            child.start()
    assert queue.get(timeout=10) == 2
    child.join(10)
    assert await sqlite_store.incr("steps") == 3


def test_threads_opening_a_new_file_at_once_all_see_its_tables(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    start = threading.Barrier(8)

    def open_and_count() -> int:
        start.wait()
        store.sync.open()
        return store.sync.incr("opened")

    with ThreadPoolExecutor(8) as pool:
        counts = sorted(pool.map(lambda _: open_and_count(), range(8)))
    assert counts == list(range(1, 9))
    store.sync.close()
