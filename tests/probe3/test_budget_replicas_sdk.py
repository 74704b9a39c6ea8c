"""Budgets against concurrent SDK calls whose streams the client cancels mid-way.

Two proxy processes (replicas) share one SQLite file, or one Redis; 200 concurrent calls
through the async openai and anthropic SDKs (chat, Responses, messages; complete and
streamed), a third of the streams cancelled by the client after their first text: the
ceiling is never passed, nothing stays reserved, every refusal is the budget's 429, and
the cancelled streams are charged (never settled at zero). In one process, a cancelled
stream is settled by what passed before the client left: more than its input, far less
than its reservation.

The replica test starts two proxy processes (~1-3 s each on a loaded machine): that is
what it tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks._prices import PriceTable
from guard.checks._windows import counter_key, scope_value, window_bounds
from guard.stores import open_store
from tests.e2e._budget_proxies import proxies, write_config
from tests.e2e.fixtures import ProxyServer
from tests.e2e.test_budget_concurrency import LIMIT_NANO, LIMIT_USD, Upstream, store_urls
from tests.fake_upstream import FakeUpstream, Script

PRICE = PriceTable.shipped().lookup("gpt-4o-mini")
MODEL = "gpt-4o-mini"


async def _stream_first_text(n: int, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic,
                             bound: int, cancel: bool) -> str:  # fmt: skip
    """Stream call ``n`` (its API by ``n``); stop after the first text when ``cancel``."""
    prompt: Any = [{"role": "user", "content": f"call {n}"}]
    api = n % 3
    if api == 0:
        chunks = await oai.chat.completions.create(
            model=MODEL, max_tokens=bound, messages=prompt, stream=True
        )
        async for chunk in chunks:
            if cancel and chunk.choices and chunk.choices[0].delta.content:
                await chunks.close()
                return "cancelled"
        return "ok"
    if api == 1:
        async with ant.messages.stream(model=MODEL, max_tokens=bound, messages=prompt) as events:
            async for _ in events.text_stream:
                if cancel:
                    return "cancelled"
        return "ok"
    async with oai.responses.stream(model=MODEL, max_output_tokens=bound, input=prompt) as stream:
        async for event in stream:
            if cancel and event.type == "response.output_text.delta":
                return "cancelled"
    return "ok"


async def _call(n: int, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic) -> str:
    bound = (40, 200, 600)[n % 3]
    try:
        if n % 2:
            return await _stream_first_text(n, oai, ant, bound, cancel=n % 3 == 1)
        prompt: Any = [{"role": "user", "content": f"call {n}"}]
        if n % 3 == 0:
            await oai.chat.completions.create(model=MODEL, max_tokens=bound, messages=prompt)
        elif n % 3 == 1:
            await ant.messages.create(model=MODEL, max_tokens=bound, messages=prompt)
        else:
            await oai.responses.create(model=MODEL, max_output_tokens=bound, input=prompt)
        return "ok"
    except openai.RateLimitError as refused:
        assert refused.code == "budget_exceeded", refused.body
        return "refused"
    except anthropic.RateLimitError as refused:
        assert "team-daily" in str(refused.body), refused.body
        return "refused"
    except (openai.APIError, anthropic.APIError) as cut:
        # A stream past its reservation (the reply is longer than a 40-token bound).
        assert "reservation" in str(cut), cut
        return "cut"


async def _storm(urls: list[str]) -> list[str]:
    def oai(url: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=url + "/v1", api_key="sk-team-a", max_retries=0,
                                  timeout=60)  # fmt: skip

    def ant(url: str) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(base_url=url, api_key="sk-team-a", max_retries=0,
                                        timeout=60)  # fmt: skip

    clients = [(oai(url), ant(url)) for url in urls]
    # The ceiling admits ~17 of the 200 calls, and which ones is the machine's schedule:
    # under load, once, none of them was a stream the client cancels (183 refused, 0
    # cancelled). Call 1 (a cancelled stream) goes first, so one always is; the others
    # still race the storm.
    first = await _call(1, *clients[1 % len(urls)])
    rest = await asyncio.gather(*[_call(n, *clients[n % len(urls)]) for n in range(200) if n != 1])
    return [first, *rest]


async def _ledger(store_url: str) -> tuple[int, int]:
    """(settled, still reserved) on the team's USD counter, waiting for stragglers."""
    store = open_store(store_url)
    await store.open()
    try:
        window, _ = window_bounds("day", time.time(), None)
        key = counter_key("team-daily", scope_value("team-a"), window, "usd")
        deadline = time.monotonic() + 10
        while await store.reserved(key) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # cancelled calls finish after their client left
        return await store.get(key), await store.reserved(key)
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_two_replicas_hold_the_ceiling_with_cancelled_sdk_streams(
    tmp_path: Path, backend: str
) -> None:
    with FakeUpstream("budget " * 400) as fake:
        upstream = Upstream(fake)
        chat_usage = upstream.usage

        def usage(payload: dict[str, Any]) -> tuple[int, int]:
            # The Responses API's bound is max_output_tokens.
            bound = payload.pop("max_output_tokens", None)
            return chat_usage({"max_tokens": bound, **payload} if bound else payload)

        fake.usage_for = usage
        store = store_urls(tmp_path)[backend]
        config = write_config(tmp_path, fake.url, store, LIMIT_USD)
        with proxies(config, replicas=2) as urls:
            results = await _storm(urls)
            settled, dangling = await _ledger(store)
    assert dangling == 0
    assert 0 < settled <= LIMIT_NANO
    assert results.count("refused") >= 50 and results.count("cancelled") >= 1, results
    assert set(results) <= {"ok", "refused", "cut", "cancelled"}
    # The complete calls settle at what the upstream reported; streams (cancelled ones
    # included) add what passed before they ended, never nothing.
    assert settled > upstream.charged


