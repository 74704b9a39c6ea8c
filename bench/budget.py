"""Budgets: what a reservation costs in the store, in the guard, and in the proxy.

Rows:

- ``budget.store.<sqlite|redis>.reserve_settle``: one reserve + settle on the async
  face (issue 18 asks for a median <= 0.2 ms on SQLite and <= 0.5 ms on Redis over
  loopback). Redis is a ``redis-server`` started for the run on a free loopback port.
- ``budget.guard.<sqlite|redis>.call``: a whole budgeted call in the guard (the budget
  check's reservation with its reads, the clamp, the settlement in the finish hook),
  with ``none``: the same call with no budget, for the difference.
- ``budget.proxy.nonstream.c16``: proxy throughput (requests per second) at concurrency
  16 with a tenant budget on SQLite, against the same proxy without budget (issue 18:
  within 20 %). Both proxies run side by side and the loads alternate ABBA, so the
  ratio compares the same minutes; ``extra`` has every run's figure and the ratio of
  the sums. Run it on a quiet machine (say ``uptime``): the load generator, the
  proxies and the fake upstream share the cores.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._load import cpu_seconds, fake_upstream, load_generator, proxy, request_body
from bench._runner import Result, from_samples
from guard import formats
from guard.engine import Guard
from guard.policy import Policy
from guard.stores import Store, open_store
from guard.types import Caller

LIMIT = 10**15  # never refuses: the benchmark measures the granted path
BUDGET = {"name": "bench", "scope": "tenant", "window": "day", "limit_usd": 1_000_000.0}


async def _timed(operation: Any, seconds: float) -> list[float]:
    for _ in range(50):
        await operation()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 50:
        started = time.perf_counter()
        await operation()
        samples.append(time.perf_counter() - started)
        await asyncio.sleep(0)  # like a server between requests
    return samples


async def _store_row(store: Store, seconds: float) -> list[float]:
    await store.open()

    async def reserve_settle() -> None:
        held = await store.reserve("bench", 100, LIMIT, 86_400, 60)
        assert held is not None
        await store.settle(held, 90)

    try:
        return await _timed(reserve_settle, seconds)
    finally:
        await store.close()


async def _guard_row(store: Store | None, seconds: float) -> list[float]:
    budgets = [BUDGET] if store is not None else []
    guard = Guard(Policy.from_dict({"name": "b", "budgets": budgets}), store=store)
    fmt = formats.get("openai.chat")
    request = json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello " * 100}]}
    ).encode()
    reply = json.dumps({
        "id": "x", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }).encode()  # fmt: skip

    async def one_call() -> None:
        call = fmt.parse_request(request, Caller(tenant="team-a"))
        lifecycle = guard.open(call, frontend="bench")
        sent = await lifecycle.astart()
        assert sent is not None
        await lifecycle.adeliver(fmt.parse_reply(sent, reply))
        await lifecycle.afinish()

    try:
        return await _timed(one_call, seconds)
    finally:
        if store is not None:
            await store.close()


def _redis_url() -> str | None:
    try:
        from tests.redis_server import server_url

        return server_url()
    except BaseException:  # pytest.skip outside pytest: no redis-server here
        return None


def _throughput(seconds: float, directory: Path, rounds: int = 2) -> Result | None:
    """Both proxies run at once; loads alternate none/budget/budget/none (ABBA) per
    round, so drift of a shared machine hits both alike."""
    policy = directory / "budget-policy.yaml"
    default = Path(__file__).parent.parent / "rules" / "default.yaml"
    policy.write_text(
        default.read_text() + "\nbudgets:\n  - " + json.dumps(BUDGET) + "\n", encoding="utf-8"
    )
    body = request_body("hello " * 170, stream=False)
    rps: dict[str, list[float]] = {"none": [], "budget": []}
    cpu_us: dict[str, list[float]] = {"none": [], "budget": []}
    latency: tuple[float, float, float, int] = (0.0, 0.0, 0.0, 0)
    with (
        fake_upstream() as upstream,
        load_generator() as generator,
        proxy(upstream.url, policy="default") as plain,
        proxy(upstream.url, policy=str(policy)) as budgeted,
    ):
        servers = {"none": plain, "budget": budgeted}
        for server in servers.values():
            generator.run(server.url, body, 16, 1)  # warm up pools and first calls
        for _ in range(rounds):
            for label in ("none", "budget", "budget", "none"):
                cpu_before = cpu_seconds(servers[label].pid)
                load = generator.run(servers[label].url, body, 16, seconds)
                used = cpu_seconds(servers[label].pid) - cpu_before
                if load.completed:
                    cpu_us[label].append(used / load.completed * 1e6)
                if load.failure:
                    print(f"budget.proxy ({label}): {load.failure}")
                    return None
                rps[label].append(load.rps)
                if label == "budget":
                    latency = (load.p50_ms, load.p99_ms, load.mean_ms, load.requests)
    p50, p99, mean, requests = latency
    ratios = [b / n for b, n in zip(rps["budget"], rps["none"], strict=True)]
    return Result(
        "budget.proxy.nonstream.c16", requests, p50, p99, mean,
        {"rps_budget": [round(x) for x in rps["budget"]],
         "rps_none": [round(x) for x in rps["none"]],
         "ratio": round(sum(rps["budget"]) / sum(rps["none"]), 3),
         "ratio_per_pair": [round(r, 3) for r in ratios],
         # The proxy's CPU time per request: the figure least moved by noisy neighbours.
         "cpu_us_budget": [round(x) for x in cpu_us["budget"]],
         "cpu_us_none": [round(x) for x in cpu_us["none"]]},
    )  # fmt: skip


def run(seconds: float) -> list[Result]:
    directory = Path(tempfile.mkdtemp(prefix="guardwire-bench-budget-"))
    # The proxy subprocess keeps its SQLite state next to the benchmark's files.
    import os

    os.environ["GUARDWIRE_STORE"] = f"sqlite://{directory / 'proxy-state.db'}"
    results: list[Result] = []
    stores = {"sqlite": f"sqlite://{directory / 'state.db'}"}
    redis = _redis_url()
    if redis is not None:
        stores["redis"] = redis + "?prefix=bench:"
    else:
        print("budget: redis-server not found; the Redis rows are skipped")
    for name, url in stores.items():
        samples = asyncio.run(_store_row(open_store(url), seconds))
        results.append(from_samples(f"budget.store.{name}.reserve_settle", samples))
    results.append(from_samples("budget.guard.none.call", asyncio.run(_guard_row(None, seconds))))
    for name, url in stores.items():
        samples = asyncio.run(_guard_row(open_store(url.replace("bench:", "bench2:")), seconds))
        results.append(from_samples(f"budget.guard.{name}.call", samples))
    throughput = _throughput(max(seconds, 3.0), directory)
    if throughput is not None:
        results.append(throughput)
    return results
