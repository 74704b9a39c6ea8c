"""The Anthropic messages wire format (guard/formats/anthropic.py and its helpers)."""

from __future__ import annotations

import copy
import itertools
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy
from guard.errors import RequestError, UpstreamError
from guard.formats import get
from guard.formats.anthropic import FORMAT
from guard.policy import data_path
from guard.types import Action, Call, Caller, Choice, Reply, ToolCall, Usage

try:  # anthropic 2.x speaks httpx2 and rejects httpx clients; older SDKs use httpx
    import httpx2 as http
except ImportError:  # pragma: no cover
    import httpx as http  # type: ignore[no-redef]

AWS = "AKIAABCDEFGHIJKLMNOP"
API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz1234"
PRIVATE = "-----BEGIN PRIVATE KEY-----"
TEXT = (
    f"Grüße aus 東京 🎌! The key is {API_KEY}; the AWS one is {AWS}. "
    + "Some more ordinary sentences follow, to get past the hold-back window. " * 4
    + "Fin ✓"
)
REDACTED = TEXT.replace(API_KEY, "[API_KEY]").replace(AWS, "[AWS_ACCESS_KEY]")
TOOL_INPUT = {"token": API_KEY, "city": "Zürich"}
REDACTED_INPUT = {"token": "[API_KEY]", "city": "Zürich"}


@pytest.fixture(scope="module", params=["progressive", "buffer"])
def guard(request: pytest.FixtureRequest) -> Guard:
    """The default policy in each stream mode (built once: checks hold no call state)."""
    text = data_path("rules", "default.yaml").read_text(encoding="utf-8")
    policy = Policy.from_yaml(text.replace("  mode: progressive", f"  mode: {request.param}"))
    return Guard(policy, registry=CollectorRegistry())


@pytest.fixture(scope="module")
def default_guard() -> Guard:
    return Guard(registry=CollectorRegistry())


def request(**fields: Any) -> bytes:
    body = {
        "model": "claude-test",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
    }
    return json.dumps(body | fields).encode()


# -- requests --------------------------------------------------------------------------

IMAGE = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
}
CONVERSATION: dict[str, Any] = {
    "model": "claude-test",
    "max_tokens": 300,
    "x_unknown": {"kept": True},
    "system": [
        {"type": "text", "text": f"system knows {AWS}", "cache_control": {"type": "ephemeral"}}
    ],
    "messages": [
        {"role": "user", "content": f"plain {AWS}"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": f"calling with {AWS}"},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "lookup",
                    "input": {"key": AWS, "n": 1.5, "deep": [AWS]},
                },
                {"type": "tool_use", "id": "toolu_2", "name": "noop", "input": {"z": 1, "a": "x"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": f"result {AWS}"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [{"type": "text", "text": f"block {AWS}"}, IMAGE],
                },
                IMAGE,
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": f"doc {AWS}"},
                },
                {"type": "text", "text": f"question {AWS}"},
            ],
        },
    ],
}


def test_an_unedited_request_is_forwarded_byte_for_byte(default_guard: Guard) -> None:
    body = b'{"model":"claude-test", "max_tokens": 5,\n "messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"n","input":{"b":1,"a":2.50}}]}]}'
    call = FORMAT.parse_request(body)
    assert default_guard.before(call).action is Action.ALLOW
    assert FORMAT.request_body(call) is body


def test_redactions_are_written_back_to_every_place(default_guard: Guard) -> None:
    call = FORMAT.parse_request(json.dumps(CONVERSATION).encode())
    assert default_guard.before(call).action is Action.REDACT
    sent = json.loads(FORMAT.request_body(call))
    expected = json.loads(json.dumps(CONVERSATION).replace(AWS, "[AWS_ACCESS_KEY]"))
    assert sent == expected  # every place, tool inputs back as objects, the rest as sent
    assert sent["messages"][1]["content"][1]["input"] == {
        "key": "[AWS_ACCESS_KEY]",
        "n": 1.5,
        "deep": ["[AWS_ACCESS_KEY]"],
    }


