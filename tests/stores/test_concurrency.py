"""Many threads, tasks and processes reserving against one limit never pass it, lose no
update and leave no reservation behind (every store; processes for shared stores)."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from guard.stores import Store, open_store
from tests.stores._workers import reserve_and_settle
from tests.stores.conftest import StoreCase

LIMIT = 400
MAX_AMOUNT = 9


def _check_budget(granted: int, used: int, reserved: int, *, released: bool) -> None:
    assert reserved == 0, "a reservation was left dangling"
    assert used == granted, "an update was lost"
    assert used <= LIMIT, "the limit was passed"
    if not released:
        # Every hold became spend, so a refusal means used + held + amount was over the
        # limit then: the limit was really reached (nobody was refused for nothing).
        assert used > LIMIT - MAX_AMOUNT
    else:
        assert used > LIMIT // 2, "demand was twice the limit: most of it must be granted"


def test_threads_never_pass_the_limit(store: Store) -> None:
    sync = store.sync
    threads, attempts = 8, 40

    def worker(seed: int) -> int:
        rng = random.Random(seed)
        granted = 0
        for _ in range(attempts):
            sync.incr("budget:attempts")
            amount = rng.randint(1, MAX_AMOUNT)
            held = sync.reserve("budget", amount, LIMIT, None, 60)
            if held is None:
                continue
            if rng.random() < 0.2:
                sync.release(held)
            else:
                sync.settle(held, amount)
                granted += amount
        return granted

    with ThreadPoolExecutor(threads) as pool:
        granted = sum(pool.map(worker, range(threads)))
    assert sync.get("budget:attempts") == threads * attempts
    _check_budget(granted, sync.get("budget"), sync.reserved("budget"), released=True)


async def test_tasks_and_threads_together_never_pass_the_limit(store: Store) -> None:
    """Async calls (inline, or moved to a thread when the lock is taken) racing with
    sync-facade threads on the same key."""
    rng = random.Random(7)
    amounts = [rng.randint(1, MAX_AMOUNT) for _ in range(200)]

    async def task(amount: int) -> int:
        held = await store.reserve("budget", amount, LIMIT, None, 60)
        if held is None:
            return 0
        await asyncio.sleep(0)  # let others reserve while this one is "calling upstream"
        await store.settle(held, amount)
        return amount

    def thread_worker(amount: int) -> int:
        held = store.sync.reserve("budget", amount, LIMIT, None, 60)
        if held is None:
            return 0
        store.sync.settle(held, amount)
        return amount

    with ThreadPoolExecutor(4) as pool:
        threaded = asyncio.get_running_loop().run_in_executor(
            None, lambda: sum(pool.map(thread_worker, amounts[:80]))
        )
        async_granted = sum(await asyncio.gather(*(task(a) for a in amounts[80:])))
        granted = async_granted + await threaded
    used, reserved = await store.get("budget"), await store.reserved("budget")
    assert sum(amounts) > 2 * LIMIT
    _check_budget(granted, used, reserved, released=False)


def test_processes_never_pass_the_limit(case: StoreCase, store: Store, store_url: str) -> None:
    if not case.shared_across_processes:
        pytest.skip(f"the {case.name} store is not shared between processes, by design")
    processes, attempts = 2, 120
    # spawn, as uvicorn --workers does: fresh interpreters, nothing inherited. Starting
    # them is most of this test's time (0.3 s quiet, up to ~2 s on a loaded runner).
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        granted = sum(
            pool.starmap(
                reserve_and_settle,
                [
                    (store_url, "budget", LIMIT, attempts, seed, processes)
                    for seed in range(processes)
                ],
            )
        )
    check = open_store(store_url).sync
    check.open()
    try:
        assert check.get("budget:attempts") == processes * attempts
        _check_budget(granted, check.get("budget"), check.reserved("budget"), released=True)
    finally:
        check.close()
