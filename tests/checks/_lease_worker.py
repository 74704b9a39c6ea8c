"""A worker process serving budgeted calls from leases, for the kill test
(test_budget_lease_kill_process.py); importable under ``spawn``.

It starts calls at a steady rate on one key (each "at the upstream" for 50-300 ms,
then settled at its whole reservation) with the lease book's real background flusher,
and appends what happened to a log with unbuffered writes, so that a parent that
kills it knows which calls were in flight and which settled since the last write:
``granted <id> <amount>``, ``settled <id> carved|store``, ``flush-start <n>``,
``flushed <n>``. Run for ``seconds`` and closed gracefully, or killed before.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random

from guard.checks._budget_leases import Carved, LeaseBook
from guard.stores import open_store

HOLD = 900.0
CALL = 1_000


def serve(url: str, key: str, limit: int, log: str, seed: int, rate: float, seconds: float) -> None:
    """Serve ``rate`` calls per second for ``seconds`` (or until killed)."""
    asyncio.run(_serve(url, key, limit, log, seed, rate, seconds))


async def _serve(
    url: str, key: str, limit: int, log: str, seed: int, rate: float, seconds: float
) -> None:
    store = open_store(url)
    await store.open()
    book = LeaseBook(store)
    rng = random.Random(seed)
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    flushes = itertools.count()
    plain_flush = book.flush

    async def logged_flush(*, final: bool = False) -> None:
        number = next(flushes)
        os.write(out, f"flush-start {number}\n".encode())
        await plain_flush(final=final)
        os.write(out, f"flushed {number}\n".encode())

    book.flush = logged_flush  # type: ignore[method-assign]

    async def call(number: int) -> None:
        held = await book.reserve(key, CALL, limit, None, HOLD)
        if held is None:
            return
        os.write(out, f"granted {number} {CALL}\n".encode())
        await asyncio.sleep(rng.uniform(0.05, 0.3))
        if isinstance(held, Carved):
            await book.settle(held, CALL)
            os.write(out, f"settled {number} carved\n".encode())
        else:
            await store.settle(held, CALL)
            os.write(out, f"settled {number} store\n".encode())

    running: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    ends = loop.time() + seconds
    for number in itertools.count():
        if loop.time() >= ends:
            break
        task = loop.create_task(call(number))
        running.add(task)
        task.add_done_callback(running.discard)
        await asyncio.sleep(rng.expovariate(rate))
    await asyncio.gather(*running)
    await book.close()
    await store.close()
    os.close(out)
