"""A big text's input checks run off the event loop: a small call beside it is not stalled.

Injection on 3 M characters of prose takes ~0.2 s on a quiet machine (800 K took
~0.05 s once the RE2 prefilter landed: the big call could end before the small one). Run on the
event loop, that time stalls every other call of the proxy's worker, or of the
application that uses the async transport. Off the loop, a small call finishes while the
big one is still being checked: these tests assert that order, not a wall-clock limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

import guard
from guard.policy import Policy
from tests.e2e.fixtures import ProxyServer

POLICY = "name: injection-only\ninput:\n  - {check: injection, action: block}\n"
_SENTENCE = (
    "The quarterly report lists revenue by region, the hiring plan for the support team"
    " and the open questions from the last planning meeting, item {n}. "
)


def _big_text(seed: int, size: int = 3_000_000) -> str:
    """Plain prose, different per seed (the findings cache must not answer it)."""
    parts: list[str] = []
    total, n = 0, 0
    while total < size:
        part = _SENTENCE.format(n=f"{seed}-{n}")
        parts.append(part)
        total += len(part)
        n += 1
    return "".join(parts)


def _body(text: str) -> dict[str, object]:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


def _small_beside_big(url: str, body: Callable[[str], dict[str, object]], seed: int) -> None:
    """A small request sent while a big one is in its checks finishes first, and sooner
    than the big one takes alone."""
    # One client each, connected beforehand: a new client's set-up would dwarf a call.
    big_client, small_client = httpx.Client(timeout=60), httpx.Client(timeout=60)

    def post(client: httpx.Client, text: str) -> float:
        started = time.perf_counter()
        assert client.post(url, json=body(text)).status_code == 200
        return time.perf_counter() - started

    with big_client, small_client:
        post(big_client, "good morning")
        post(small_client, "good evening")
        alone = post(big_client, _big_text(seed))
        with ThreadPoolExecutor(1) as pool:
            big = pool.submit(post, big_client, _big_text(seed + 1))
            time.sleep(min(0.05, alone / 8))  # the big call is in its checks by now
            small = post(small_client, "what is on the agenda today?")
            big_still_running = not big.done()
            big.result()
    assert big_still_running, (small, alone)
    assert small < alone, (small, alone)


def test_the_proxy_answers_a_small_call_while_a_big_one_is_checked(
    proxy_of: Callable[[str], ProxyServer],
) -> None:
    _small_beside_big(proxy_of(POLICY).url + "/v1/chat/completions", _body, seed=1)


def test_the_check_endpoint_answers_a_small_check_while_a_big_one_runs(
    proxy_of: Callable[[str], ProxyServer],
) -> None:
    _small_beside_big(
        proxy_of(POLICY).url + "/guardwire/v1/check", lambda text: {"text": text}, seed=5
    )


def test_the_async_transport_leaves_the_event_loop_to_other_calls() -> None:
    engine = guard.Guard(Policy.from_yaml(POLICY))

    def upstream(request: httpx.Request) -> httpx.Response:
        reply = {"role": "assistant", "content": "ok"}
        return httpx.Response(
            200,
            json={
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "message": reply, "finish_reason": "stop"}],
            },
        )

    async def run() -> tuple[bool, float, float]:
        transport = engine.async_transport(httpx.MockTransport(upstream))
        async with httpx.AsyncClient(transport=transport, base_url="http://model.test") as client:

            async def post(text: str) -> float:
                started = time.perf_counter()
                response = await client.post("/v1/chat/completions", json=_body(text))
                assert response.status_code == 200
                return time.perf_counter() - started

            await post("good morning")
            alone = await post(_big_text(3))
            big = asyncio.create_task(post(_big_text(4)))
            await asyncio.sleep(min(0.05, alone / 8))
            small = await post("what is on the agenda today?")
            big_still_running = not big.done()
            await big
            return big_still_running, small, alone

    big_still_running, small, alone = asyncio.run(run())
    assert big_still_running, (small, alone)
    assert small < alone, (small, alone)
