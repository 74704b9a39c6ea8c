"""An in-process guard writes its queued budget settlements when it is closed.

A settle the store fails to take is queued and retried in the background
(``_budget_retries``). The proxy drains that queue at shutdown; an application that
uses ``Guard`` in-process (the transports, ``wrap``) had no such hook, so settlements
still queued when it exited were lost, and their holds charged at their whole amount
when they expired. ``Guard.close()`` / ``aclose()`` (and ``with`` / ``async with``), the
transports' ``close`` / ``aclose`` (what closing an ``httpx`` client calls) and a
wrapped function's ``guard`` write them. The background retry is slowed to a minute
here, so only the close can land the write while the test looks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks import _budget_retries as retries
from guard.checks._budget_retries import pending_for
from guard.policy import Policy
from guard.stores import open_store
from tests.checks.test_budget_settle_retries import Flaky

POLICY = Policy.from_dict(
    {
        "name": "b",
        "budgets": [
            {
                "name": "team",
                "scope": "tenant",
                "limit_usd": 1.0,
                "on_unknown_model": "default_price",
            }
        ],
    }
)
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50}


@pytest.fixture(autouse=True)
def slow_background_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "FIRST_DELAY", 60.0)
    monkeypatch.setattr(retries, "MAX_DELAY", 60.0)


@pytest.fixture
def flaky() -> Flaky:
    """A memory store whose next settle fails (not written): it is queued."""
    store = Flaky(open_store("memory://"))
    store.script = ["failed"]
    return store


def upstream(request: httpx.Request) -> httpx.Response:
    message = {"role": "assistant", "content": "ok"}
    body: dict[str, Any] = {"id": "c", "object": "chat.completion", "created": 0, "model": "m"}
    body["choices"] = [{"index": 0, "message": message, "finish_reason": "stop"}]
    body["usage"] = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}
    return httpx.Response(200, json=body)


def engine(store: Flaky) -> guard.Guard:
    return guard.Guard(POLICY, store=store, registry=CollectorRegistry())


def _spend(store: Flaky) -> tuple[int, int]:
    """(settled, held) on the budget's usd counter."""
    [key] = {k for k in store.reserved_keys if k.endswith(":usd")}

    async def read() -> tuple[int, int]:
        return await store.store.get(key), await store.store.reserved(key)

    return asyncio.run(read())


def _queued_then_written(store: Flaky, close: Any) -> None:
    """One settlement is queued after the call; ``close()`` writes it."""
    settled, held = _spend(store)
    assert settled == 0 and held > 0 and len(pending_for(store)) == 1
    close()
    settled, held = _spend(store)
    assert settled > 0 and held == 0 and not len(pending_for(store))


def test_closing_the_client_of_a_transport_writes_a_queued_settlement(flaky: Flaky) -> None:
    client = httpx.Client(transport=engine(flaky).transport(httpx.MockTransport(upstream)))
    assert client.post("http://model.test/v1/chat/completions", json=BODY).status_code == 200
    _queued_then_written(flaky, client.close)


def test_a_guard_used_in_a_with_block_writes_on_leaving_it(flaky: Flaky) -> None:
    with engine(flaky) as checked:
        client = httpx.Client(transport=checked.transport(httpx.MockTransport(upstream)))
        client.post("http://model.test/v1/chat/completions", json=BODY)
        _queued_then_written(flaky, lambda: checked.__exit__(None, None, None))


def test_a_wrapped_function_closes_through_its_guard(flaky: Flaky) -> None:
    @guard.wrap(guard=engine(flaky))
    def ask(prompt: str) -> str:
        return "an answer"

    assert ask("hi") == "an answer"
    _queued_then_written(flaky, ask.guard.close)  # type: ignore[attr-defined]


async def test_aclose_writes_what_async_calls_queued(flaky: Flaky) -> None:
    async with engine(flaky) as checked:
        transport = checked.async_transport(httpx.MockTransport(upstream))
        async with httpx.AsyncClient(transport=transport) as client:
            answer = await client.post("http://model.test/v1/chat/completions", json=BODY)
            assert answer.status_code == 200
            assert len(pending_for(flaky)) == 1
        # Leaving the client closed the transport, which wrote the settlement.
        assert not len(pending_for(flaky))
    [key] = {k for k in flaky.reserved_keys if k.endswith(":usd")}
    assert await flaky.store.get(key) > 0 and await flaky.store.reserved(key) == 0


def test_the_settled_spend_matches_the_usage(flaky: Flaky) -> None:
    """The write close() lands is the call's own usage, as a settle without failure."""
    client = httpx.Client(transport=engine(flaky).transport(httpx.MockTransport(upstream)))
    client.post("http://model.test/v1/chat/completions", json=BODY)
    client.close()
    clean = Flaky(open_store("memory://"))
    other = httpx.Client(transport=engine(clean).transport(httpx.MockTransport(upstream)))
    other.post("http://model.test/v1/chat/completions", json=BODY)
    assert _spend(flaky) == _spend(clean)
