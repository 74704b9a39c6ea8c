"""``action: strip``: the offending tool call is removed from the reply in the API's own
shape (OpenAI ``tool_calls`` entry, Anthropic ``tool_use`` block), the rest of the reply
goes through, and a finding is recorded. Formats that cannot remove a tool call refuse
the reply instead, so a denied tool call never reaches the client."""

from __future__ import annotations

import json
from typing import Any

from guard import formats
from guard.types import Action, Caller
from tests.checks.test_agent import CHAT, MESSAGES, chat, engine, kinds

STRIP = {"tools_allowed": ["search", "run_shell"], "action": "strip",
         "arguments": [{"tool": "run_shell", "pointer": "/command", "deny_regex": r"\brm\s+-rf\b"}]}  # fmt: skip


OFFERED = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
           for n in ("search", "send_email")]  # fmt: skip


def openai_reply(content: str | None, *calls: tuple[str, dict[str, Any]]) -> bytes:
    tool_calls = [
        {"id": f"c{n}", "type": "function", "function": {"name": name, "arguments": json.dumps(a)}}
        for n, (name, a) in enumerate(calls)
    ]
    body = {
        "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls",
                     "message": {"role": "assistant", "content": content, "tool_calls": tool_calls}}],
    }  # fmt: skip
    return json.dumps(body).encode()


def through(built: Any, call: Any, fmt: Any, body: bytes) -> tuple[Any, dict[str, Any]]:
    """The output decision and the body the client gets."""
    lifecycle = built.open(call, frontend="check")
    try:
        assert lifecycle.start() is not None
        lifecycle.deliver(fmt.parse_reply(call, body))
        decision = lifecycle.output
        assert lifecycle.reply is not None
        return decision, json.loads(fmt.reply_body(lifecycle.reply))
    finally:
        lifecycle.finish()


def test_openai_denied_tool_call_is_removed_and_the_rest_passes() -> None:
    built = engine(**STRIP)
    body = openai_reply(None, ("search", {"q": "x"}), ("send_email", {"to": "boss"}))
    decision, sent = through(built, chat(tools=OFFERED), CHAT, body)
    assert decision.action is Action.REDACT and not decision.blocked
    assert kinds(decision) == ["agent.tool_denied"]
    finding = decision.verdicts[0].findings[0]
    assert finding.action is Action.REDACT and finding.tool == "send_email"  # offered
    assert finding.arguments_hash.startswith("sha256:") and "boss" not in str(finding)
    assert through(built, chat(), CHAT, body)[0].verdicts[0].findings[0].tool == "other"
    choice = sent["choices"][0]
    assert [c["function"]["name"] for c in choice["message"]["tool_calls"]] == ["search"]
    assert choice["finish_reason"] == "tool_calls"


def test_openai_reply_left_without_tool_calls_finishes_with_stop_and_keeps_content() -> None:
    built = engine(**STRIP)
    body = openai_reply("Let me clean up.", ("run_shell", {"command": "rm -rf /"}))
    decision, sent = through(built, chat(), CHAT, body)
    assert kinds(decision) == ["agent.arguments"] and not decision.blocked
    choice = sent["choices"][0]
    assert "tool_calls" not in choice["message"] and choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == "Let me clean up."
    assert "rm -rf" not in json.dumps(sent)


def test_anthropic_tool_use_block_is_removed_and_stop_reason_adjusted() -> None:
    built = engine(**STRIP)
    request = {"model": "claude-haiku-4-5", "max_tokens": 50,
               "messages": [{"role": "user", "content": "go"}]}  # fmt: skip
    call = MESSAGES.parse_request(json.dumps(request).encode(), Caller(session="s"))
    reply = {
        "id": "m", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
        "content": [{"type": "text", "text": "On it."},
                    {"type": "tool_use", "id": "t1", "name": "send_email", "input": {"to": "x"}},
                    {"type": "tool_use", "id": "t2", "name": "search", "input": {"q": "y"}}],
    }  # fmt: skip
    decision, sent = through(built, call, MESSAGES, json.dumps(reply).encode())
    assert kinds(decision) == ["agent.tool_denied"] and not decision.blocked
    assert [b.get("name") for b in sent["content"]] == [None, "search"]
    assert sent["stop_reason"] == "tool_use"
    only_denied = dict(reply, content=reply["content"][:2])
    decision, sent = through(built, call, MESSAGES, json.dumps(only_denied).encode())
    assert [b["type"] for b in sent["content"]] == ["text"] and sent["stop_reason"] == "end_turn"


def test_stripped_tool_calls_do_not_count_towards_the_session() -> None:
    built = engine(**STRIP, repeat={"window": 4, "max_same": 1})
    denied = ("send_email", {"to": "boss"})
    for _ in range(3):  # a removed call is not a call the agent made: no loop
        decision, _ = through(built, chat(), CHAT, openai_reply(None, denied))
        assert kinds(decision) == ["agent.tool_denied"]
    decision, _ = through(built, chat(), CHAT, openai_reply(None, ("search", {})))
    assert kinds(decision) == []


def test_responses_function_call_item_is_removed() -> None:
    built = engine(**STRIP)
    responses = formats.get("openai.responses")
    request = {"model": "gpt-4o-mini", "input": "go"}
    call = responses.parse_request(json.dumps(request).encode(), Caller(session="s"))
    reply = {
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
        "model": "gpt-4o-mini",
        "output": [{"type": "function_call", "id": "fc_1", "call_id": "call_1",
                    "name": "send_email", "arguments": "{}", "status": "completed"},
                   {"type": "function_call", "id": "fc_2", "call_id": "call_2",
                    "name": "search", "arguments": "{}", "status": "completed"}],
    }  # fmt: skip
    decision, sent = through(built, call, responses, json.dumps(reply).encode())
    assert kinds(decision) == ["agent.tool_denied"] and not decision.blocked
    assert [item["name"] for item in sent["output"]] == ["search"]


def test_a_format_that_cannot_remove_a_tool_call_refuses_the_reply() -> None:
    from guard.checks._agent_state import ToolUse

    built = engine(**STRIP)
    check = built.input_checks[0]
    call = chat()
    call.format = "some.other_api"  # no reply patch for it: the strip becomes a block
    findings, stripped = check._tool_findings([ToolUse("send_email", {}, "d")], call)  # type: ignore[attr-defined]
    assert [f.action for f in findings] == [Action.BLOCK] and not stripped
