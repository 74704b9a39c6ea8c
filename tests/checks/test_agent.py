"""The agent check on the engine: tool lists, argument rules, session caps, loops,
sequences, concurrency on SQLite, and that nothing but hashes and counts is stored."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard import formats
from guard.checks.agent import AgentCheck
from guard.errors import PolicyError
from guard.policy import Policy
from guard.stores import MemoryStore, open_store
from guard.types import Action, Call, Caller, Reply
from tests.stores.conftest import FakeClock

CHAT = formats.get("openai.chat")
MESSAGES = formats.get("anthropic.messages")
BUFFER = {"whole_reply": "buffer"}


def engine(store: Any = None, clock: FakeClock | None = None, **agent: Any) -> guard.Guard:
    body = {"name": "agents", "stream": BUFFER, "input": [{"check": "agent", **agent}]}
    built = guard.Guard(
        Policy.from_dict(body), store=store or MemoryStore(), registry=CollectorRegistry()
    )
    if clock is not None:
        check = built.input_checks[0]
        assert isinstance(check, AgentCheck)
        check.clock = clock
    return built


def chat(session: str | None = "s1", tenant: str = "acme", **fields: Any) -> Call:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "go"}], **fields}
    return CHAT.parse_request(json.dumps(body).encode(), Caller(tenant=tenant, session=session))


def tool_reply(call: Call, *calls: tuple[str, dict[str, Any]]) -> Reply:
    tool_calls = [
        {"id": f"c{n}", "type": "function", "function": {"name": name, "arguments": json.dumps(a)}}
        for n, (name, a) in enumerate(calls)
    ]
    body = {
        "id": "x", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls",
                     "message": {"role": "assistant", "content": None, "tool_calls": tool_calls}}],
    }  # fmt: skip
    return CHAT.parse_reply(call, json.dumps(body).encode())


def run_call(built: guard.Guard, call: Call, *calls: tuple[str, dict[str, Any]]) -> Any:
    """One call through the lifecycle: the input decision, or the output one."""
    lifecycle = built.open(call, frontend="check")
    try:
        if lifecycle.start() is None:
            return lifecycle.input
        lifecycle.deliver(tool_reply(call, *calls))
        return lifecycle.output
    finally:
        lifecycle.finish()


def kinds(decision: Any) -> list[str]:
    return [f.kind for v in decision.verdicts for f in v.findings]


def agent_verdict(decision: Any) -> Any:
    return next(v for v in decision.verdicts if v.check == "agent")


# -- tool allow/deny lists and argument rules ---------------------------------------------


def test_denied_tool_in_the_reply_is_blocked_with_the_policy_rule() -> None:
    built = engine(tools_allowed=["search", "db_read_*"], tools_denied=["db_read_secrets"])
    assert run_call(built, chat(), ("db_read_orders", {})).action is Action.ALLOW
    for name, rule in (("delete_everything", "other"), ("db_read_secrets", "db_read_secrets")):
        decision = run_call(built, chat(), ("search", {}), (name, {}))
        assert decision.action is Action.BLOCK
        verdict = agent_verdict(decision)
        assert [(f.kind, f.rule) for f in verdict.findings] == [("agent.tool_denied", rule)]
        assert (verdict.status, verdict.code) == (403, "agent_tool_denied")
        assert "delete_everything" not in verdict.reason  # never a name the model made up


def test_argument_rules_deny_regex_and_allow_hosts() -> None:
    built = engine(
        arguments=[
            {"tool": "run_shell", "pointer": "/command", "deny_regex": r"\brm\s+-rf\b"},
            {"tool": "fetch_url", "pointer": "/url", "allow_hosts": ["docs.example.com", "*.internal"]},
        ]
    )  # fmt: skip
    ok = [("run_shell", {"command": "ls -la"}), ("fetch_url", {"url": "https://a.internal/x"})]
    assert run_call(built, chat(), *ok).action is Action.ALLOW
    refused = [
        ("run_shell", {"command": "cd / && rm -rf *"}),
        ("run_shell", {"command": "RM  -RF /"}),  # case and spacing
        ("fetch_url", {"url": "https://evil.example.net/x"}),
        ("fetch_url", {"url": "https://docs.example.com.evil.net/"}),
        ("fetch_url", {"url": "not a url"}),
    ]
    for tool_call in refused:
        decision = run_call(built, chat(), tool_call)
        assert decision.action is Action.BLOCK, tool_call
        verdict = agent_verdict(decision)
        assert kinds(decision) == ["agent.arguments"]
        assert verdict.findings[0].rule == tool_call[0]
        assert "rm" not in verdict.reason and "evil" not in verdict.reason


def test_anthropic_tool_use_is_checked_too() -> None:
    built = engine(tools_denied=["send_*"])
    body = {"model": "claude-3-5-haiku-latest", "max_tokens": 50,
            "messages": [{"role": "user", "content": "go"}]}  # fmt: skip
    call = MESSAGES.parse_request(json.dumps(body).encode(), Caller(session="s"))
    reply_body = {
        "id": "m", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-latest",
        "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 1},
        "content": [{"type": "tool_use", "id": "t1", "name": "send_email", "input": {"to": "x"}}],
    }  # fmt: skip
    lifecycle = built.open(call, frontend="check")
    lifecycle.start()
    lifecycle.deliver(MESSAGES.parse_reply(call, json.dumps(reply_body).encode()))
    lifecycle.finish()
    assert lifecycle.output is not None and lifecycle.output.action is Action.BLOCK
    assert kinds(lifecycle.output) == ["agent.tool_denied"]


# -- session limits --------------------------------------------------------------------------


def test_step_cap_refuses_the_call_past_max_steps_per_session() -> None:
    built = engine(max_steps=3)
    for _ in range(3):
        assert run_call(built, chat("a")).action is Action.ALLOW
    decision = run_call(built, chat("a"))
    assert decision.action is Action.BLOCK and kinds(decision) == ["agent.step_cap"]
    assert agent_verdict(decision).code == "agent_step_cap"
    # Another session, or the same session name of another tenant, has its own steps.
    assert run_call(built, chat("b")).action is Action.ALLOW
    assert run_call(built, chat("a", tenant="other")).action is Action.ALLOW
    metrics = built.telemetry.registry
    stopped = metrics.get_sample_value(
        "guardwire_agent_sessions_stopped_total", {"check": "agent", "kind": "agent.step_cap"}
    )
    assert stopped == 1.0


def test_time_cap_counts_from_the_first_call_of_the_session() -> None:
    clock = FakeClock()
    built = engine(MemoryStore(clock), clock, max_session_seconds=60)
    assert run_call(built, chat()).action is Action.ALLOW
    clock.advance(59)
    assert run_call(built, chat()).action is Action.ALLOW
    clock.advance(2)
    assert kinds(run_call(built, chat())) == ["agent.time_cap"]


def test_repeated_identical_tool_calls_are_a_loop_after_max_same() -> None:
    built = engine(repeat={"window": 6, "max_same": 3, "action": "block"})
    same = ("search", {"q": "weather", "n": 1})
    for _ in range(3):
        assert run_call(built, chat(), same).action is Action.ALLOW
    # The same arguments in another key order are the same call.
    decision = run_call(built, chat(), ("search", {"n": 1, "q": "weather"}))
    assert decision.action is Action.BLOCK and kinds(decision) == ["agent.loop"]
    # Different arguments are not a loop.
    assert run_call(built, chat(), ("search", {"q": "news"})).action is Action.ALLOW


def test_max_tool_calls_counts_every_tool_call_of_the_session() -> None:
    built = engine(max_tool_calls=3)
    assert run_call(built, chat(), ("a", {}), ("b", {})).action is Action.ALLOW
    assert kinds(run_call(built, chat(), ("c", {}), ("d", {}))) == ["agent.step_cap"]


def test_sequence_rule_denies_a_tool_after_another_in_the_session() -> None:
    rule = {"after": ["read_inbox", "db_read_*"], "deny": ["send_email", "http_post*"]}
    built = engine(sequences=[rule])
    assert run_call(built, chat(), ("send_email", {})).action is Action.ALLOW
    assert run_call(built, chat(), ("db_read_users", {})).action is Action.ALLOW
    decision = run_call(built, chat(), ("http_post_json", {}))
    assert kinds(decision) == ["agent.sequence"]
    assert agent_verdict(decision).findings[0].rule == "http_post*"
    # Within one reply, in order.
    decision = run_call(built, chat("fresh"), ("read_inbox", {}), ("send_email", {}))
    assert kinds(decision) == ["agent.sequence"]


def test_on_missing_session() -> None:
    assert run_call(engine(max_steps=1), chat(None)).action is Action.ALLOW
    refused = run_call(engine(max_steps=1, on_missing_session="block"), chat(None))
    assert kinds(refused) == ["agent.missing_session"] and refused.action is Action.BLOCK
    warned = engine(max_steps=1, on_missing_session="warn").before(chat(None))
    assert warned.action is Action.WARN and kinds(warned) == ["agent.missing_session"]


def test_agent_check_works_in_progressive_streams() -> None:
    # It checks each tool call as it completes (guard/formats/_tool_gate.py): no buffering.
    body = {"name": "p", "input": [{"check": "agent", "tools_denied": ["x"]}]}
    loaded = guard.Guard(Policy.from_dict(body), store=MemoryStore(), registry=CollectorRegistry())
    assert not loaded.stream_buffered


def test_policy_errors_name_the_field() -> None:
    bad: list[dict[str, Any]] = [
        {"arguments": [{"tool": "t", "pointer": "/x"}]},
        {"arguments": [{"tool": "t", "pointer": "/x", "deny_regex": "(?=x)"}]},
        {"repeat": {"window": 3, "max_same": 3}},
        {"max_steps": 0},
    ]
    for entry in bad:
        with pytest.raises((PolicyError, ValueError)):
            Policy.from_dict({"name": "p", "input": [{"check": "agent", **entry}]})


# -- state: atomic, hashes and counts only --------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_fifty_parallel_calls_of_one_session_let_exactly_max_steps_through(
    tmp_path: Path, backend: str
) -> None:
    from tests.redis_server import fresh_url

    url = f"sqlite://{tmp_path / 'state.db'}" if backend == "sqlite" else fresh_url()
    store = open_store(url)
    built = engine(store, max_steps=20)

    async def one() -> Action:
        lifecycle = built.open(chat("busy"), frontend="check")
        try:
            await lifecycle.astart()
            assert lifecycle.input is not None
            return lifecycle.input.action
        finally:
            await lifecycle.afinish()

    async def main() -> list[Action]:
        results = await asyncio.gather(*(one() for _ in range(50)))
        await store.close()
        return list(results)

    actions = asyncio.run(main())
    assert actions.count(Action.ALLOW) == 20 and actions.count(Action.BLOCK) == 30


def test_store_holds_only_hashes_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = open_store(f"sqlite://{path}")
    built = engine(store, max_steps=5, repeat={"window": 4, "max_same": 2},
                   sequences=[{"after": ["read_inbox"], "deny": ["send_email"]}])  # fmt: skip
    secret = "session-of-alice@example.com"
    run_call(built, chat(secret), ("read_inbox", {"password": "hunter2-secret"}))
    asyncio.run(store.close())
    dump = "\n".join(sqlite3.connect(path).iterdump())
    for text in (secret, "alice", "hunter2", "read_inbox", "password", "acme"):
        assert text not in dump


# -- filter_offered: a request patch, written by the wire format -------------------------------


def _offered(names: list[str], nested: bool) -> list[dict[str, Any]]:
    if nested:
        return [{"type": "function", "function": {"name": n}} for n in names]
    return [{"name": n, "input_schema": {"type": "object"}} for n in names]


def test_filter_offered_keeps_only_allowed_tools_in_each_api() -> None:
    built = engine(filter_offered=True, tools_allowed=["search", "db_read_*"])
    choice = {"type": "function", "function": {"name": "send_email"}}
    call = chat(tools=_offered(["search", "send_email", "db_read_x"], True), tool_choice=choice)
    request = built.open(call, frontend="check").start()
    assert request is not None
    assert [t["function"]["name"] for t in request.raw["tools"]] == ["search", "db_read_x"]
    assert "tool_choice" not in request.raw  # it forced a tool that is no longer offered
    assert [t["name"] for t in request.tools] == ["search", "db_read_x"]

    body = {"model": "claude-haiku-4-5", "max_tokens": 10, "tool_choice": {"type": "auto"},
            "messages": [{"role": "user", "content": "go"}],
            "tools": _offered(["send_email"], False)}  # fmt: skip
    anthropic_call = MESSAGES.parse_request(json.dumps(body).encode(), Caller(session="s"))
    request = built.open(anthropic_call, frontend="check").start()
    assert request is not None
    assert "tools" not in request.raw and "tool_choice" not in request.raw


def test_filter_offered_drops_legacy_functions_too() -> None:
    built = engine(filter_offered=True, tools_allowed=["search"])
    functions = [{"name": "search"}, {"name": "send_email"}]
    call = chat(functions=functions, function_call={"name": "send_email"})
    request = built.open(call, frontend="check").start()
    assert request is not None
    assert request.raw["functions"] == [{"name": "search"}]
    assert "function_call" not in request.raw  # it forced a function no longer offered
    assert [t["name"] for t in request.tools] == ["search"]
    only_denied = chat(functions=[{"name": "send_email"}], function_call="auto")
    request = built.open(only_denied, frontend="check").start()
    assert request is not None and "functions" not in request.raw
    assert "function_call" not in request.raw and request.tools == []


def test_filter_offered_leaves_an_allowed_request_byte_for_byte() -> None:
    built = engine(filter_offered=True, tools_denied=["send_email"])
    call = chat(tools=_offered(["search"], True))
    body = call.body
    request = built.open(call, frontend="check").start()
    assert request is not None and request.body == body


def test_a_store_failure_fails_closed_and_is_counted() -> None:
    class BrokenStore(MemoryStore):
        async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
            from guard.stores.base import StoreError

            raise StoreError("state store unreachable")

    built = engine(BrokenStore(), max_steps=5)
    decision = built.before(chat())
    assert decision.action is Action.BLOCK
    errors = built.telemetry.registry.get_sample_value(
        "guardwire_store_errors_total", {"store": "memory"}
    )
    assert errors == 1.0


def test_a_call_refused_before_the_upstream_costs_no_step() -> None:
    # Last round: a step was counted even when another check then refused the call.
    store = MemoryStore()
    body = {"name": "agents", "stream": BUFFER, "input": [
        {"check": "agent", "max_steps": 2},
        {"check": "rules", "rules": [{"name": "no-x", "keywords": ["forbidden"], "action": "block"}]},
    ]}  # fmt: skip
    built = guard.Guard(Policy.from_dict(body), store=store, registry=CollectorRegistry())
    refused = chat(messages=[{"role": "user", "content": "forbidden"}])
    for _ in range(4):
        assert kinds(run_call(built, refused)) == ["rules.keyword"] or run_call
    assert run_call(built, chat()).action is Action.ALLOW
    assert run_call(built, chat()).action is Action.ALLOW
    assert kinds(run_call(built, chat())) == ["agent.step_cap"]
    assert kinds(run_call(built, chat())) == ["agent.step_cap"]  # refusals cost no step either
    (key,) = [k for k in store.sync._counters if k.endswith(":steps")]  # type: ignore[attr-defined]
    assert store.sync.get(key) == 2
