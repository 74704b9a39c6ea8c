"""A grounding judge that calls a model spends from the call's budgets: reserved before
each judged claim, settled with the usage it reports; a claim the budgets cannot afford
keeps its lexical score (the judge is skipped)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard import Action, formats
from guard.checks._prices import PriceTable
from guard.checks.budget import BudgetCheck
from guard.grounding import Judgement, register_judge, unregister_judge
from guard.policy import Policy
from guard.stores import MemoryStore
from guard.types import Call, Caller, Passage, Reply, Usage
from tests.stores.conftest import FakeClock

CHAT = formats.get("openai.chat")
CONTEXT = [{"id": "doc-1", "text": "Acme Corp employs 120 people in Bergen."}]
#: Partly supported ("staff" is not in the passage): unsure, so it goes to the judge.
UNSURE = "Acme Corp has 120 staff."
JUDGE_USAGE = Usage(input_tokens=300, output_tokens=5)


class PaidJudge:
    """Stands for an LLM judge: calls ``model`` and reports what it used."""

    model = "gpt-4o-mini"
    max_output_tokens = 16

    def __init__(self) -> None:
        self.seen = 0

    async def score(self, claim: str, passages: Sequence[Passage]) -> Judgement:
        self.seen += 1
        return Judgement(0.9, JUDGE_USAGE)


@pytest.fixture
def judge() -> Iterator[PaidJudge]:
    paid = PaidJudge()
    register_judge("paid", paid)
    yield paid
    unregister_judge("paid")


def _engine(limit_tokens: int) -> tuple[guard.Guard, MemoryStore]:
    clock = FakeClock()
    store = MemoryStore(clock)
    policy = Policy.from_dict(
        {
            "name": "judged",
            "stream": {"mode": "buffer"},
            "budgets": [
                {"name": "team", "scope": "tenant", "window": "day", "limit_tokens": limit_tokens}
            ],
            "output": [{"check": "grounding", "judge": "paid", "judge_band": 0.3}],
        }
    )
    engine = guard.Guard(policy, store=store, registry=CollectorRegistry())
    budget = next(c for c in engine.input_checks if isinstance(c, BudgetCheck))
    budget.clock = clock
    budget.prices = PriceTable.shipped()
    return engine, store


def _call() -> Call:
    body = {
        "model": "gpt-4o-mini",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "How many people work at Acme?"}],
        "guardwire": {"context": CONTEXT},
    }
    return CHAT.parse_request(json.dumps(body).encode(), Caller(tenant="acme"))


def _reply(call: Call, text: str) -> Reply:
    body: dict[str, Any] = {
        "id": "x", "object": "chat.completion", "model": call.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 10, "total_tokens": 50},
    }  # fmt: skip
    return CHAT.parse_reply(call, json.dumps(body).encode())


def _spent_tokens(store: MemoryStore) -> int:
    sync: Any = store.sync
    return sum(sync.get(k) for k in list(sync._counters) if k.endswith(":tokens"))


def _held_tokens(store: MemoryStore) -> int:
    sync: Any = store.sync
    return sum(sync.reserved(k) for k in list(sync._holds) if k.endswith(":tokens"))


async def _run(engine: guard.Guard, text: str) -> Action:
    lifecycle = engine.open(_call(), frontend="check")
    forwarded = await lifecycle.astart()
    assert forwarded is not None
    await lifecycle.adeliver(_reply(forwarded, text))
    assert lifecycle.output is not None
    action = lifecycle.output.action
    await lifecycle.afinish()
    return action


async def test_the_judges_usage_is_spent_from_the_calls_budget(judge: PaidJudge) -> None:
    engine, store = _engine(limit_tokens=100_000)
    assert await _run(engine, UNSURE) is Action.ALLOW  # the judge's 0.9 decided it
    assert judge.seen == 1
    # The call's own usage (40 + 10) and the judge's (300 + 5), nothing held any more.
    assert _spent_tokens(store) == 50 + 305
    assert _held_tokens(store) == 0


async def test_a_budget_that_cannot_afford_the_judge_keeps_the_lexical_score(
    judge: PaidJudge,
) -> None:
    # Room for the call (its input bound + a clamped reply) but not for the judge's hold
    # (the passage and claim bytes + framing in, 16 out).
    engine, store = _engine(limit_tokens=260)
    lexical = await _run(engine, UNSURE)
    assert judge.seen == 0
    assert lexical is Action.BLOCK  # no judge: the lexical score (below 0.5) stands
    assert _spent_tokens(store) == 50


class BrokenJudge(PaidJudge):
    async def score(self, claim: str, passages: Sequence[Passage]) -> Judgement:
        self.seen += 1
        raise RuntimeError("judge upstream failed")


async def test_a_judge_that_fails_releases_its_hold() -> None:
    broken = BrokenJudge()
    register_judge("paid", broken)
    try:
        engine, store = _engine(limit_tokens=100_000)
        await _run(engine, UNSURE)  # the check's failure follows on_error (block)
        assert broken.seen == 1
        assert _spent_tokens(store) == 50  # the call's usage only
        assert _held_tokens(store) == 0  # and the judge's hold is gone
    finally:
        unregister_judge("paid")
