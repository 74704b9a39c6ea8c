"""A state-store outage raises :class:`guard.GuardUnavailable`, not ``GuardBlocked``.

A caller that catches ``GuardBlocked`` to show a policy message ("your request was
blocked") must not swallow an outage: the service is unavailable, not the caller's
content, and the right answer is to retry shortly. ``GuardUnavailable`` is a
``GuardError`` carrying the refusal's status, code and ``retry_after``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.fake_upstream import FakeUpstream

POLICY = """\
name: outage
budgets:
  - {name: team-daily, scope: tenant, window: day, limit_usd: 1.0,
     on_unknown_model: default_price}
"""


def _engine(tmp_path: Path, registry: CollectorRegistry | None = None) -> guard.Guard:
    # A file that is not a database where the state should be: SQLite cannot use it.
    unusable = tmp_path / "state.db"
    unusable.write_bytes(b"this is not an SQLite database\n" * 64)
    return guard.Guard(
        guard.Policy.from_yaml(POLICY),
        store=f"sqlite://{unusable}",
        registry=registry or CollectorRegistry(),
    )


def _assert_unavailable(error: BaseException) -> None:
    assert isinstance(error, guard.GuardUnavailable)
    assert isinstance(error, guard.GuardError)
    assert not isinstance(error, guard.GuardBlocked)
    assert (error.status, error.code, error.retry_after) == (503, "store_unavailable", 1.0)
    assert "state store" in str(error) and "budget" in str(error)
    assert error.decision.blocked


def test_wrap_raises_guard_unavailable_for_a_store_outage(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    called: list[str] = []

    @guard.wrap(guard=_engine(tmp_path, registry))
    def ask(prompt: str) -> str:
        called.append(prompt)
        return "an answer"

    with pytest.raises(guard.GuardError) as caught:
        ask("what is the capital of France?")
    _assert_unavailable(caught.value)
    assert called == []  # fail closed: the function never ran
    labels = {"frontend": "wrap", "format": "text", "outcome": "unavailable"}
    assert registry.get_sample_value("guardwire_calls_total", labels) == 1


def test_an_except_guard_blocked_does_not_swallow_the_outage(tmp_path: Path) -> None:
    @guard.wrap(guard=_engine(tmp_path))
    def ask(prompt: str) -> str:
        return "an answer"

    with pytest.raises(guard.GuardUnavailable):
        try:
            ask("hello")
        except guard.GuardBlocked:  # a policy message for the user: not for an outage
            pytest.fail("a store outage was caught as a block")


def test_async_wrap_and_generators_raise_guard_unavailable(tmp_path: Path) -> None:
    engine = _engine(tmp_path)

    @guard.wrap(guard=engine)
    async def ask(prompt: str) -> str:
        return "an answer"

    @guard.wrap(guard=engine)
    def chunks(prompt: str) -> object:
        yield "an answer"

    with pytest.raises(guard.GuardError) as caught:
        asyncio.run(ask("hello"))
    _assert_unavailable(caught.value)
    with pytest.raises(guard.GuardError) as caught:
        list(chunks("hello"))  # type: ignore[call-overload]
    _assert_unavailable(caught.value)


def test_raise_blocked_raises_guard_unavailable_through_the_sdk(
    fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1",
        api_key="k",
        http_client=httpx.Client(transport=_engine(tmp_path).transport()),
        max_retries=0,
    )
    with pytest.raises(guard.GuardError) as caught, guard.raise_blocked():
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=20
        )
    _assert_unavailable(caught.value)
    assert isinstance(caught.value.__cause__, openai.InternalServerError)
    assert fake_upstream.requests == []


def test_a_budget_refusal_is_still_budget_exceeded() -> None:
    """The split by status leaves the other refusals as they were."""
    engine = guard.Guard(
        guard.Policy.from_yaml(
            "budgets:\n  - {name: tiny, scope: request, limit_usd: 0.0000001,"
            " on_unknown_model: default_price}\n"
        ),
        store="memory://",
        registry=CollectorRegistry(),
    )

    @guard.wrap(guard=engine)
    def ask(prompt: str) -> str:
        return "an answer"

    with pytest.raises(guard.BudgetExceeded):
        ask("hello " * 50)
