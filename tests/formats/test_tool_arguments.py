"""Tool-call arguments are checked as decoded JSON string leaves (review D7, R9).

In JSON source a newline is the two characters ``\\`` ``n`` and ``A`` may be written
``\\u0041``: a rule run over the source misses keys that the decoded text shows. Every
case runs for OpenAI and Anthropic, in requests, complete replies and streams.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy
from guard.formats import get
from guard.policy import data_path
from guard.types import Action

AWS = "AKIAABCDEFGHIJKLMNOP"
REDACTED = "[AWS_ACCESS_KEY]"
#: The arguments a model writes a config file with, as the model encodes them.
AFTER_NEWLINE = json.dumps({"path": "~/.aws/credentials", "content": f"[default]\n{AWS}"})
ESCAPED = '{"content": "key=\\u0041KIAABCDEFGHIJKLMNOP"}'
NESTED = json.dumps({"files": [{"name": "a", "lines": ["x", f"\t{AWS}"]}], "n": 3})
CASES = [AFTER_NEWLINE, ESCAPED, NESTED]


@pytest.fixture(scope="module", params=["progressive", "buffer"])
def guard(request: pytest.FixtureRequest) -> Guard:
    text = data_path("rules", "default.yaml").read_text(encoding="utf-8")
    policy = Policy.from_yaml(text.replace("  mode: progressive", f"  mode: {request.param}"))
    return Guard(policy, registry=CollectorRegistry())


@pytest.fixture(scope="module")
def default_guard() -> Guard:
    return Guard(registry=CollectorRegistry())


def redacted(arguments: str) -> Any:
    """The arguments as they must come out: decoded, the key redacted in every leaf."""
    return json.loads(json.dumps(json.loads(arguments)).replace(AWS, REDACTED))


def assert_no_key(document: Any) -> None:
    assert AWS not in json.dumps(document, ensure_ascii=False)
    assert "KIAABCDEFGHIJKLMNOP" not in json.dumps(document, ensure_ascii=False)


# -- requests ------------------------------------------------------------------------


def openai_request(arguments: str, legacy: bool = False) -> bytes:
    call: dict[str, Any] = {"name": "write_file", "arguments": arguments}
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if legacy:
        message["function_call"] = call
    else:
        message["tool_calls"] = [{"id": "c1", "type": "function", "function": call}]
    messages = [{"role": "user", "content": "save it"}, message]
    return json.dumps({"model": "m", "messages": messages}).encode()


@pytest.mark.parametrize("arguments", CASES)
@pytest.mark.parametrize("legacy", [False, True])
def test_openai_request_arguments_are_redacted_leaf_by_leaf(
    default_guard: Guard, arguments: str, legacy: bool
) -> None:
    fmt = get("openai.chat")
    call = fmt.parse_request(openai_request(arguments, legacy))
    assert default_guard.before(call).action is Action.REDACT
    sent = json.loads(fmt.request_body(call))
    message = sent["messages"][1]
    function = message["function_call"] if legacy else message["tool_calls"][0]["function"]
    assert isinstance(function["arguments"], str)
    assert json.loads(function["arguments"]) == redacted(arguments)


def test_openai_request_arguments_are_one_segment_per_string_leaf() -> None:
    call = get("openai.chat").parse_request(openai_request(NESTED))
    leaves = [(s.path, s.leaf, s.text) for s in call.segments if s.kind == "tool_arguments"]
    path = ("messages", 1, "tool_calls", 0, "function", "arguments")
    assert leaves == [
        (path, ("files", 0, "name"), "a"),
        (path, ("files", 0, "lines", 0), "x"),
        (path, ("files", 0, "lines", 1), f"\t{AWS}"),
    ]


@pytest.mark.parametrize("arguments", ['{"a": "x', "not json " + AWS, '"just a string ' + AWS])
def test_arguments_that_are_not_json_are_checked_as_raw_text(
    default_guard: Guard, arguments: str
) -> None:
    fmt = get("openai.chat")
    call = fmt.parse_request(openai_request(arguments))
    segment = next(s for s in call.segments if s.kind == "tool_arguments")
    assert segment.leaf is None and segment.text == arguments
    default_guard.before(call)
    assert AWS not in fmt.request_body(call).decode()


def anthropic_request(tool_input: Any) -> bytes:
    block = {"type": "tool_use", "id": "t1", "name": "write_file", "input": tool_input}
    messages = [
        {"role": "user", "content": "save it"},
        {"role": "assistant", "content": [block]},
    ]
    return json.dumps({"model": "m", "max_tokens": 9, "messages": messages}).encode()


@pytest.mark.parametrize("arguments", CASES)
def test_anthropic_request_inputs_are_redacted_leaf_by_leaf(
    default_guard: Guard, arguments: str
) -> None:
    fmt = get("anthropic.messages")
    call = fmt.parse_request(anthropic_request(json.loads(arguments)))
    assert default_guard.before(call).action is Action.REDACT
    sent = json.loads(fmt.request_body(call))
    assert sent["messages"][1]["content"][0]["input"] == redacted(arguments)


def test_an_edited_anthropic_input_keeps_every_other_value() -> None:
    """The old code replaced an input whose edit broke its JSON with ``{}``."""
    fmt = get("anthropic.messages")
    tool_input = {"keep": [1, True, None, 2.5], "text": f"x {AWS}", "deep": {"k": "v"}}
    call = fmt.parse_request(anthropic_request(tool_input))
    for segment in call.segments:
        if segment.kind == "tool_arguments":
            assert segment.leaf is None and segment.path is not None
    Guard(registry=CollectorRegistry()).before(call)
    sent = json.loads(fmt.request_body(call))["messages"][1]["content"][0]["input"]
    assert sent == {**tool_input, "text": f"x {REDACTED}"}


# -- complete replies ------------------------------------------------------------------


def openai_reply(arguments: str, legacy: bool = False) -> bytes:
    call = {"name": "write_file", "arguments": arguments}
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if legacy:
        message["function_call"] = call
    else:
        message["tool_calls"] = [{"id": "c1", "type": "function", "function": call}]
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [choice]}).encode()


@pytest.mark.parametrize("arguments", CASES)
@pytest.mark.parametrize("legacy", [False, True])
def test_openai_reply_arguments_are_redacted(
    default_guard: Guard, arguments: str, legacy: bool
) -> None:
    fmt = get("openai.chat")
    call = fmt.parse_request(openai_request("{}"))
    reply = fmt.parse_reply(call, openai_reply(arguments, legacy))
    assert default_guard.after(call, reply).action is Action.REDACT
    message = json.loads(fmt.reply_body(reply))["choices"][0]["message"]
    function = message["function_call"] if legacy else message["tool_calls"][0]["function"]
    assert json.loads(function["arguments"]) == redacted(arguments)
    if not legacy:
        assert json.loads(reply.choices[0].tool_calls[0].arguments) == redacted(arguments)


def anthropic_reply(tool_input: Any) -> bytes:
    content = [
        {"type": "text", "text": "saving"},
        {"type": "tool_use", "id": "t1", "name": "write_file", "input": tool_input},
    ]
    reply = {"id": "m", "type": "message", "role": "assistant", "content": content}
    return json.dumps({**reply, "stop_reason": "tool_use"}).encode()


@pytest.mark.parametrize("arguments", CASES)
def test_anthropic_reply_inputs_are_redacted(default_guard: Guard, arguments: str) -> None:
    fmt = get("anthropic.messages")
    call = fmt.parse_request(anthropic_request({}))
    reply = fmt.parse_reply(call, anthropic_reply(json.loads(arguments)))
    assert default_guard.after(call, reply).action is Action.REDACT
    body = json.loads(fmt.reply_body(reply))
    assert body["content"][1]["input"] == redacted(arguments)
    assert json.loads(reply.choices[0].tool_calls[0].arguments) == redacted(arguments)


# -- streams -----------------------------------------------------------------------------


def openai_stream(arguments: str, legacy: bool, size: int) -> bytes:
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + json.dumps({**head, "choices": [choice]}).encode() + b"\n\n"

    def piece(function: dict[str, Any], first: bool = False) -> bytes:
        if legacy:
            return chunk({"function_call": function})
        tool: dict[str, Any] = {"index": 0, "function": function}
        if first:
            tool |= {"id": "c1", "type": "function"}
        return chunk({"tool_calls": [tool]})

    events = [chunk({"role": "assistant", "content": None})]
    events.append(piece({"name": "write_file", "arguments": ""}, first=True))
    for at in range(0, len(arguments), size):
        events.append(piece({"arguments": arguments[at : at + size]}))
    events.append(chunk({}, "function_call" if legacy else "tool_calls"))
    return b"".join(events) + b"data: [DONE]\n\n"


def openai_streamed_arguments(out: bytes, legacy: bool) -> str:
    parts = []
    for line in out.split(b"\n"):
        if line.startswith(b"data: {"):
            payload = json.loads(line[6:])
            assert "error" not in payload
            for choice in payload["choices"]:
                delta = choice["delta"]
                if legacy:
                    parts.append((delta.get("function_call") or {}).get("arguments") or "")
                for tool in delta.get("tool_calls") or ():
                    parts.append(tool.get("function", {}).get("arguments") or "")
    return "".join(parts)


def feed_in_pieces(stream: Any, data: bytes, seed: int) -> bytes:
    rng = random.Random(seed)
    out, at = [], 0
    while at < len(data):
        step = rng.randint(1, 40)
        out.append(stream.feed(data[at : at + step]))
        at += step
    return b"".join(out) + stream.close()


@pytest.mark.parametrize("arguments", CASES)
@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_openai_streamed_arguments_are_redacted(
    guard: Guard, arguments: str, legacy: bool, seed: int
) -> None:
    fmt = get("openai.chat")
    call = fmt.parse_request(openai_request("{}") + b"")
    call.stream = True
    stream = fmt.stream_filter(call, guard)
    out = feed_in_pieces(stream, openai_stream(arguments, legacy, 1 + seed * 3), seed)
    joined = openai_streamed_arguments(out, legacy)
    assert json.loads(joined) == redacted(arguments)
    assert stream.decision is not None and stream.decision.action is Action.REDACT


def anthropic_stream(partial_json: str, size: int) -> bytes:
    def event(payload: dict[str, Any]) -> bytes:
        return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()

    message = {"id": "m", "type": "message", "role": "assistant", "content": [], "model": "c"}
    events = [event({"type": "message_start", "message": message})]
    block = {"type": "tool_use", "id": "t1", "name": "write_file", "input": {}}
    events.append(event({"type": "content_block_start", "index": 0, "content_block": block}))
    for at in range(0, len(partial_json), size):
        delta = {"type": "input_json_delta", "partial_json": partial_json[at : at + size]}
        events.append(event({"type": "content_block_delta", "index": 0, "delta": delta}))
    events.append(event({"type": "content_block_stop", "index": 0}))
    events.append(event({"type": "message_delta", "delta": {"stop_reason": "tool_use"}}))
    return b"".join(events) + event({"type": "message_stop"})


def anthropic_streamed_input(out: bytes) -> str:
    parts = []
    for line in out.split(b"\n"):
        if line.startswith(b"data: {"):
            payload = json.loads(line[6:])
            assert payload["type"] != "error"
            delta = payload.get("delta") or {}
            if delta.get("type") == "input_json_delta":
                parts.append(delta["partial_json"])
    return "".join(parts)


@pytest.mark.parametrize("arguments", CASES)
@pytest.mark.parametrize("seed", range(3))
def test_anthropic_streamed_inputs_are_redacted(guard: Guard, arguments: str, seed: int) -> None:
    fmt = get("anthropic.messages")
    call = fmt.parse_request(anthropic_request({}))
    call.stream = True
    stream = fmt.stream_filter(call, guard)
    out = feed_in_pieces(stream, anthropic_stream(arguments, 1 + seed * 3), seed)
    assert json.loads(anthropic_streamed_input(out)) == redacted(arguments)
    assert stream.decision is not None and stream.decision.action is Action.REDACT
    assert stream.reply.choices[0].tool_calls[0].arguments
    assert json.loads(stream.reply.choices[0].tool_calls[0].arguments) == redacted(arguments)


def complete_redacted(name: str, arguments: str) -> Any:
    """What the complete (non-stream) path makes of the same arguments."""
    fmt = get(name)
    guard = Guard(registry=CollectorRegistry())
    if name == "openai.chat":
        call = fmt.parse_request(openai_request("{}"))
        reply = fmt.parse_reply(call, openai_reply(arguments))
        guard.after(call, reply)
        return json.loads(reply.choices[0].tool_calls[0].arguments)
    call = fmt.parse_request(anthropic_request({}))
    reply = fmt.parse_reply(call, anthropic_reply(json.loads(arguments)))
    guard.after(call, reply)
    return json.loads(reply.choices[0].tool_calls[0].arguments)


@pytest.mark.parametrize("arguments", CASES)
def test_the_released_stream_equals_the_redacted_complete_arguments(
    default_guard: Guard, arguments: str
) -> None:
    fmt = get("openai.chat")
    stream = fmt.stream_filter(fmt.parse_request(openai_request("{}")), default_guard)
    out = feed_in_pieces(stream, openai_stream(arguments, False, 2), 7)
    streamed = json.loads(openai_streamed_arguments(out, False))
    assert streamed == complete_redacted("openai.chat", arguments)
    fmt = get("anthropic.messages")
    stream = fmt.stream_filter(fmt.parse_request(anthropic_request({})), default_guard)
    out = feed_in_pieces(stream, anthropic_stream(arguments, 2), 7)
    streamed = json.loads(anthropic_streamed_input(out))
    assert streamed == complete_redacted("anthropic.messages", arguments)


@pytest.mark.parametrize("name", ["openai.chat", "anthropic.messages"])
def test_streamed_arguments_that_are_not_json_are_checked_as_raw_text(
    guard: Guard, name: str
) -> None:
    source = f"write this: {AWS} please"
    fmt = get(name)
    if name == "openai.chat":
        stream = fmt.stream_filter(fmt.parse_request(openai_request("{}")), guard)
        out = feed_in_pieces(stream, openai_stream(source, False, 3), 2)
        sent = openai_streamed_arguments(out, False)
    else:
        stream = fmt.stream_filter(fmt.parse_request(anthropic_request({})), guard)
        out = feed_in_pieces(stream, anthropic_stream(source, 3), 2)
        sent = anthropic_streamed_input(out)
    assert AWS.encode() not in out
    if name == "openai.chat" or guard.policy.stream.mode == "progressive":
        # (A buffered Anthropic reply re-serialises the input object: not JSON is {}.)
        assert sent == source.replace(AWS, REDACTED)


@pytest.mark.parametrize("name", ["openai.chat", "anthropic.messages"])
def test_a_blocked_leaf_ends_the_stream(guard: Guard, name: str) -> None:
    arguments = json.dumps({"key": "-----BEGIN PRIVATE KEY-----\nMIIE", "ok": "x"})
    fmt = get(name)
    if name == "openai.chat":
        stream = fmt.stream_filter(fmt.parse_request(openai_request("{}")), guard)
        out = feed_in_pieces(stream, openai_stream(arguments, False, 3), 4)
    else:
        stream = fmt.stream_filter(fmt.parse_request(anthropic_request({})), guard)
        out = feed_in_pieces(stream, anthropic_stream(arguments, 3), 4)
    assert b"PRIVATE KEY" not in out
    assert stream.decision is not None and stream.decision.blocked


# -- keys ------------------------------------------------------------------------------

#: A secret written as a key (and, nested below it, as a value), and two keys that
#: redact alike: both must survive the rename.
KEYED = json.dumps(
    {AWS: {"inner": f"v {AWS}"}, "ASIAABCDEFGHIJKLMNOP": 2, "keep": "x"}, separators=(",", ":")
)
KEYED_REDACTED = {REDACTED: {"inner": f"v {REDACTED}"}, f"{REDACTED}#2": 2, "keep": "x"}


def test_keys_are_redacted_in_openai_requests_and_replies(default_guard: Guard) -> None:
    fmt = get("openai.chat")
    call = fmt.parse_request(openai_request(KEYED))
    default_guard.before(call)
    sent = json.loads(fmt.request_body(call))["messages"][1]["tool_calls"][0]["function"]
    assert json.loads(sent["arguments"]) == KEYED_REDACTED
    reply = fmt.parse_reply(call, openai_reply(KEYED))
    default_guard.after(call, reply)
    assert json.loads(reply.choices[0].tool_calls[0].arguments) == KEYED_REDACTED


def test_keys_are_redacted_in_anthropic_requests_and_replies(default_guard: Guard) -> None:
    fmt = get("anthropic.messages")
    call = fmt.parse_request(anthropic_request(json.loads(KEYED)))
    default_guard.before(call)
    sent = json.loads(fmt.request_body(call))["messages"][1]["content"][0]["input"]
    assert sent == KEYED_REDACTED
    assert list(sent) == list(KEYED_REDACTED)  # the key order is kept
    reply = fmt.parse_reply(call, anthropic_reply(json.loads(KEYED)))
    default_guard.after(call, reply)
    assert json.loads(fmt.reply_body(reply))["content"][1]["input"] == KEYED_REDACTED


@pytest.mark.parametrize("name", ["openai.chat", "anthropic.messages"])
def test_streamed_keys_are_redacted(guard: Guard, name: str) -> None:
    arguments = json.dumps({AWS: f"v {AWS}", "keep": "x"})
    fmt = get(name)
    if name == "openai.chat":
        stream = fmt.stream_filter(fmt.parse_request(openai_request("{}")), guard)
        out = feed_in_pieces(stream, openai_stream(arguments, False, 3), 5)
        sent = openai_streamed_arguments(out, False)
    else:
        stream = fmt.stream_filter(fmt.parse_request(anthropic_request({})), guard)
        out = feed_in_pieces(stream, anthropic_stream(arguments, 3), 5)
        sent = anthropic_streamed_input(out)
    assert AWS.encode() not in out
    assert json.loads(sent) == {REDACTED: f"v {REDACTED}", "keep": "x"}


@pytest.mark.parametrize("name", ["openai.chat", "anthropic.messages"])
@pytest.mark.parametrize("cut", ['{"a": "x", "n": 12', '{"a": "x", "ok": tr', '{"a": "open'])
def test_arguments_cut_short_are_sent_whole(guard: Guard, name: str, cut: str) -> None:
    """A stream that stops inside a token (max_tokens) still sends every character."""
    fmt = get(name)
    if name == "openai.chat":
        stream = fmt.stream_filter(fmt.parse_request(openai_request("{}")), guard)
        out = feed_in_pieces(stream, openai_stream(cut, False, 4), 3)
        sent = openai_streamed_arguments(out, False)
    else:
        stream = fmt.stream_filter(fmt.parse_request(anthropic_request({})), guard)
        out = feed_in_pieces(stream, anthropic_stream(cut, 4), 3)
        sent = anthropic_streamed_input(out)
    if guard.policy.stream.mode == "progressive":
        assert sent == cut
