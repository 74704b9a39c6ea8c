"""``Guard.before(call)`` then ``Guard.after(call, reply)`` settle what before() reserved.

Before: before() reserved on the policy's budgets and after() opened a fresh lifecycle,
so nothing ever settled the reservation: it stayed held for the whole hold (15 minutes)
and was then charged at its full amount; a call before() blocked held its room the same
way. Each test runs on the memory, SQLite and Redis stores, through their sync face (the
shortcuts are blocking).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard import _awaiting_after
from guard._drive import wait_sync
from guard.checks._tokens import input_token_bound
from guard.checks.budget import HOLD_SECONDS, BudgetCheck
from guard.policy import Policy
from guard.stores import Store, open_store
from guard.types import Action, Call
from tests.checks.test_budget import chat, reply_for
from tests.redis_server import fresh_url
from tests.stores.conftest import FakeClock

#: The budget's token counter: scope global, window none (tokens in + out, exact).
KEY = "gw:budget:b:-:all:tokens"
LIMIT = 100_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    urls = {"memory": "memory://", "sqlite": f"sqlite://{tmp_path / 'state.db'}"}
    url = urls.get(request.param) or fresh_url()
    opened = open_store(url, clock=clock)
    yield opened
    wait_sync(opened.close())


def build(store: Store, clock: FakeClock, *, blocked_word: str | None = None) -> guard.Guard:
    spec: dict[str, Any] = {
        "name": "b",
        "budgets": [{"name": "b", "scope": "global", "window": "none", "limit_tokens": LIMIT}],
    }
    if blocked_word is not None:
        spec["input"] = [
            {
                "check": "rules",
                "rules": [{"name": "w", "action": "block", "keywords": [blocked_word]}],
            }
        ]
    built = guard.Guard(Policy.from_dict(spec), store=store, registry=CollectorRegistry())
    budget = built.input_checks[-1]
    assert isinstance(budget, BudgetCheck)
    budget.clock = clock
    return built


def figures(store: Store) -> tuple[int, int]:
    """(spent, reserved) on the budget's token counter."""
    return store.sync.get(KEY), store.sync.reserved(KEY)


def test_after_settles_the_reservation_before_made_with_the_replys_usage(
    store: Store, clock: FakeClock
) -> None:
    built = build(store, clock)
    call = chat(max_tokens=500)
    assert built.before(call).action is Action.ALLOW
    assert figures(store) == (0, input_token_bound(call) + 500)
    decision = built.after(call, reply_for(call, 40))  # usage: 10 in, 40 out
    assert decision.action is Action.ALLOW
    assert figures(store) == (50, 0)
    clock.advance(HOLD_SECONDS * 2)  # nothing left to expire and be charged
    assert figures(store) == (50, 0)


def test_after_a_reply_without_usage_settles_the_estimate_never_zero(
    store: Store, clock: FakeClock
) -> None:
    built = build(store, clock)
    call = chat(max_tokens=300)
    built.before(call)
    bound = input_token_bound(call)
    built.after(call, reply_for(call, 0, usage=False))
    assert figures(store) == (bound + 300, 0)


def test_a_before_blocked_by_another_check_holds_nothing(store: Store, clock: FakeClock) -> None:
    built = build(store, clock, blocked_word="quokka")
    call = chat("tell me about the quokka", max_tokens=500)
    assert built.before(call).action is Action.BLOCK
    assert figures(store) == (0, 0)
    clock.advance(HOLD_SECONDS * 2)
    assert figures(store) == (0, 0)


def test_a_before_the_budget_refuses_holds_nothing(store: Store, clock: FakeClock) -> None:
    built = build(store, clock)
    assert built.before(chat("x" * 200_000)).action is Action.BLOCK  # input alone > limit
    assert figures(store) == (0, 0)


def test_a_before_without_after_holds_until_expiry_then_is_charged_its_reservation(
    store: Store, clock: FakeClock
) -> None:
    """The call may have reached the provider: its reservation is charged, as a crashed
    caller's is (the documented behaviour), and the guard forgets it."""
    built = build(store, clock)
    call = chat(max_tokens=200)
    built.before(call)
    held = input_token_bound(call) + 200
    assert figures(store) == (0, held)
    clock.advance(HOLD_SECONDS + 1)
    assert figures(store) == (held, 0)


def test_after_with_another_call_object_checks_the_reply_and_settles_nothing(
    store: Store, clock: FakeClock
) -> None:
    built = build(store, clock)
    call = chat(max_tokens=200)
    built.before(call)
    other = chat(max_tokens=200)
    assert built.after(other, reply_for(other, 40)).action is Action.ALLOW
    assert figures(store) == (0, input_token_bound(call) + 200)
    built.after(call, reply_for(call, 40))
    assert figures(store) == (50, 0)


def test_after_settles_once_and_a_second_after_only_checks(store: Store, clock: FakeClock) -> None:
    built = build(store, clock)
    call = chat(max_tokens=200)
    built.before(call)
    built.after(call, reply_for(call, 40))
    built.after(call, reply_for(call, 90))
    assert figures(store) == (50, 0)


def test_calls_awaiting_after_are_bounded(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program that calls before() and never after() does not grow the guard without
    bound: past the bound the oldest are forgotten (their holds expire, charged)."""
    monkeypatch.setattr(_awaiting_after, "MAX_AWAITING_AFTER", 3)
    built = build(store, clock)
    calls: list[Call] = [chat(max_tokens=100) for _ in range(5)]
    for call in calls:
        built.before(call)
    assert len(built._awaiting_after) == 3
    built.after(calls[0], reply_for(calls[0], 10))  # forgotten: settles nothing
    built.after(calls[4], reply_for(calls[4], 10))
    bound = input_token_bound(calls[0])
    assert figures(store) == (20, 4 * (bound + 100))