def test_every_place_becomes_a_segment_with_its_kind() -> None:
    call = FORMAT.parse_request(json.dumps(CONVERSATION).encode())
    found = [(s.role, s.kind, s.index, s.path) for s in call.segments]
    assert found == [
        ("system", "system", -1, ("system", 0, "text")),
        ("user", "message", 0, ("messages", 0, "content")),
        ("assistant", "message", 1, ("messages", 1, "content", 0, "text")),
        # A tool input is checked key by key and string by string, with plain paths.
        ("assistant", "tool_argument_key", 1, ("messages", 1, "content", 1, "input", "key")),
        ("assistant", "tool_arguments", 1, ("messages", 1, "content", 1, "input", "key")),
        ("assistant", "tool_argument_key", 1, ("messages", 1, "content", 1, "input", "n")),
        ("assistant", "tool_argument_key", 1, ("messages", 1, "content", 1, "input", "deep")),
        ("assistant", "tool_arguments", 1, ("messages", 1, "content", 1, "input", "deep", 0)),
        ("assistant", "tool_argument_key", 1, ("messages", 1, "content", 2, "input", "z")),
        ("assistant", "tool_argument_key", 1, ("messages", 1, "content", 2, "input", "a")),
        ("assistant", "tool_arguments", 1, ("messages", 1, "content", 2, "input", "a")),
        ("user", "tool_result", 2, ("messages", 2, "content", 0, "content")),
        ("user", "tool_result", 2, ("messages", 2, "content", 1, "content", 0, "text")),
        ("user", "message", 2, ("messages", 2, "content", 3, "source", "data")),
        ("user", "message", 2, ("messages", 2, "content", 4, "text")),
    ]
    assert [s.text for s in call.segments[3:11]] == ["key", AWS, "n", "deep", AWS, "z", "a", "x"]


def test_a_system_string_is_checked_and_written_back(default_guard: Guard) -> None:
    call = FORMAT.parse_request(request(system=f"you hold {AWS}"))
    default_guard.before(call)
    assert json.loads(FORMAT.request_body(call))["system"] == "you hold [AWS_ACCESS_KEY]"


def test_request_parameters_are_normalised() -> None:
    tools = [
        {"name": "lookup", "description": "d", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search"},
    ]
    output_config = {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    call = FORMAT.parse_request(request(stream=True, tools=tools, output_config=output_config))
    assert (call.format, call.model, call.stream, call.max_tokens) == (
        "anthropic.messages",
        "claude-test",
        True,
        64,
    )
    assert call.response_format == output_config["format"]
    assert call.tools == [
        {"name": "lookup", "description": "d", "parameters": {"type": "object"}},
        {"name": "web_search", "description": "", "parameters": None},
    ]
    assert get("anthropic.messages") is FORMAT


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"model": "m", "messages": [], "x": "\xc3"}', "not valid UTF-8"),
        (b"{", "not valid JSON"),
        (b"42", "must be a JSON object"),
        (b'{"messages": []}', "'model' is required"),
        (b'{"model": 7, "messages": []}', "'model' must be a non-empty string"),
        (b'{"model": "m"}', "'messages' is required"),
        (b'{"model": "m", "messages": {"SECRET-VALUE": 1}}', "'messages' must be a list"),
        (b'{"model": "m", "messages": [{"role": "user"}]}', "'messages[0].content' must be"),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": [7]}]}',
            "'messages[0].content[0]' must be an object",
        ),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": [{"type": "tool_use", "input": "SECRET-VALUE"}]}]}',
            "'messages[0].content[0].input' must be an object",
        ),
        (b'{"model": "m", "messages": [], "system": 3}', "'system' must be a string or a list"),
        (
            b'{"model": "m", "messages": [], "max_tokens": "SECRET-VALUE"}',
            "'max_tokens' must be an integer",
        ),
        (
            b'{"model": "m", "messages": [], "tools": [{"description": "x"}]}',
            "'tools[0].name' must be a string",
        ),
    ],
)
def test_bad_requests_name_the_field_and_never_quote_it(body: bytes, message: str) -> None:
    with pytest.raises(RequestError) as caught:
        FORMAT.parse_request(body)
    assert message in str(caught.value) and caught.value.status == 400
    assert "SECRET" not in str(caught.value)


