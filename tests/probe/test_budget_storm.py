"""100 concurrent calls through the official SDKs (async), all three APIs, complete and
streamed, on a memory-store budget that affords a few of them: spend never passes the
ceiling, the complete calls settle at exactly what the upstream reported, nothing stays
reserved, and every refusal is the budget's 429 in its API's shape.

(tests/e2e/test_budget_concurrency.py storms proxy processes on SQLite and Redis with
raw HTTP; this is the in-thread proxy's memory store, driven by the SDKs.) About 1 s on
a quiet machine, up to 4 s on a loaded one: the hundred concurrent calls are the test.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai

from guard.checks._prices import PriceTable
from guard.checks._windows import counter_key, scope_value, window_bounds
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream
from tests.probe.test_budget_bounds import LIMIT_USD, POLICY

PRICE = PriceTable.shipped().lookup("gpt-4o-mini")


class Charges:
    """Random usage within each request's bound; the complete replies' cost, summed."""

    def __init__(self) -> None:
        self.rng = random.Random(11)
        self.lock = threading.Lock()
        self.complete = 0

    def __call__(self, payload: dict[str, Any]) -> tuple[int, int]:
        assert PRICE is not None
        bound = next(payload[f] for f in ("max_tokens", "max_output_tokens") if f in payload)
        used = (20, self.rng.randint(1, bound))
        if not payload.get("stream"):
            with self.lock:
                self.complete += used[0] * PRICE.input + used[1] * PRICE.output
        return used


async def _call(n: int, chat: openai.AsyncOpenAI, messages: anthropic.AsyncAnthropic) -> str:
    bound = (40, 200, 600)[n % 3]
    prompt: Any = [{"role": "user", "content": f"call {n}"}]
    try:
        match n % 6:
            case 0:
                async for _ in await chat.chat.completions.create(
                    model="gpt-4o-mini", max_tokens=bound, messages=prompt, stream=True
                ):
                    pass
            case 1:
                async with messages.messages.stream(
                    model="gpt-4o-mini", max_tokens=bound, messages=prompt
                ) as stream:
                    await stream.get_final_message()
            case 2:
                async with chat.responses.stream(
                    model="gpt-4o-mini", max_output_tokens=bound, input=f"call {n}"
                ) as events:
                    await events.get_final_response()
            case 3:
                await chat.chat.completions.create(
                    model="gpt-4o-mini", max_tokens=bound, messages=prompt
                )
            case 4:
                await messages.messages.create(
                    model="gpt-4o-mini", max_tokens=bound, messages=prompt
                )
            case _:
                await chat.responses.create(
                    model="gpt-4o-mini", max_output_tokens=bound, input=f"call {n}"
                )
    except openai.RateLimitError as refused:
        assert refused.code == "budget_exceeded", refused.body
        return "refused"
    except anthropic.RateLimitError as refused:
        assert "team-daily" in str(refused.body), refused.body
        return "refused"
    except (openai.APIError, anthropic.APIError) as cut:
        assert "budget" in str(cut) or "reservation" in str(cut), cut
        return "cut"
    return "ok"


async def _storm(url: str) -> list[str]:
    chat = openai.AsyncOpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=30)
    messages = anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0, timeout=30)
    return await asyncio.gather(*[_call(n, chat, messages) for n in range(100)])


def test_a_hundred_concurrent_sdk_calls_never_pass_the_ceiling(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    charges = Charges()
    fake_upstream.usage_for = charges
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    results = asyncio.run(_storm(proxy.url))
    assert results.count("ok") >= 3 and results.count("refused") >= 50
    window, _ = window_bounds("day", time.time(), None)
    key = counter_key("team-daily", scope_value(None), window, "usd")
    store = proxy.app.state.store
    settled = asyncio.run(store.get(key))
    assert asyncio.run(store.reserved(key)) == 0
    assert charges.complete <= settled <= round(LIMIT_USD * 1e9)