POLICY = """\
name: budgets
budgets:
  - {name: daily, scope: global, window: day, limit_usd: 5.0}
"""


@pytest.mark.parametrize("api", ["chat", "messages", "responses"])
@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_a_cancelled_stream_is_settled_by_what_passed(
    start_proxy: Callable[..., ProxyServer], tmp_path: Path, api: str, frontend: str
) -> None:
    """The reply would be 2,800 bytes at one event per 0.2 s (about 70 s); the client
    leaves after the first text. The settlement counts the input and the text that
    passed (bytes, an upper bound of tokens), not the 600-token reservation."""
    assert PRICE is not None
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    with FakeUpstream("budget " * 400) as fake:
        if frontend == "proxy":
            server = start_proxy(upstream=fake.url, policy=str(policy), store="memory://")
            base, store, http = server.url, server.app.state.store, httpx2.AsyncClient()
        else:
            engine = guard.Guard(policy, registry=CollectorRegistry(), store="memory://")
            base, store = fake.url, engine.store
            http = httpx2.AsyncClient(transport=engine.async_transport())
        oai = openai.AsyncOpenAI(base_url=base + "/v1", api_key="k", max_retries=0,
                                 http_client=http)  # fmt: skip
        ant = anthropic.AsyncAnthropic(base_url=base, api_key="k", max_retries=0, http_client=http)
        n = {"chat": 0, "messages": 1, "responses": 2}[api]
        window, _ = window_bounds("day", time.time(), None)
        key = counter_key("daily", scope_value(None), window, "usd")

        async def warm_then_cancel() -> int:
            # Warm the SDK's stream helpers (their first use builds models: ~1 s on a
            # loaded machine, while the proxy reads ahead), then the slow stream, cancelled.
            assert await _stream_first_text(n, oai, ant, 600, cancel=False) == "ok"
            warm = await store.get(key)
            assert await _stream_first_text(n, oai, ant, 600, cancel=True) == "cancelled"
            deadline = time.monotonic() + 10  # the proxy ends the call once it sees the client gone
            while (await store.get(key) == warm or await store.reserved(key)) and (
                time.monotonic() < deadline
            ):
                await asyncio.sleep(0.02)
            assert await store.reserved(key) == 0
            return int(await store.get(key) - warm)

        # One event of 8 bytes per 0.2 s: half the reservation (300 tokens as bytes) is
        # ~7 s of stream after the first text, however late a loaded machine cancels.
        fake.enqueue(Script(text="warm"), Script(stream_delay=0.2))
        spent = asyncio.run(warm_then_cancel())
    reservation = 600 * PRICE.output
    assert 8 * PRICE.output < spent < reservation / 2, (spent, reservation)