def test_the_extension_is_removed_and_lands_in_the_call() -> None:
    extension = {
        "context": [{"id": "kb-1", "text": "Tokyo is in Japan."}],
        "session": "s-9",
        "route": "faq",
    }
    call = FORMAT.parse_request(request(guardwire=extension), Caller(tenant="acme"))
    assert [(p.id, p.text) for p in call.context] == [("kb-1", "Tokyo is in Japan.")]
    assert (call.caller.tenant, call.caller.session, call.caller.route) == ("acme", "s-9", "faq")
    assert call.extension == extension and call.body == b""
    assert "guardwire" not in json.loads(FORMAT.request_body(call))


def test_with_feedback_appends_the_reply_and_the_feedback() -> None:
    call = FORMAT.parse_request(json.dumps(CONVERSATION).encode())
    before = copy.deepcopy(call.raw)
    reply = Reply("anthropic.messages", [Choice(0, "", [ToolCall("t", "lookup", '{"q": 1}')])])
    again = FORMAT.with_feedback(call, reply, "Use a declared tool.")
    assert again.raw["messages"][-2:] == [
        {"role": "assistant", "content": [{"type": "text", "text": 'lookup({"q": 1})'}]},
        {"role": "user", "content": "Use a declared tool."},
    ]
    assert call.raw == before and again.body == b""
    assert (
        again.segments[-1].text == "Use a declared tool."
        and len(again.segments) == len(call.segments) + 2
    )


# -- replies ---------------------------------------------------------------------------

MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-test-1",
    "content": [
        {"type": "text", "text": f"first block {AWS}"},
        {"type": "tool_use", "id": "toolu_9", "name": "save", "input": {"k": AWS, "keep": [1, 2]}},
        {"type": "text", "text": f"second block {API_KEY}", "citations": None},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 10, "output_tokens": 7, "cache_read_input_tokens": 5},
}


def test_a_reply_is_parsed_one_choice_per_text_block() -> None:
    reply = FORMAT.parse_reply(Call("anthropic.messages"), json.dumps(MESSAGE).encode())
    assert [(c.index, c.text, c.path, c.finish_reason) for c in reply.choices] == [
        (0, f"first block {AWS}", ("content", 0, "text"), "tool_use"),
        (0, f"second block {API_KEY}", ("content", 2, "text"), "tool_use"),
    ]
    [tool] = reply.choices[0].tool_calls
    assert (tool.id, tool.name, json.loads(tool.arguments), tool.path) == (
        "toolu_9",
        "save",
        {"k": AWS, "keep": [1, 2]},
        ("content", 1, "input"),
    )
    assert (reply.usage, reply.model) == (Usage(15, 7, cached_input_tokens=5), "claude-test-1")


def test_output_redaction_is_written_into_the_reply_body(default_guard: Guard) -> None:
    call = FORMAT.parse_request(request())
    reply = FORMAT.parse_reply(call, json.dumps(MESSAGE).encode())
    assert default_guard.after(call, reply).action is Action.REDACT
    body = json.loads(FORMAT.reply_body(reply))
    assert body["content"][0]["text"] == "first block [AWS_ACCESS_KEY]"
    assert body["content"][1]["input"] == {"k": "[AWS_ACCESS_KEY]", "keep": [1, 2]}
    assert body["content"][2] == {
        "type": "text",
        "text": "second block [API_KEY]",
        "citations": None,
    }
    assert {k: v for k, v in body.items() if k != "content"} == {
        k: v for k, v in MESSAGE.items() if k != "content"
    }


def test_an_unedited_reply_body_is_returned_byte_for_byte(default_guard: Guard) -> None:
    raw = b'{"id": "m", "content": [{"type": "text", "text": "fine"}], "stop_reason": "end_turn"}'
    call = FORMAT.parse_request(request())
    reply = FORMAT.parse_reply(call, raw)
    assert default_guard.after(call, reply).action is Action.ALLOW
    assert FORMAT.reply_body(reply) is raw


@pytest.mark.parametrize("body", [b"upstream connect error", b'"text"', b"\xff"])
def test_an_invalid_upstream_reply_is_an_upstream_error(body: bytes) -> None:
    with pytest.raises(UpstreamError) as caught:
        FORMAT.parse_reply(Call("anthropic.messages"), body)
    assert caught.value.status == 502 and "Anthropic" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (415, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ],
)
def test_error_body_types(status: int, kind: str) -> None:
    body = json.loads(FORMAT.error_body(status, "why", "content_blocked"))
    details = {"error_code": "content_blocked"}
    assert body == {"type": "error", "error": {"type": kind, "message": "why", "details": details}}


