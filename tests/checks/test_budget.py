"""Cost ceilings on the lifecycle: reserve, clamp, refuse, settle, release, streams."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard import formats
from guard.checks._prices import NANO_PER_USD, PriceTable
from guard.checks._tokens import input_token_bound
from guard.checks._windows import window_bounds
from guard.checks.base import Capabilities, CheckContext
from guard.checks.budget import BudgetCheck
from guard.errors import BudgetExceeded, blocked_error
from guard.policy import Policy
from guard.stores import MemoryStore
from guard.types import Call, Caller, Reply, Verdict
from tests.stores.conftest import FakeClock

CHAT = formats.get("openai.chat")


def policy(**budget: Any) -> Policy:
    entry = {"name": "team-daily", "scope": "tenant", "window": "day", **budget}
    return Policy.from_dict({"name": "budgets", "budgets": [entry]})


def engine(clock: FakeClock | None = None, **budget: Any) -> tuple[guard.Guard, MemoryStore]:
    clock = clock or FakeClock()
    store = MemoryStore(clock)
    engine = guard.Guard(policy(**budget), store=store, registry=CollectorRegistry())
    budget_check = engine.input_checks[-1]
    assert isinstance(budget_check, BudgetCheck)
    budget_check.clock = clock
    return engine, store


def chat(text: str = "hello", *, tenant: str = "acme", **fields: Any) -> Call:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **fields}
    return CHAT.parse_request(json.dumps(body).encode(), Caller(tenant=tenant))


def reply_for(call: Call, output_tokens: int, *, usage: bool = True) -> Reply:
    body: dict[str, Any] = {
        "id": "x", "object": "chat.completion", "model": call.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                     "finish_reason": "stop"}],
    }  # fmt: skip
    if usage:
        body["usage"] = {"prompt_tokens": 10, "completion_tokens": output_tokens,
                         "total_tokens": 10 + output_tokens}  # fmt: skip
    return CHAT.parse_reply(call, json.dumps(body).encode())


def spent(store: MemoryStore, unit: str = "usd") -> int:
    return sum(v for k, v in _counters(store).items() if k.endswith(":" + unit))


def _counters(store: MemoryStore) -> dict[str, int]:
    sync: Any = store.sync
    return {key: sync.get(key) for key in list(sync._counters)}


def test_prices_match_wildcards_in_order_and_keep_a_default() -> None:
    table = PriceTable.shipped()
    mini = table.lookup("gpt-4o-mini-2024-07-18")
    assert mini is not None and mini.model == "gpt-4o-mini"
    assert mini.input == 150 and mini.cached_input == 75 and mini.output == 600  # nano $/token
    assert table.label("gpt-4o-2024-08-06") == "gpt-4o"
    assert table.label("claude-sonnet-4-5-20250929") == "claude-sonnet-4"
    assert table.lookup("my-local-llama") is None and table.label("my-local-llama") == "other"
    assert table.default is not None and table.default.output > 0
    assert "other" in table.labels and "gpt-4o" in table.labels


def test_input_bound_is_at_least_the_utf8_bytes_of_every_text() -> None:
    text = "Grüße 👋🏽 " * 50
    call = chat(text, tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}])
    assert input_token_bound(call) >= len(text.encode()) + 800


def test_calendar_windows_reset_at_local_midnight_and_month_start() -> None:
    now = 1_800_000_000.0  # 2027-01-15 08:00 UTC
    _, resets = window_bounds("day", now, "Europe/Berlin")
    assert resets is not None and 0 < resets - now <= 86400
    _, month_resets = window_bounds("month", now, None)
    assert month_resets is not None and month_resets > resets
    assert window_bounds("none", now, None) == ("all", None)


async def test_a_request_without_max_tokens_is_clamped_to_what_the_budget_allows() -> None:
    engine_, _ = engine(limit_usd=0.001)
    call = chat()
    bound = input_token_bound(call)
    lifecycle = engine_.open(call, frontend="check")
    forwarded = await lifecycle.astart()
    assert forwarded is not None and forwarded.raw is not None
    clamped = forwarded.raw["max_completion_tokens"]
    price = PriceTable.shipped().lookup("gpt-4o-mini")
    assert price is not None
    assert 16 <= clamped <= (0.001 * NANO_PER_USD - bound * price.input) // price.output
    assert lifecycle.ctx.response_headers["x-guardwire-max-tokens-clamped"] == str(clamped)
    await lifecycle.afinish()


async def test_a_budget_that_cannot_afford_a_minimal_reply_refuses_with_429() -> None:
    clock = FakeClock()
    engine_, _ = engine(clock, limit_usd=0.00001)
    lifecycle = engine_.open(chat(), frontend="check")
    assert await lifecycle.astart() is None
    refusal = lifecycle.refusal
    assert refusal is not None and refusal.status == 429 and refusal.code == "budget_exceeded"
    assert refusal.retry_after is not None and 0 < refusal.retry_after <= 86400
    assert "team-daily" in refusal.message and "hello" not in refusal.message
    error = blocked_error(refusal.decision)
    assert isinstance(error, BudgetExceeded) and isinstance(error, guard.GuardBlocked)
    assert (error.budget, error.scope) == ("team-daily", "tenant")
    assert error.resets_at == pytest.approx(clock.now + refusal.retry_after)
    await lifecycle.afinish()


async def test_settled_spend_never_passes_the_limit_under_concurrency() -> None:
    engine_, store = engine(limit_usd=0.02)
    rng = random.Random(7)
    refused = 0

    async def one() -> None:
        nonlocal refused
        call = chat(max_tokens=2000)
        lifecycle = engine_.open(call, frontend="check")
        request = await lifecycle.astart()
        try:
            if request is None:
                assert lifecycle.refusal is not None and lifecycle.refusal.status == 429
                refused += 1
                return
            await asyncio.sleep(0)
            await lifecycle.adeliver(reply_for(request, rng.randint(1, request.max_tokens or 1)))
        finally:
            await lifecycle.afinish()

    await asyncio.gather(*(one() for _ in range(200)))
    assert 0 < refused < 200
    assert spent(store) <= 0.02 * NANO_PER_USD
    assert all(store.sync.reserved(k) == 0 for k in _counters(store))


async def test_every_exit_path_releases_or_settles_and_missing_usage_is_estimated() -> None:
    engine_, store = engine(limit_usd=1.0)
    # Upstream error before any reply: released, nothing spent.
    lifecycle = engine_.open(chat(), frontend="check")
    await lifecycle.astart()
    await lifecycle.afinish("upstream_error", status=500)
    assert spent(store) == 0 and spent(store, "usd") == 0
    # A reply without usage: settled with an estimate, never zero, and counted.
    lifecycle = engine_.open(chat(), frontend="check")
    request = await lifecycle.astart()
    assert request is not None
    await lifecycle.adeliver(reply_for(request, 0, usage=False))
    await lifecycle.afinish()
    assert spent(store) > 0
    estimated = engine_.telemetry.registry.get_sample_value(
        "guardwire_budget_estimated_settlements_total", {"budget": "team-daily"}
    )
    assert estimated == 1
    # A disconnect: settled (the provider may have charged), nothing left held.
    before = spent(store)
    lifecycle = engine_.open(chat(), frontend="check")
    await lifecycle.astart()
    await lifecycle.afinish("disconnected")
    assert spent(store) > before
    assert all(store.sync.reserved(k) == 0 for k in _counters(store))


async def test_the_window_resets_and_scopes_are_separate() -> None:
    clock = FakeClock()
    engine_, _ = engine(clock, limit_requests=1)
    for tenant, allowed in (("a", True), ("a", False), ("b", True)):
        lifecycle = engine_.open(chat(tenant=tenant), frontend="check")
        assert (await lifecycle.astart() is not None) is allowed
        await lifecycle.adeliver(reply_for(lifecycle.call, 5)) if allowed else None
        await lifecycle.afinish()
    clock.advance(86400)
    lifecycle = engine_.open(chat(tenant="a"), frontend="check")
    assert await lifecycle.astart() is not None
    await lifecycle.afinish()


async def test_unknown_models_are_refused_or_priced_by_default() -> None:
    engine_, _ = engine(limit_usd=1.0)
    call = chat()
    call.model = "my-local-llama"
    lifecycle = engine_.open(call, frontend="check")
    assert await lifecycle.astart() is None
    assert lifecycle.refusal is not None and "price table" in lifecycle.refusal.message
    engine_, _ = engine(limit_usd=1.0, on_unknown_model="default_price")
    lifecycle = engine_.open(call, frontend="check")
    assert await lifecycle.astart() is not None
    await lifecycle.afinish()


def test_policy_budgets_are_validated() -> None:
    with pytest.raises(guard.PolicyError, match="limit_usd, limit_tokens or limit_requests"):
        policy()
    with pytest.raises(guard.PolicyError, match="time zone"):
        policy(limit_usd=1, tz="Mars/Olympus")


def test_the_sync_path_reserves_and_settles(tmp_path: Path) -> None:
    engine_ = guard.Guard(
        policy(limit_tokens=100_000), store=f"sqlite://{tmp_path / 's.db'}",
        registry=CollectorRegistry(),
    )  # fmt: skip
    outcome = engine_.run_sync(chat(), lambda request: reply_for(request, 7))
    assert outcome.input.action is guard.Action.ALLOW
    assert engine_.store.sync.get(next(iter(_keys(engine_)))) == 17


def _keys(engine_: guard.Guard) -> list[str]:
    import sqlite3

    path = engine_.store.path
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        keys: list[str] = []
        for table in tables:
            columns = [r[1] for r in db.execute(f"pragma table_info({table})")]
            if "key" in columns:
                keys += [r[0] for r in db.execute(f"select key from {table}")]
    return [k for k in keys if k.endswith(":tokens")]


class ReaskFirst:
    """Asks for one reask of every first reply."""

    name, shadow = "reask-first", False
    capabilities = Capabilities(may_reask=True, may_block=False)

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, guard.Action.ALLOW)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        if ctx.attempt == 1:
            return Verdict(self.name, guard.Action.REASK, reason="again", feedback="again")
        return Verdict(self.name, guard.Action.ALLOW)


@pytest.mark.parametrize("affordable", [True, False])
async def test_each_reask_attempt_settles_the_last_and_reserves_again(affordable: bool) -> None:
    call = chat(max_tokens=50)
    # Not affordable: exactly the first attempt's reservation, so the second cannot fit.
    first_reservation = input_token_bound(call) * 150 + 50 * 600
    engine_, store = engine(limit_usd=0.001 if affordable else first_reservation / 1e9)
    engine_.add_check("output", ReaskFirst())
    lifecycle = engine_.open(call, frontend="check")
    request = await lifecycle.astart()
    assert request is not None
    again = await lifecycle.adeliver(reply_for(request, 50))
    first_attempt = 10 * 150 + 50 * 600
    assert spent(store) == first_attempt  # settled before the next attempt reserves
    if affordable:
        assert again is not None and store.sync.reserved(_usd_key(store)) > 0
        assert await lifecycle.adeliver(reply_for(again, 20)) is None
        await lifecycle.afinish()
        assert spent(store) == first_attempt + 10 * 150 + 20 * 600
    else:
        assert again is None and lifecycle.refusal is not None
        assert lifecycle.refusal.status == 429 and "team-daily" in lifecycle.refusal.message
        await lifecycle.afinish()
        assert spent(store) == first_attempt
    assert store.sync.reserved(_usd_key(store)) == 0


def _usd_key(store: MemoryStore) -> str:
    return next(k for k in _counters(store) if k.endswith(":usd"))


def test_the_budgets_cli_lists_shows_and_resets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from guard.cli import main

    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(
        "name: p\nbudgets:\n  - {name: team-daily, scope: tenant, window: day,"
        " limit_usd: 1.0, limit_requests: 100}\n"
    )
    store = f"sqlite://{tmp_path / 'state.db'}"
    config = tmp_path / "guardwire.yaml"
    config.write_text(
        f"policy: {policy_path}\nstore: {store}\nkeys:\n  - {{key: sk-a, tenant: team-a}}\n"
    )
    monkeypatch.delenv("GUARDWIRE_CONFIG", raising=False)
    engine_ = guard.Guard(Policy.load(policy_path), store=store, registry=CollectorRegistry())
    engine_.run_sync(chat(tenant="team-a"), lambda request: reply_for(request, 100))
    assert main(["budgets", "--config", str(config), "--json", "show", "team-daily"]) == 0
    rows = json.loads(capsys.readouterr().out)["budgets"]
    usd = next(r for r in rows if r["unit"] == "usd" and r["value"] == "team-a")
    assert usd["spent"] == pytest.approx((10 * 150 + 100 * 600) / 1e9)
    assert usd["reserved"] == 0 and usd["remaining"] == pytest.approx(1.0 - usd["spent"])
    requests = next(r for r in rows if r["unit"] == "requests" and r["value"] == "team-a")
    assert requests["spent"] == 1
    assert main(["budgets", "--config", str(config)]) == 0
    assert "team-daily" in capsys.readouterr().out
    assert main(["budgets", "--config", str(config), "--json", "reset", "team-daily"]) == 0
    rows = json.loads(capsys.readouterr().out)["budgets"]
    assert all(r["spent"] == 0 for r in rows)
    assert main(["budgets", "--config", str(config), "show", "nope"]) == 2
    assert "no budget named 'nope'" in capsys.readouterr().err


async def test_metrics_count_spend_by_model_and_budget_with_closed_labels() -> None:
    engine_, _ = engine(limit_usd=1.0, on_unknown_model="default_price")
    for model in ("gpt-4o-mini-2024-07-18", "some-private-model-name"):
        call = chat()
        call.model = model
        lifecycle = engine_.open(call, frontend="check")
        request = await lifecycle.astart()
        assert request is not None
        await lifecycle.adeliver(reply_for(request, 100))
        await lifecycle.afinish()
    sample = engine_.telemetry.registry.get_sample_value
    spend = {"budget": "team-daily", "model": "gpt-4o-mini"}
    assert sample("guardwire_budget_spend_usd_total", spend) == pytest.approx(61_500 / 1e9)
    tokens = {**spend, "direction": "output"}
    assert sample("guardwire_budget_tokens_total", tokens) == 100
    # A model the table does not name is labelled "other", never by its name.
    assert sample("guardwire_budget_spend_usd_total", {**spend, "model": "other"}) > 0
    exposition = engine_.telemetry.registry.collect()
    assert "private" not in str([m.samples for m in exposition])
    assert sample("guardwire_budget_clamps_total", {"budget": "team-daily"}) == 2
    remaining = sample("guardwire_budget_remaining", {"budget": "team-daily", "unit": "usd"})
    assert remaining is not None and 0.99 < remaining < 1.0


async def test_token_counting_requests_reserve_nothing() -> None:
    engine_, store = engine(limit_requests=1)
    count = formats.get("anthropic.count_tokens")
    body = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(3):
        call = count.parse_request(json.dumps(body).encode(), Caller(tenant="acme"))
        lifecycle = engine_.open(call, frontend="check")
        assert await lifecycle.astart() is not None
        await lifecycle.afinish()
    assert spent(store, "requests") == 0


async def test_the_responses_api_is_clamped_in_its_own_field() -> None:
    engine_, _ = engine(limit_usd=0.001)
    responses = formats.get("openai.responses")
    body = {"model": "gpt-4o-mini", "input": "hello"}
    call = responses.parse_request(json.dumps(body).encode(), Caller(tenant="acme"))
    lifecycle = engine_.open(call, frontend="check")
    forwarded = await lifecycle.astart()
    assert forwarded is not None and forwarded.raw is not None
    assert forwarded.raw["max_output_tokens"] == int(
        lifecycle.ctx.response_headers["x-guardwire-max-tokens-clamped"]
    )
    await lifecycle.afinish("upstream_error", status=500)


async def test_a_request_scope_caps_each_call_on_its_own() -> None:
    engine_, _ = engine(scope="request", window="none", limit_tokens=500)
    small, large = chat(max_tokens=1000), chat("x" * 600)
    for call, forwarded in ((small, True), (small, True), (large, False)):
        call = chat(call.segments[0].text, max_tokens=1000)
        lifecycle = engine_.open(call, frontend="check")
        request = await lifecycle.astart()
        assert (request is not None) is forwarded
        if request is not None:  # clamped to what is left of 500 after the input bound
            assert request.max_tokens is not None and 16 <= request.max_tokens < 500
        else:
            assert lifecycle.refusal is not None and lifecycle.refusal.retry_after is None
        await lifecycle.afinish()


ANTHROPIC = formats.get("anthropic.messages")


async def _settle_anthropic(usage: dict[str, int]) -> int:
    """Spend (nano-dollars) settled for one claude-haiku-4-5 call with ``usage``."""
    engine_, store = engine(limit_usd=10.0)
    body = {"model": "claude-haiku-4-5", "max_tokens": 100,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    call = ANTHROPIC.parse_request(json.dumps(body).encode(), Caller(tenant="acme"))
    lifecycle = engine_.open(call, frontend="check")
    assert await lifecycle.astart() is not None
    reply = {"id": "m", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
             "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
             "usage": usage}  # fmt: skip
    await lifecycle.adeliver(ANTHROPIC.parse_reply(call, json.dumps(reply).encode()))
    await lifecycle.afinish()
    return spent(store)


async def test_anthropic_cache_writes_and_reads_settle_at_their_own_prices() -> None:
    price = PriceTable.shipped().lookup("claude-haiku-4-5")
    assert price is not None
    # The shipped table: cache writes (5-minute) at 1.25x input, reads at the cached price.
    assert price.cache_write == price.input * 5 // 4 and price.cached_input < price.input
    usage = {"input_tokens": 10, "cache_creation_input_tokens": 1_000,
             "cache_read_input_tokens": 2_000, "output_tokens": 5}  # fmt: skip
    expected = (
        10 * price.input + 1_000 * price.cache_write + 2_000 * price.cached_input
        + 5 * price.output
    )  # fmt: skip
    assert await _settle_anthropic(usage) == expected
    # Without cache fields: plain input price, as before.
    plain = {"input_tokens": 3_010, "output_tokens": 5}
    assert await _settle_anthropic(plain) == 3_010 * price.input + 5 * price.output


async def test_openai_cached_prompt_tokens_settle_at_the_cached_input_price() -> None:
    engine_, store = engine(limit_usd=10.0)
    call = chat(max_tokens=50)
    lifecycle = engine_.open(call, frontend="check")
    assert await lifecycle.astart() is not None
    body = {"id": "x", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1_000, "completion_tokens": 7, "total_tokens": 1_007,
                      "prompt_tokens_details": {"cached_tokens": 600}}}  # fmt: skip
    await lifecycle.adeliver(CHAT.parse_reply(call, json.dumps(body).encode()))
    await lifecycle.afinish()
    price = PriceTable.shipped().lookup("gpt-4o-mini")
    assert price is not None
    assert spent(store) == 400 * price.input + 600 * price.cached_input + 7 * price.output
    # The token counter counts every input token, cached or not.
    assert spent(store, "tokens") == 0  # no token limit in this budget


def test_a_cache_write_price_below_zero_or_unknown_keys_are_config_errors(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "prices.yaml"
    bad.write_text("models:\n  - {model: m, input: 1, output: 2, cache_write: -1}\n")
    with pytest.raises(guard.ConfigError, match="cache_write"):
        PriceTable.load(bad)
    ok = tmp_path / "ok.yaml"
    ok.write_text("models:\n  - {model: m, input: 2, output: 4}\n")
    price = PriceTable.load(ok).lookup("m")
    assert price is not None and price.cache_write == price.input  # none given: input price
