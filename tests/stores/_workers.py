"""Code run in child processes by the concurrency tests (importable under spawn)."""

from __future__ import annotations

import random
import time

from guard.stores import open_store


def reserve_and_settle(
    url: str, key: str, limit: int, attempts: int, seed: int, processes: int
) -> int:
    """Reserve random amounts against ``limit`` and settle each with its full amount;
    also count every attempt on ``key + ':attempts'``. Returns the amount granted.

    Workers start together (a barrier on ``key + ':ready'``) so that they really race.
    """
    store = open_store(url).sync
    store.open()
    rng = random.Random(seed)
    granted = 0
    try:
        store.incr(key + ":ready")
        deadline = time.monotonic() + 10
        while store.get(key + ":ready") < processes and time.monotonic() < deadline:
            time.sleep(0.001)
        for _ in range(attempts):
            store.incr(key + ":attempts")
            amount = rng.randint(1, 9)
            held = store.reserve(key, amount, limit, None, 60)
            if held is None:
                continue
            if rng.random() < 0.2:
                store.release(held)
            else:
                store.settle(held, amount)
                granted += amount
    finally:
        store.close()
    return granted