# -- the real SDK reads what we render -------------------------------------------------


def sdk(status: int, body: bytes, sse: bool = False) -> anthropic.Anthropic:
    kind = "text/event-stream" if sse else "application/json"

    def respond(_: Any) -> Any:
        return http.Response(status, content=body, headers={"content-type": kind})

    client = http.Client(transport=http.MockTransport(respond))
    return anthropic.Anthropic(
        http_client=client, api_key="x", base_url="http://test", max_retries=0
    )


MESSAGES: Any = [{"role": "user", "content": "hi"}]
TOOL_REPLY = Reply(
    "anthropic.messages",
    [
        Choice(
            0,
            "Let me look that up.",
            [ToolCall("toolu_1", "lookup", json.dumps(TOOL_INPUT))],
            "tool_calls",
        )
    ],
    Usage(5, 9),
    model="claude-demo",
)


def test_the_sdk_reads_a_rendered_reply() -> None:
    call = FORMAT.parse_request(request())
    message = sdk(200, FORMAT.render_reply(call, TOOL_REPLY)).messages.create(
        model="m", max_tokens=5, messages=MESSAGES
    )
    text, tool = message.content
    assert text.type == "text" and text.text == "Let me look that up."
    assert tool.type == "tool_use" and (tool.name, tool.input) == ("lookup", TOOL_INPUT)
    assert (message.stop_reason, message.model, message.usage.output_tokens) == (
        "tool_use",
        "claude-demo",
        9,
    )


def test_the_sdk_reads_a_rendered_stream() -> None:
    call = FORMAT.parse_request(request(stream=True))
    events = list(FORMAT.render_stream(call, TOOL_REPLY))
    assert len(events) > 8
    client = sdk(200, b"".join(events), sse=True)
    with client.messages.stream(model="m", max_tokens=5, messages=MESSAGES) as stream:
        deltas = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(deltas) == "Let me look that up." and len(deltas) > 2
    assert final.content[1].type == "tool_use" and final.content[1].input == TOOL_INPUT
    assert (final.stop_reason, final.usage.output_tokens, final.usage.input_tokens) == (
        "tool_use",
        9,
        5,
    )


def test_the_sdk_raises_our_stream_error_with_our_message() -> None:
    call = FORMAT.parse_request(request(stream=True))
    events = list(FORMAT.render_stream(call, TOOL_REPLY))[:4]
    body = b"".join(events) + FORMAT.stream_error(
        "guardwire blocked this model reply", "content_blocked"
    )
    received = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        for event in sdk(200, body, sse=True).messages.create(
            model="m", max_tokens=5, messages=MESSAGES, stream=True
        ):
            received.append(event)
    assert len(received) == 4
    assert caught.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "guardwire blocked this model reply",
            "details": {"error_code": "content_blocked"},
        },
    }
    assert "guardwire blocked this model reply" in str(caught.value)
    assert error_code(caught.value) == "content_blocked"


def error_code(error: anthropic.APIStatusError) -> str | None:
    """guardwire's code as a client reads it: the SDK's ``error_code`` attribute, which it
    reads from ``error.details.error_code`` (older SDKs lack it: then from the body)."""
    body: Any = error.body
    return getattr(error, "error_code", None) or body["error"]["details"]["error_code"]


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (400, anthropic.BadRequestError, "content_blocked"),
        (403, anthropic.PermissionDeniedError, "agent_tool_denied"),
        (429, anthropic.RateLimitError, "budget_exceeded"),
        (502, anthropic.InternalServerError, "upstream_error"),
    ],
)
def test_the_sdk_raises_our_error_body_as_a_status_error_with_our_code(
    status: int, error: type[anthropic.APIStatusError], code: str
) -> None:
    client = sdk(status, FORMAT.error_body(status, "guardwire blocked this request", code))
    with pytest.raises(error, match="guardwire blocked this request") as caught:
        client.messages.create(model="m", max_tokens=5, messages=MESSAGES)
    assert error_code(caught.value) == code


# -- the stream filter -------------------------------------------------------------------


