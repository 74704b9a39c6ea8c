"""The budget check's per-call cost (issue 18: proxy throughput with a budget within 20 %
of none): a call with room in its process's lease is reserved and settled in memory with
no await, and a clamp adds the field to the body as received instead of re-encoding it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard import formats
from guard.checks import _budget_demand as demand
from guard.checks import _budget_leases as leases
from guard.checks._budget_leases import Carved
from guard.checks.base import CallEnd
from guard.checks.budget import BudgetCheck
from guard.policy import Policy
from guard.stores import Store, open_store
from guard.types import Caller, Usage, Verdict

CHAT = formats.get("openai.chat")
BUDGET = {"name": "team", "scope": "tenant", "window": "day", "limit_usd": 100.0}


@pytest.fixture(autouse=True)
def steady_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key's demand is remembered for the whole test (not 0.1 s of a loaded machine's
    time): the second call of a key leases, however long the first one took."""
    monkeypatch.setattr(demand, "DEMAND_SECONDS", 60.0)


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    opened = open_store(f"sqlite://{tmp_path / 'state.db'}")
    await opened.open()
    leases.enable_leases(opened)
    yield opened
    await leases.close_leases(opened)
    await opened.close()


def _engine(store: Store, **budget: Any) -> tuple[guard.Guard, BudgetCheck]:
    policy = Policy.from_dict({"name": "p", "budgets": [{**BUDGET, **budget}]})
    engine = guard.Guard(policy, store=store, registry=CollectorRegistry())
    check = engine.input_checks[-1]
    assert isinstance(check, BudgetCheck)
    return engine, check


def _body(**fields: Any) -> bytes:
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **fields}
    return json.dumps(payload).encode()


async def _call_through(engine: guard.Guard, body: bytes, used_out: int = 10) -> None:
    call = CHAT.parse_request(body, Caller(tenant="acme"))
    lifecycle = engine.open(call, frontend="test")
    sent = await lifecycle.astart()
    assert sent is not None
    reply = {
        "id": "x", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": used_out, "total_tokens": 30},
    }  # fmt: skip
    await lifecycle.adeliver(CHAT.parse_reply(sent, json.dumps(reply).encode()))
    await lifecycle.afinish()


async def test_a_call_with_room_in_the_lease_is_reserved_and_settled_without_an_await(
    store: Store,
) -> None:
    engine, check = _engine(store)
    body = _body(max_tokens=100)
    for _ in range(2):  # the first call reserves exactly; the second takes a lease
        await _call_through(engine, body)
    book = leases.leases_for(store)
    assert book is not None
    await book.flush()
    before = await store.get("gw:budget:team:" + _tenant_scope() + ":" + _window() + ":usd")

    call = CHAT.parse_request(body, Caller(tenant="acme"))
    lifecycle = engine.open(call, frontend="test")
    verdict = check.input(call, lifecycle.ctx)
    assert isinstance(verdict, Verdict)  # a plain verdict: no coroutine, no loop hop
    assert verdict.patches == ()  # max_tokens 100 is affordable: nothing to clamp
    holds = lifecycle.ctx.private("budget")["call"].holds
    assert holds and all(isinstance(h.reservation, Carved) for h in holds)
    ended = check.finish(lifecycle.ctx, CallEnd("allowed", 200, 1, Usage(20, 10)))
    assert ended is None  # settled into the lease in memory
    await book.flush()
    after = await store.get("gw:budget:team:" + _tenant_scope() + ":" + _window() + ":usd")
    price = check.prices.lookup("gpt-4o-mini")
    assert price is not None
    assert after - before == 20 * price.input + 10 * price.output


