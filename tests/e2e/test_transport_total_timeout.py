"""The in-process transport's total deadline (``guard.transport(total_timeout=...)``),
against an upstream that drips one byte every 0.25 s: each socket read is well within
the SDK's read timeout, so without a total deadline the caller waited for the whole
trickle (a long body would hold it for hours).

A complete call ends with the SDK's own timeout error (``APITimeoutError``), a stream
that started with the API's error event (code ``upstream_timeout``); either is counted
``upstream_error`` once and nothing stays reserved."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.probe3._upstream import BUDGET_POLICY, Faulty, faulty_upstream

DEADLINE = 0.6


@pytest.fixture(scope="module")
def shared_upstream() -> Iterator[Faulty]:
    with faulty_upstream() as faulty:
        faulty.fault = "slow_loris"
        yield faulty


def _engine() -> guard.Guard:
    policy = guard.Policy.from_yaml(BUDGET_POLICY)
    return guard.Guard(policy, registry=CollectorRegistry(), store="memory://")


def _outcomes(engine: guard.Guard) -> dict[str, float]:
    counts: dict[str, float] = {}
    for metric in engine.telemetry.registry.collect():
        for sample in metric.samples:
            if sample.name == "guardwire_calls_total":
                outcome = sample.labels["outcome"]
                counts[outcome] = counts.get(outcome, 0) + sample.value
    return counts


def _reserved(engine: guard.Guard) -> int:
    from guard.checks._windows import counter_key, scope_value, window_bounds

    window, _ = window_bounds("day", time.time(), None)
    return int(engine.store.sync.reserved(counter_key("daily", scope_value(None), window, "usd")))


PROMPT: Any = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("api", ["chat", "messages"])
@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_a_drip_upstream_is_cut_at_the_total_deadline(
    shared_upstream: Faulty, api: str, stream: bool
) -> None:
    engine = _engine()
    http = httpx2.Client(transport=engine.transport(total_timeout=DEADLINE), timeout=10)
    url = shared_upstream.url
    started = time.monotonic()
    with pytest.raises((openai.APIError, anthropic.APIError)) as raised:
        if api == "chat":
            oai = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, http_client=http)
            if stream:
                list(oai.chat.completions.create(model="gpt-4o-mini", messages=PROMPT, stream=True))
            else:
                oai.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
        else:
            ant = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0, http_client=http)
            if stream:
                with ant.messages.stream(model="gpt-4o-mini", max_tokens=64, messages=PROMPT) as s:
                    s.get_final_message()
            else:
                ant.messages.create(model="gpt-4o-mini", max_tokens=64, messages=PROMPT)
    elapsed = time.monotonic() - started
    # The deadline is checked as bytes arrive: at most one drip (0.25 s) late, plus
    # scheduling on a loaded machine; the whole trickle takes over a minute.
    assert DEADLINE <= elapsed < DEADLINE + 2.0, elapsed
    if stream:
        assert not isinstance(raised.value, openai.APITimeoutError | anthropic.APITimeoutError)
        assert "total_timeout" in str(raised.value)
    else:
        assert isinstance(raised.value, openai.APITimeoutError | anthropic.APITimeoutError)
    assert _outcomes(engine) == {"upstream_error": 1.0}
    assert _reserved(engine) == 0


def test_the_async_transport_has_the_same_deadline(shared_upstream: Faulty) -> None:
    engine = _engine()

    async def ask() -> None:
        http = httpx2.AsyncClient(
            transport=engine.async_transport(total_timeout=DEADLINE), timeout=10
        )
        oai = openai.AsyncOpenAI(
            base_url=shared_upstream.url + "/v1", api_key="k", max_retries=0, http_client=http
        )
        with pytest.raises(openai.APITimeoutError):
            await oai.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
        with pytest.raises(openai.APIError, match="total_timeout"):
            chunks = await oai.chat.completions.create(
                model="gpt-4o-mini", messages=PROMPT, stream=True
            )
            async for _ in chunks:
                pass
        await http.aclose()

    started = time.monotonic()
    asyncio.run(ask())
    assert time.monotonic() - started < 2 * DEADLINE + 3.0
    assert _outcomes(engine) == {"upstream_error": 2.0}


def test_the_default_deadline_is_ten_minutes_and_none_turns_it_off() -> None:
    engine = _engine()
    assert engine.transport().total_timeout == 600.0
    assert engine.async_transport(total_timeout=None).total_timeout is None
    with pytest.raises(ValueError, match="total_timeout"):
        engine.transport(total_timeout=0)


def test_the_module_level_transports_take_the_deadline_too() -> None:
    assert guard.transport(total_timeout=5.0).total_timeout == 5.0
    assert guard.async_transport().total_timeout == 600.0