def event(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def upstream(text: str, tool_input: str | None = None, size: int = 7, stops: bool = True) -> bytes:
    """An upstream event stream with ``text`` (and tool input JSON) cut every ``size`` chars.

    ``stops=False`` leaves out the ``content_block_stop`` events.
    """
    start: dict[str, Any] = {"id": "msg_up", "type": "message", "role": "assistant"}
    start |= {"model": "claude-up", "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {"input_tokens": 3, "output_tokens": 1}
    events = [event({"type": "message_start", "message": start})]

    def block(index: int, opening: dict[str, Any], kind: str, field: str, full: str) -> None:
        events.append(
            event({"type": "content_block_start", "index": index, "content_block": opening})
        )
        if index == 0:
            events.append(b'event: ping\ndata: {"type": "ping"}\n\n')
        for i in range(0, len(full), size):
            delta = {"type": kind, field: full[i : i + size]}
            events.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
        if stops:
            events.append(event({"type": "content_block_stop", "index": index}))

    block(0, {"type": "text", "text": ""}, "text_delta", "text", text)
    if tool_input is not None:
        opening = {"type": "tool_use", "id": "toolu_up", "name": "save", "input": {}}
        block(1, opening, "input_json_delta", "partial_json", tool_input)
    stop = {"stop_reason": "tool_use" if tool_input else "end_turn", "stop_sequence": None}
    events.append(event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 40}}))
    return b"".join(events) + event({"type": "message_stop"})


def splits(data: bytes, seed: int, inside: tuple[bytes, ...]) -> Iterator[bytes]:
    """``data`` cut at random places, and always inside each of ``inside``."""
    rng = random.Random(seed)
    cuts = set(rng.sample(range(1, len(data)), 25))
    for needle in inside:
        cuts.add(data.find(needle) + rng.randint(1, len(needle) - 1))
    bounds = [0, *sorted(cuts), len(data)]
    for a, b in itertools.pairwise(bounds):
        yield data[a:b]


def received(out: bytes) -> tuple[str, str, list[dict[str, Any]]]:
    """What a client sees: joined text, joined tool input JSON, and every payload.

    Also checks the event grammar: a block's deltas come between its start and stop.
    """
    text, arguments, payloads = [], [], []
    open_blocks: set[int] = set()
    for block in out.split(b"\n\n"):
        for line in block.split(b"\n"):
            if line.startswith(b"data: "):
                payload = json.loads(line[6:])
                payloads.append(payload)
                if payload["type"] == "content_block_start":
                    open_blocks.add(payload["index"])
                elif payload["type"] == "content_block_stop":
                    open_blocks.remove(payload["index"])
                elif payload["type"] == "content_block_delta":
                    assert payload["index"] in open_blocks, "a delta outside its block"
                delta = payload.get("delta", {})
                text.append(
                    delta.get("text", "") if payload["type"] == "content_block_delta" else ""
                )
                arguments.append(
                    delta.get("partial_json", "")
                    if payload["type"] == "content_block_delta"
                    else ""
                )
    return "".join(text), "".join(arguments), payloads


def run(guard: Guard, data: bytes, seed: int, inside: tuple[bytes, ...] = ()) -> tuple[Any, bytes]:
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), guard)
    out = b"".join(stream.feed(chunk) for chunk in splits(data, seed, inside))
    return stream, out + stream.close()


@pytest.mark.parametrize("seed", range(12))
def test_the_client_receives_exactly_the_redacted_text(guard: Guard, seed: int) -> None:
    data = upstream(TEXT, json.dumps(TOOL_INPUT, ensure_ascii=False))
    inside = (API_KEY.encode(), AWS.encode(), "東".encode(), "🎌".encode())
    stream, out = run(guard, data, seed, inside)
    text, arguments, payloads = received(out)
    assert text == REDACTED and json.loads(arguments) == REDACTED_INPUT
    assert payloads[0]["message"]["id"] == "msg_up" and payloads[-1] == {"type": "message_stop"}
    assert [p["usage"]["output_tokens"] for p in payloads if p["type"] == "message_delta"] == [40]
    assert stream.done and stream.decision.action is Action.REDACT
    assert stream.reply.text == REDACTED and stream.reply.usage == Usage(3, 40)
    assert json.loads(stream.reply.choices[0].tool_calls[0].arguments) == REDACTED_INPUT
    assert stream.reply.choices[0].finish_reason == "tool_use"


