"""The ceiling holds through real proxy processes: 200 concurrent calls on a budget
that affords about 50, with random usage within max_tokens (the fake upstream).

Checked: the settled spend never passes the limit and equals what the upstream reported
(complete calls), every refused call got the budget's 429, no reservation is left
dangling; for SQLite with ``--workers 2`` and Redis with two proxy replicas; and for
streams, some cut by the budget and some dropped by their client mid-stream.
Each test starts proxy processes (~1-3 s): that is what they test.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard.checks._prices import PriceTable
from guard.checks._windows import counter_key, scope_value, window_bounds
from guard.stores import open_store
from tests.e2e._budget_proxies import proxies, write_config
from tests.fake_upstream import FakeUpstream
from tests.redis_server import fresh_url

LIMIT_USD = 0.003
LIMIT_NANO = round(LIMIT_USD * 1e9)
PRICE = PriceTable.shipped().lookup("gpt-4o-mini")
HEADERS = {"authorization": "Bearer sk-team-a"}


class Upstream:
    """The fake upstream with random usage within each request's max_tokens; remembers
    what it charged (nano-dollars) for the complete replies."""

    def __init__(self, fake: FakeUpstream) -> None:
        self.fake = fake
        self.rng = random.Random(18)
        self.charged = 0
        self.lock = threading.Lock()
        fake.usage_for = self.usage

    def usage(self, payload: dict[str, Any]) -> tuple[int, int]:
        assert PRICE is not None
        limit = payload.get("max_completion_tokens") or payload.get("max_tokens")
        assert isinstance(limit, int), "the budget forwards every call with max_tokens"
        used = (20, self.rng.randint(1, limit))
        with self.lock:
            if not payload.get("stream"):
                self.charged += used[0] * PRICE.input + used[1] * PRICE.output
        return used


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with FakeUpstream("budget " * 400) as fake:  # 2,800 bytes of text per reply
        yield Upstream(fake)


def store_urls(tmp: Path) -> dict[str, str]:
    # What is tested is the ceiling, not latency. 200 calls at once on a starved machine
    # can take a Redis operation past the store's 2 s deadline (the call then fails
    # closed, or its settlement is lost and the ledger is short): give them 10 s.
    return {"sqlite": f"sqlite://{tmp / 'state.db'}", "redis": fresh_url() + "&timeout=10"}


async def _call(client: httpx.AsyncClient, url: str, number: int, stream: bool) -> str:
    body: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": f"call {number}"}],
        # Streams: 40 tokens cannot carry the 2,800-byte reply (cut by the budget), 600 can.
        "max_tokens": 200 if not stream else (40, 200, 600)[number % 3],
        "stream": stream,
    }
    if not stream:
        response = await client.post(url + "/v1/chat/completions", json=body, headers=HEADERS)
        return _classify(response.status_code, response.json(), response.headers)
    async with client.stream(
        "POST", url + "/v1/chat/completions", json=body, headers=HEADERS
    ) as response:
        if response.status_code != 200:
            await response.aread()
            return _classify(response.status_code, response.json(), response.headers)
        if number % 3 == 1:  # the client goes away mid-stream
            async for _ in response.aiter_bytes():
                return "disconnected"
        text = (await response.aread()).decode()
    return "cut" if "reservation" in text and "team-daily" not in text else _streamed(text)


def _streamed(text: str) -> str:
    assert text.rstrip().endswith("data: [DONE]") or '"error"' in text
    return "cut" if '"error"' in text else "ok"


def _classify(status: int, body: Any, headers: httpx.Headers) -> str:
    if status == 200:
        return "ok"
    assert status == 429, body
    assert body["error"]["code"] == "budget_exceeded"
    assert "team-daily" in body["error"]["message"]
    assert int(headers["retry-after"]) > 0
    return "refused"


async def _storm(urls: list[str], stream: bool) -> list[str]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        calls = [_call(client, urls[n % len(urls)], n, stream) for n in range(200)]
        return await asyncio.gather(*calls)


async def _ledger(store_url: str) -> tuple[int, int]:
    """(settled, still reserved) on the team's USD counter, waiting for stragglers."""
    store = open_store(store_url)
    await store.open()
    try:
        window, _ = window_bounds("day", time.time(), None)
        key = counter_key("team-daily", scope_value("team-a"), window, "usd")
        deadline = time.monotonic() + 10
        while await store.reserved(key) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # disconnected calls finish after their client left
        return await store.get(key), await store.reserved(key)
    finally:
        await store.close()


@pytest.mark.parametrize(("backend", "replicas", "workers"), [("sqlite", 1, 2), ("redis", 2, 1)])
async def test_complete_calls_never_pass_the_ceiling(
    upstream: Upstream, tmp_path: Path, backend: str, replicas: int, workers: int
) -> None:
    store = store_urls(tmp_path)[backend]
    config = write_config(tmp_path, upstream.fake.url, store, LIMIT_USD)
    with proxies(config, replicas=replicas, workers=workers) as urls:
        results = await _storm(urls, stream=False)
    settled, dangling = await _ledger(store)
    assert dangling == 0
    assert 0 < settled <= LIMIT_NANO
    assert settled == upstream.charged  # settled with the provider's usage, exactly
    assert results.count("ok") >= 10 and results.count("refused") >= 50
    assert set(results) == {"ok", "refused"}


@pytest.mark.parametrize(("backend", "replicas", "workers"), [("sqlite", 1, 2), ("redis", 2, 1)])
async def test_streams_cut_and_dropped_never_pass_the_ceiling(
    upstream: Upstream, tmp_path: Path, backend: str, replicas: int, workers: int
) -> None:
    store = store_urls(tmp_path)[backend]
    config = write_config(tmp_path, upstream.fake.url, store, LIMIT_USD)
    with proxies(config, replicas=replicas, workers=workers) as urls:
        results = await _storm(urls, stream=True)
    settled, dangling = await _ledger(store)
    assert dangling == 0
    assert 0 < settled <= LIMIT_NANO
    assert {"ok", "refused", "cut", "disconnected"} <= set(results)
