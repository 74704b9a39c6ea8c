"""Upstream stream events that are hostile or odd (review D16, D20)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from guard.formats import get
from guard.formats._envelope import event_payload

AWS = "AKIAABCDEFGHIJKLMNOP"


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard(registry=CollectorRegistry())


def test_a_deeply_nested_event_is_not_json() -> None:
    assert event_payload("[" * 100_000) is None
    assert event_payload('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}") is None


@pytest.mark.parametrize("name", ["openai.chat", "anthropic.messages"])
@pytest.mark.parametrize(
    "data",
    [b"[" * 100_000, b"not json " + AWS.encode(), b'"a string"'],
    ids=["nested", "text", "str"],
)
def test_an_event_that_is_not_a_json_object_ends_the_stream(
    guard: Guard, name: str, data: bytes
) -> None:
    """Nothing the guard cannot read is passed on: the stream ends with the API's error
    event (a nested event used to raise RecursionError out of the filter, review D16)."""
    fmt = get(name)
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    stream = fmt.stream_filter(fmt.parse_request(json.dumps(body).encode()), guard)
    out = stream.feed(b"data: " + data + b"\n\n") + stream.close()
    assert data not in out and stream.done and stream.upstream_failed
    assert b"not a JSON object" in out and out.count(b"data: ") == 1


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    payload = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return b"data: " + json.dumps({**payload, "choices": [choice]}).encode() + b"\n\n"


def test_a_repeated_tool_index_in_one_delta_checks_both_pieces(guard: Guard) -> None:
    """The first entry's arguments used to be overwritten by the second, unchecked."""
    fmt = get("openai.chat")
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    stream = fmt.stream_filter(fmt.parse_request(json.dumps(body).encode()), guard)
    tools = [
        {"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}},
        {"index": 0, "function": {"arguments": f'{{"a": "{AWS} '}},
        {"index": 0, "function": {"arguments": 'tail"}'}},
    ]
    data = chunk({"role": "assistant", "tool_calls": tools}) + chunk({}, "tool_calls")
    out = stream.feed(data + b"data: [DONE]\n\n") + stream.close()
    assert AWS.encode() not in out
    arguments = "".join(
        tool["function"].get("arguments") or ""
        for line in out.split(b"\n")
        if line.startswith(b"data: {")
        for choice in json.loads(line[6:])["choices"]
        for tool in choice["delta"].get("tool_calls") or ()
    )
    assert json.loads(arguments) == {"a": "[AWS_ACCESS_KEY] tail"}