@pytest.mark.parametrize("seed", range(12))
def test_a_blocked_phrase_never_reaches_the_client(guard: Guard, seed: int) -> None:
    before = "An innocent preamble that is long enough to be released early. " * 5
    data = upstream(before + PRIVATE + "\nMIIEvQIBADANBg", size=5)
    stream, out = run(guard, data, seed, inside=(PRIVATE.encode(),))
    text, _, payloads = received(out)
    assert before.startswith(text)
    assert payloads[-1]["type"] == "error" and "private-key" in payloads[-1]["error"]["message"]
    assert out.endswith(FORMAT.stream_error(payloads[-1]["error"]["message"], "content_blocked"))
    assert stream.done and stream.decision.blocked and stream.close() == b""
    with pytest.raises(anthropic.APIStatusError, match="private-key"):
        list(
            sdk(200, out, sse=True).messages.create(
                model="m", max_tokens=5, messages=MESSAGES, stream=True
            )
        )


def test_blocks_the_upstream_never_stops_are_flushed_at_the_message_delta(guard: Guard) -> None:
    stream, out = run(guard, upstream(TEXT, json.dumps(TOOL_INPUT), stops=False), seed=4)
    text, arguments, payloads = received(out)
    assert text == REDACTED and json.loads(arguments) == REDACTED_INPUT
    assert [p["type"] for p in payloads[-2:]] == ["message_delta", "message_stop"]
    assert stream.reply.text == REDACTED


def test_what_the_filter_sends_is_read_by_the_sdk(guard: Guard) -> None:
    _, out = run(guard, upstream(TEXT, json.dumps(TOOL_INPUT)), seed=3)
    with sdk(200, out, sse=True).messages.stream(
        model="m", max_tokens=5, messages=MESSAGES
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "text" and final.content[0].text == REDACTED
    assert final.content[1].type == "tool_use" and final.content[1].input == REDACTED_INPUT


def test_events_the_guard_does_not_change_pass_byte_for_byte(
    make_guard: Callable[..., Guard],
) -> None:
    data = upstream(TEXT, json.dumps(TOOL_INPUT))
    assert run(make_guard("name: no-output-checks"), data, seed=2)[1] == data
    _, out = run(make_guard(), data, seed=2)
    first = data[: data.index(b"\n\n") + 2]
    assert (
        first in out
        and b'event: ping\ndata: {"type": "ping"}\n\n' in out
        and out.endswith(event({"type": "message_stop"}))
    )


def test_fail_and_upstream_errors_end_the_stream(guard: Guard) -> None:
    call = FORMAT.parse_request(request(stream=True))
    stream = FORMAT.stream_filter(call, guard)
    stream.feed(upstream("text " * 20)[:500])
    assert stream.fail(
        "the upstream model API timed out", "upstream_timeout"
    ) == FORMAT.stream_error("the upstream model API timed out", "upstream_timeout")
    assert stream.done and stream.feed(b"event: ping\ndata: {}\n\n") == b""
    stream = FORMAT.stream_filter(call, guard)
    overloaded = b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}\n\n'
    out = stream.feed(
        upstream("text")[:200].rpartition(b"\n\n")[0]
        + b"\n\n"
        + overloaded
        + event({"type": "message_stop"})
    )
    assert out.endswith(overloaded) and stream.done and stream.decision is not None


# -- text envelopes: plain text deltas read without parsing their JSON -------------------


@pytest.mark.parametrize("seed", range(8))
def test_envelopes_change_nothing_a_client_sees(guard: Guard, seed: int) -> None:
    text = f"Keys {API_KEY} and {AWS} again: {API_KEY}. " * 3 + TEXT
    tool_input = json.dumps(TOOL_INPUT, ensure_ascii=False)
    data = upstream(text, tool_input, size=random.Random(seed).randint(1, 9))
    fast, fast_out = run(guard, data, seed)
    slow = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), guard)
    slow._learning = 0  # type: ignore[attr-defined]  # every event parsed and walked
    slow_out = b"".join(slow.feed(chunk) for chunk in splits(data, seed, ())) + slow.close()
    assert fast._envelopes  # type: ignore[attr-defined]  # the fast path was taken
    assert received(fast_out) == received(slow_out)
    assert received(fast_out)[0] == text.replace(API_KEY, "[API_KEY]").replace(
        AWS, "[AWS_ACCESS_KEY]"
    )
    assert fast.reply == slow.reply and fast.decision.action == slow.decision.action
