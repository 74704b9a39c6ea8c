"""State stores: one reserve + settle (what a budgeted call costs), per store and path.

Rows ``stores.<store>.<face>.reserve_settle``: the sync facade, and the async methods
in each way SQLite work can reach the event loop (``auto``: inline while the write lock
is free, else a thread — the default; ``inline``; ``thread``). Issue 18 asks for a
SQLite median <= 0.2 ms.

Rows ``stores.sqlite.async.<mode>.contended``: the same while another process hammers
the same file. Every async row also has ``loop_lag_p99_ms`` and ``loop_lag_max_ms``:
how late a 1 ms timer on the same event loop fired (the benchmark yields to the loop
after each call, as a server does between requests), i.e. how long one store call kept
the loop from other work. On a loaded machine the lag includes time the OS gave the
loop's thread no core at all; compare rows of one run only.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench._runner import Result, from_samples, measure, percentile
from guard.stores import MemoryStore, SQLiteStore, Store

LIMIT = 10**15  # never refuses: the benchmark measures the granted path


def _reserve_settle_sync(store: Store, key: str) -> Callable[[], object]:
    sync = store.sync

    def operation() -> object:
        held = sync.reserve(key, 100, LIMIT, 86_400, 60)
        assert held is not None
        return sync.settle(held, 90)

    return operation


async def _reserve_settle(store: Store, key: str) -> None:
    held = await store.reserve(key, 100, LIMIT, 86_400, 60)
    assert held is not None
    await store.settle(held, 90)


async def _timed(
    operation: Callable[[], Awaitable[None]], seconds: float
) -> tuple[list[float], list[float]]:
    """Per-call durations, and the lateness of a 1 ms heartbeat timer meanwhile."""
    lags: list[float] = []
    stop = False

    async def heartbeat() -> None:
        while not stop:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - started - 0.001)

    beating = asyncio.create_task(heartbeat())
    for _ in range(50):
        await operation()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 50:
        started = time.perf_counter()
        await operation()
        samples.append(time.perf_counter() - started)
        # Like a server between requests: give the loop a turn, so that the heartbeat
        # measures how long one store call held the loop, not the whole run.
        await asyncio.sleep(0)
    stop = True
    await beating
    return samples, lags


def _hammer(path: str, seconds: float) -> None:
    """Another worker process writing to the same file as fast as it can."""
    store = SQLiteStore(path)
    store.sync.open()
    deadline = time.perf_counter() + seconds
    operation = _reserve_settle_sync(store, "other-process")
    while time.perf_counter() < deadline:
        operation()
    store.sync.close()


def _lag_fields(lags: list[float]) -> dict[str, Any]:
    ms = [max(lag, 0.0) * 1000 for lag in lags] or [0.0]
    return {"loop_lag_p99_ms": round(percentile(ms, 0.99), 3), "loop_lag_max_ms": round(max(ms), 3)}


def run(seconds: float) -> list[Result]:
    directory = Path(tempfile.mkdtemp(prefix="guardwire-bench-stores-"))
    results = []

    memory = MemoryStore()
    memory.sync.open()
    results.append(
        measure(
            "stores.memory.sync.reserve_settle", _reserve_settle_sync(memory, "b"), seconds=seconds
        )
    )

    sqlite = SQLiteStore(directory / "state.db")
    sqlite.sync.open()
    results.append(
        measure(
            "stores.sqlite.sync.reserve_settle", _reserve_settle_sync(sqlite, "b"), seconds=seconds
        )
    )
    sqlite.sync.close()

    for mode in ("auto", "inline", "thread"):
        store = SQLiteStore(directory / "state.db", offload=mode)  # type: ignore[arg-type]

        async def quiet(store: SQLiteStore = store) -> tuple[list[float], list[float]]:
            await store.open()
            try:
                return await _timed(lambda: _reserve_settle(store, "b"), seconds)
            finally:
                await store.close()

        samples, lags = asyncio.run(quiet())
        results.append(
            from_samples(f"stores.sqlite.async.{mode}.reserve_settle", samples, **_lag_fields(lags))
        )

    for mode in ("auto", "inline"):
        store = SQLiteStore(directory / "state.db", offload=mode)  # type: ignore[arg-type]
        other = multiprocessing.get_context("spawn").Process(
            target=_hammer, args=(str(directory / "state.db"), seconds + 3)
        )
        other.start()
        time.sleep(1.5)  # let the other process start writing

        async def contended(store: SQLiteStore = store) -> tuple[list[float], list[float]]:
            await store.open()
            try:
                return await _timed(lambda: _reserve_settle(store, "b"), seconds)
            finally:
                await store.close()

        samples, lags = asyncio.run(contended())
        other.join()
        results.append(
            from_samples(f"stores.sqlite.async.{mode}.contended", samples, **_lag_fields(lags))
        )
    return results