async def test_without_room_the_check_still_reserves_in_the_store(store: Store) -> None:
    """The first call of a key has no lease: the check returns an awaitable (the store
    reservation), and a limit too small for a lease reserves exactly, as before."""
    engine, check = _engine(store, limit_usd=0.001)
    call = CHAT.parse_request(_body(max_tokens=50), Caller(tenant="acme"))
    lifecycle = engine.open(call, frontend="test")
    result = check.input(call, lifecycle.ctx)
    assert inspect.isawaitable(result)
    verdict = await result
    assert isinstance(verdict, Verdict)
    holds = lifecycle.ctx.private("budget")["call"].holds
    assert holds and not any(isinstance(h.reservation, Carved) for h in holds)
    ended = check.finish(lifecycle.ctx, CallEnd("allowed", 200, 1, Usage(20, 10)))
    assert inspect.isawaitable(ended)  # a store settlement
    await ended
    assert await store.reserved(holds[0].counter.key) == 0


@pytest.mark.parametrize(
    ("format_name", "payload", "field"),
    [
        ("openai.chat", {"messages": [{"role": "user", "content": "h\u00e9llo"}]},
         "max_completion_tokens"),
        ("openai.responses", {"input": "h\u00e9llo"}, "max_output_tokens"),
    ],
)  # fmt: skip
async def test_a_clamp_adds_its_field_to_the_body_as_received(
    format_name: str, payload: dict[str, Any], field: str
) -> None:
    """The body is forwarded as the client wrote it (spacing, escapes), with the clamp
    put in front: no whole re-encode for a field the request did not have."""
    engine, _ = _engine(open_store("memory://"))
    fmt = formats.get(format_name)
    body = b'  \n{ "model" : "gpt-4o-mini",\t' + json.dumps(payload).encode()[1:]
    call = fmt.parse_request(body, Caller(tenant="acme"))
    lifecycle = engine.open(call, frontend="test")
    sent = await lifecycle.astart()
    assert sent is not None
    clamped = int(lifecycle.ctx.response_headers["x-guardwire-max-tokens-clamped"])
    forwarded = fmt.request_body(sent)
    assert forwarded == f'  \n{{"{field}":{clamped},'.encode() + body[4:]
    assert json.loads(forwarded) == {"model": "gpt-4o-mini", **payload, field: clamped}
    assert sent.raw[field] == clamped and sent.max_tokens == clamped
    await lifecycle.afinish("upstream_error", status=500)


async def test_a_clamp_of_a_field_the_request_set_rewrites_it_once() -> None:
    engine, _ = _engine(open_store("memory://"), limit_usd=0.001)
    body = _body(max_tokens=100_000)
    call = CHAT.parse_request(body, Caller(tenant="acme"))
    lifecycle = engine.open(call, frontend="test")
    sent = await lifecycle.astart()
    assert sent is not None
    clamped = int(lifecycle.ctx.response_headers["x-guardwire-max-tokens-clamped"])
    forwarded = CHAT.request_body(sent)
    assert forwarded.count(b"max_tokens") == 1  # replaced, not added beside it
    assert json.loads(forwarded)["max_tokens"] == clamped < 100_000
    await lifecycle.afinish("upstream_error", status=500)


def _tenant_scope() -> str:
    from guard.checks._windows import scope_value

    return scope_value("acme")


def _window() -> str:
    import time

    from guard.checks._windows import window_bounds

    return window_bounds("day", time.time(), None)[0]


@pytest.mark.parametrize("kind", ["image_url", "\\u0069mage_url"])
def test_an_image_part_is_bounded_also_when_its_type_is_escaped(kind: str) -> None:
    """Bodies without the word "image" skip the walk over every node; an escaped type
    must not slip past that shortcut (the bound would miss the image's tokens)."""
    from guard.checks._tokens import IMAGE_TOKENS, input_token_bound

    part = '{"type":"KIND","KIND":{"url":"data:,x"}}'.replace("KIND", kind)
    body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":[PART]}]}'
    call = CHAT.parse_request(body.replace("PART", part).encode(), Caller())
    assert input_token_bound(call) >= IMAGE_TOKENS
    plain = CHAT.parse_request(_body(), Caller())
    assert input_token_bound(plain) < IMAGE_TOKENS
