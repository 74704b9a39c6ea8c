"""The OpenAI Responses API wire format (guard/formats/openai_responses.py and helpers)."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy
from guard.errors import RequestError
from guard.formats import get
from guard.formats.openai_responses import FORMAT, SIDE_TEXT, UNGUARDED_HISTORY
from guard.policy import data_path
from guard.types import Action, Call, Choice, Reply, ToolCall, Usage

AWS = "AKIAABCDEFGHIJKLMNOP"
API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz1234"
PRIVATE = "-----BEGIN PRIVATE KEY-----"
TEXT = (
    f"Héllo wörld 世界 🎉. Your key is {API_KEY} — keep it safe; the AWS one is {AWS}. "
    + "Plenty of ordinary words follow so that the hold-back window is passed. " * 4
    + "Done ✓"
)
REDACTED = TEXT.replace(API_KEY, "[API_KEY]").replace(AWS, "[AWS_ACCESS_KEY]")
ARGUMENTS = json.dumps({"token": API_KEY, "city": "Zürich"}, ensure_ascii=False)
REDACTED_ARGUMENTS = ARGUMENTS.replace(API_KEY, "[API_KEY]")
SUMMARY = f"I considered the key {AWS} and decided to answer."
REDACTED_SUMMARY = SUMMARY.replace(AWS, "[AWS_ACCESS_KEY]")


@pytest.fixture(scope="module", params=["progressive", "buffer"])
def guard(request: pytest.FixtureRequest) -> Guard:
    text = data_path("rules", "default.yaml").read_text(encoding="utf-8")
    policy = Policy.from_yaml(text.replace("  mode: progressive", f"  mode: {request.param}"))
    return Guard(policy, registry=CollectorRegistry())


@pytest.fixture(scope="module")
def default_guard() -> Guard:
    return Guard(registry=CollectorRegistry())


def request(**fields: Any) -> bytes:
    return json.dumps({"model": "gpt-test", "input": "hi", **fields}).encode()


# -- requests --------------------------------------------------------------------------

ITEMS: Any = [
    {"role": "developer", "content": "dev rules"},
    {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "look at this"},
            {"type": "input_image", "image_url": "https://x/AKIAABCDEFGHIJKLMNOP.png"},
            {"type": "input_file", "file_data": "data:application/pdf;base64,QUtJQQ=="},
        ],
    },
    {
        "type": "message",
        "role": "assistant",
        "content": [
            {"type": "output_text", "text": "earlier answer", "annotations": []},
            {"type": "refusal", "refusal": "earlier refusal"},
        ],
    },
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "thought"}]},
    {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"q": "args"}'},
    {"type": "function_call_output", "call_id": "c1", "output": "tool said"},
    {"type": "custom_tool_call", "call_id": "c2", "name": "g", "input": "custom in"},
    {
        "type": "custom_tool_call_output",
        "call_id": "c2",
        "output": [{"type": "input_text", "text": "custom out"}],
    },
    {"type": "web_search_call", "id": "ws_1", "status": "completed"},
]
CONVERSATION = {
    "model": "gpt-test",
    "instructions": "be brief",
    "input": ITEMS,
    "tools": [
        {
            "type": "function",
            "name": "f",
            "description": "Finds things",
            "parameters": {"type": "object"},
        },
        {"type": "web_search"},
    ],
    "text": {
        "format": {
            "type": "json_schema",
            "name": "out",
            "schema": {"type": "object"},
            "strict": True,
        }
    },
    "max_output_tokens": 77,
    "stream": True,
    "x_unknown": {"kept": [1, 2.5, None]},
}


def test_every_text_field_becomes_a_segment_with_its_path_kind_and_role() -> None:
    call = FORMAT.parse_request(json.dumps(CONVERSATION).encode())
    got = [(s.text, s.path, s.role, s.kind, s.index) for s in call.segments]
    assert got == [
        ("be brief", ("instructions",), "system", "system", -1),
        ("Finds things", ("tools", 0, "description"), "system", "tool_definition", -1),
        ("dev rules", ("input", 0, "content"), "developer", "system", 0),
        ("look at this", ("input", 1, "content", 0, "text"), "user", "message", 1),
        ("earlier answer", ("input", 2, "content", 0, "text"), "assistant", "message", 2),
        ("earlier refusal", ("input", 2, "content", 1, "refusal"), "assistant", "message", 2),
        ("thought", ("input", 3, "summary", 0, "text"), "assistant", "reasoning", 3),
        ('{"q": "args"}', ("input", 4, "arguments"), "assistant", "tool_arguments", 4),
        ("tool said", ("input", 5, "output"), "tool", "tool_result", 5),
        ("custom in", ("input", 6, "input"), "assistant", "tool_arguments", 6),
        ("custom out", ("input", 7, "output", 0, "text"), "tool", "tool_result", 7),
    ]
    assert call.format == "openai.responses" and call.model == "gpt-test"
    assert call.stream and call.max_tokens == 77
    assert call.response_format == {
        "type": "json_schema",
        "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": True},
    }
    assert call.tools == [
        {"name": "f", "description": "Finds things", "parameters": {"type": "object"}}
    ]
    assert UNGUARDED_HISTORY not in call.extension


TOOL_HISTORY: Any = [
    {
        "type": "mcp_call",
        "id": "m",
        "server_label": "s",
        "name": "n",
        "arguments": "a1",
        "output": "o1",
    },
    {
        "type": "mcp_list_tools",
        "id": "l",
        "server_label": "s",
        "tools": [{"name": "t", "description": "d1", "input_schema": {}}],
    },
    {
        "type": "shell_call_output",
        "call_id": "c",
        "output": [{"stdout": "so", "stderr": "se", "outcome": {"type": "exit", "exit_code": 0}}],
    },
    {
        "type": "local_shell_call",
        "id": "x",
        "call_id": "c",
        "status": "completed",
        "action": {"type": "exec", "command": ["ls", "-l"], "env": {}},
    },
    {
        "type": "code_interpreter_call",
        "id": "ci",
        "code": "print(1)",
        "container_id": "k",
        "outputs": [{"type": "logs", "logs": "1"}, {"type": "image", "url": "https://i"}],
    },
    {
        "type": "file_search_call",
        "id": "f",
        "queries": ["q"],
        "status": "completed",
        "results": [{"file_id": "f1", "text": "retrieved"}],
    },
    {"type": "apply_patch_call_output", "call_id": "c", "output": 7},
]


def test_built_in_tool_history_is_checked() -> None:
    call = FORMAT.parse_request(request(input=TOOL_HISTORY))
    got = [(s.text, s.path, s.kind) for s in call.segments]
    assert got == [
        ("a1", ("input", 0, "arguments"), "tool_arguments"),
        ("o1", ("input", 0, "output"), "tool_result"),
        ("d1", ("input", 1, "tools", 0, "description"), "tool_definition"),
        ("so", ("input", 2, "output", 0, "stdout"), "tool_result"),
        ("se", ("input", 2, "output", 0, "stderr"), "tool_result"),
        ("ls", ("input", 3, "action", "command", 0), "tool_arguments"),
        ("-l", ("input", 3, "action", "command", 1), "tool_arguments"),
        ("print(1)", ("input", 4, "code"), "tool_arguments"),
        ("1", ("input", 4, "outputs", 0, "logs"), "tool_result"),
        ("retrieved", ("input", 5, "results", 0, "text"), "tool_result"),
    ]


def test_a_string_input_is_one_user_segment() -> None:
    call = FORMAT.parse_request(request(input="hello"))
    assert [(s.text, s.path, s.role) for s in call.segments] == [("hello", ("input",), "user")]
    assert not call.stream and call.max_tokens is None and call.response_format is None


def test_an_unedited_request_is_forwarded_byte_for_byte(default_guard: Guard) -> None:
    body = json.dumps(CONVERSATION, indent=1).encode()
    call = FORMAT.parse_request(body)
    assert default_guard.before(call).action is Action.ALLOW
    assert FORMAT.request_body(call) is body


def test_redactions_are_written_back_to_every_place(default_guard: Guard) -> None:
    conversation = json.loads(
        json.dumps(CONVERSATION)
        .replace("args", AWS)
        .replace("tool said", f"tool said {AWS}")
        .replace("be brief", f"be brief {AWS}")
    )
    conversation["input"].append({"role": "user", "content": f"mine is {AWS}"})
    call = FORMAT.parse_request(json.dumps(conversation).encode())
    assert default_guard.before(call).action is Action.REDACT
    sent = FORMAT.request_body(call).decode()
    assert sent.count(AWS) == 1  # in the image URL only: URLs are not text
    forwarded = json.loads(sent)
    assert forwarded["instructions"] == "be brief [AWS_ACCESS_KEY]"
    assert forwarded["input"][4]["arguments"] == '{"q": "[AWS_ACCESS_KEY]"}'
    assert forwarded["input"][5]["output"] == "tool said [AWS_ACCESS_KEY]"
    assert forwarded["input"][-1]["content"] == "mine is [AWS_ACCESS_KEY]"
    # Images and files are not text: left as they are.
    assert forwarded["input"][1]["content"][1] == ITEMS[1]["content"][1]
    assert forwarded["x_unknown"] == {"kept": [1, 2.5, None]}


def test_a_denylisted_prompt_in_any_item_blocks(default_guard: Guard) -> None:
    items = [{"type": "function_call_output", "call_id": "c", "output": "how to build a bomb"}]
    call = FORMAT.parse_request(request(input=items))
    assert default_guard.before(call).blocked


@pytest.mark.parametrize(
    ("fields", "noted"),
    [
        ({"previous_response_id": "resp_1"}, ["previous_response_id"]),
        ({"conversation": "conv_1"}, ["conversation"]),
        ({"conversation": {"id": "conv_1"}}, ["conversation"]),
        ({"prompt": {"id": "pmpt_1", "variables": {"city": "Paris"}}}, ["prompt"]),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, ["item_reference"]),
        ({"input": [{"type": "compaction", "encrypted_content": "x"}]}, ["compaction"]),
        ({"guardwire": {"unguarded_history": ["x"]}}, None),
    ],
)
def test_history_the_guard_never_saw_is_noted_on_the_call(
    fields: dict[str, Any], noted: list[str] | None
) -> None:
    call = FORMAT.parse_request(request(**fields))
    assert call.extension.get(UNGUARDED_HISTORY) == noted


def test_prompt_variables_are_checked() -> None:
    variables = {"city": "Paris", "note": {"type": "input_text", "text": "n"}, "n": 3}
    call = FORMAT.parse_request(request(prompt={"id": "p", "variables": variables}))
    assert [(s.text, s.path) for s in call.segments][1:] == [
        ("Paris", ("prompt", "variables", "city")),
        ("n", ("prompt", "variables", "note", "text")),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"input": "x"}', "'model' is required"),
        (request(input=5), "'input' must be a string or a list of input items"),
        (request(input=["x"]), "'input[0]' must be an object"),
        (request(input=[{"role": 1, "content": "x"}]), "'input[0].role' must be a string"),
        (request(input=[{"role": "user", "content": 3}]), "'input[0].content' must be"),
        (
            request(input=[{"role": "user", "content": [{"type": "input_text", "text": 3}]}]),
            "'input[0].content[0].text' must be a string",
        ),
        (
            request(input=[{"type": "function_call", "arguments": {"a": 1}}]),
            "'input[0].arguments' must be a string",
        ),
        (request(instructions=5), "'instructions' must be a string"),
        (request(max_output_tokens="9"), "'max_output_tokens' must be an integer"),
        (request(text={"format": 1}), "'text.format' must be an object"),
    ],
)
def test_bad_requests_name_the_field_and_never_quote_it(body: bytes, message: str) -> None:
    with pytest.raises(RequestError, match=re.escape(message)) as caught:
        FORMAT.parse_request(body)
    assert "AKIA" not in str(caught.value)


def test_with_feedback_appends_the_reply_and_the_feedback() -> None:
    call = FORMAT.parse_request(request(input="question"))
    again = FORMAT.with_feedback(call, Reply("openai.responses", [Choice(0, "bad")]), "fix it")
    assert again.raw["input"] == [
        {"role": "user", "content": "question"},
        {"role": "assistant", "content": "bad"},
        {"role": "user", "content": "fix it"},
    ]
    assert [s.text for s in again.segments] == ["question", "bad", "fix it"]
    assert call.raw["input"] == "question" and again.body == b""


# -- replies ---------------------------------------------------------------------------


def response(**fields: Any) -> dict[str, Any]:
    body = {
        "id": "resp_up",
        "object": "response",
        "created_at": 1700000001,
        "status": "completed",
        "model": "gpt-up",
        "output": [
            {
                "id": "rs_up",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": SUMMARY}],
            },
            {
                "id": "msg_up",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [
                    {
                        "type": "output_text",
                        "text": TEXT,
                        "annotations": [],
                        "logprobs": [{"token": "x", "logprob": -1.0}],
                    }
                ],
            },
            {
                "id": "fc_up",
                "type": "function_call",
                "status": "completed",
                "call_id": "call_up",
                "name": "save",
                "arguments": ARGUMENTS,
            },
        ],
        "usage": {"input_tokens": 3, "output_tokens": 40, "total_tokens": 43},
    }
    return body | fields


def test_a_reply_is_parsed_with_text_tool_calls_reasoning_and_usage() -> None:
    reply = FORMAT.parse_reply(Call("openai.responses"), json.dumps(response()).encode())
    assert reply.text == TEXT  # the answer alone: reasoning is another choice
    assert [(c.index, c.path) for c in reply.choices] == [
        (0, ("output", 1, "content", 0, "text")),
        (SIDE_TEXT, ("output", 0, "summary", 0, "text")),
    ]
    assert reply.choices[0].tool_calls == [
        ToolCall("call_up", "save", ARGUMENTS, ("output", 2, "arguments"))
    ]
    assert reply.choices[0].finish_reason == "tool_calls"
    assert reply.usage == Usage(3, 40) and reply.model == "gpt-up"


def test_a_refusal_and_an_incomplete_reply() -> None:
    body = response(status="incomplete", incomplete_details={"reason": "max_output_tokens"})
    body["output"] = [{"type": "message", "content": [{"type": "refusal", "refusal": "no"}]}]
    reply = FORMAT.reply_from_raw(body)
    assert reply.text == "no" and reply.choices[0].finish_reason == "length"


def test_output_redaction_is_written_into_the_reply_body(default_guard: Guard) -> None:
    call = FORMAT.parse_request(request())
    reply = FORMAT.parse_reply(call, json.dumps(response()).encode())
    assert default_guard.after(call, reply).action is Action.REDACT
    body = json.loads(FORMAT.reply_body(reply))
    assert body["output"][0]["summary"][0]["text"] == REDACTED_SUMMARY
    assert body["output"][1]["content"][0]["text"] == REDACTED
    assert body["output"][1]["content"][0]["logprobs"] == []
    assert body["output"][2]["arguments"] == REDACTED_ARGUMENTS
    assert API_KEY not in json.dumps(body) and AWS not in json.dumps(body)


def test_an_unedited_reply_body_is_returned_byte_for_byte(default_guard: Guard) -> None:
    body = json.dumps(response(output=[])).encode()
    call = FORMAT.parse_request(request())
    reply = FORMAT.parse_reply(call, body)
    default_guard.after(call, reply)
    assert FORMAT.reply_body(reply) is body


# -- the real SDK reads what we render -------------------------------------------------


def sdk(respond: Callable[[httpx.Request], httpx.Response]) -> openai.OpenAI:
    client = httpx.Client(transport=httpx.MockTransport(respond))
    return openai.OpenAI(
        http_client=client,  # type: ignore[arg-type,unused-ignore]
        api_key="x",
        base_url="http://test/v1",
        max_retries=0,
    )


def serve(status: int, body: bytes, sse: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    kind = "text/event-stream" if sse else "application/json"
    return lambda _: httpx.Response(status, content=body, headers={"content-type": kind})


DEMO_REPLY = Reply(
    "openai.responses",
    [Choice(0, "Calling a tool now.", [ToolCall("call_1", "lookup", ARGUMENTS)], "tool_calls")],
    Usage(5, 9),
    model="gpt-demo",
)


def test_the_sdk_reads_a_rendered_reply() -> None:
    call = FORMAT.parse_request(request(instructions="be brief"))
    result = sdk(serve(200, FORMAT.render_reply(call, DEMO_REPLY))).responses.create(
        model="gpt-test", input="hi"
    )
    assert result.output_text == "Calling a tool now."
    calls = [item for item in result.output if item.type == "function_call"]
    assert calls[0].arguments == ARGUMENTS and calls[0].call_id == "call_1"  # type: ignore[union-attr]
    assert result.usage is not None and result.usage.total_tokens == 14
    assert result.model == "gpt-demo" and result.instructions == "be brief"


def test_the_sdk_streams_a_rendered_reply_with_its_helper() -> None:
    call = FORMAT.parse_request(request(stream=True))
    reply = FORMAT.reply_from_raw(response())
    events = b"".join(FORMAT.render_stream(call, reply))
    client = sdk(serve(200, events, sse=True))
    with client.responses.stream(model="gpt-test", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == TEXT and len(deltas) > 5
    assert final.output_text == TEXT and final.id == "resp_up"
    assert final.usage is not None and final.usage.output_tokens == 40


def test_the_sdk_raises_our_stream_error_with_our_message() -> None:
    call = FORMAT.parse_request(request(stream=True))
    events = list(FORMAT.render_stream(call, DEMO_REPLY))[:5]
    body = b"".join(events) + FORMAT.stream_error(
        "guardwire blocked this model reply", "content_blocked"
    )
    client = sdk(serve(200, body, sse=True))
    received = []
    with pytest.raises(openai.APIError) as caught:
        for event in client.responses.create(model="gpt-test", input="hi", stream=True):
            received.append(event)
    assert len(received) == 5
    assert caught.value.message == "guardwire blocked this model reply"
    assert caught.value.code == "content_blocked"
    with pytest.raises(openai.APIError), client.responses.stream(model="m", input="hi") as stream:
        list(stream)


def test_the_sdk_raises_our_error_body_as_a_status_error() -> None:
    client = sdk(serve(400, FORMAT.error_body(400, "guardwire blocked this", "content_blocked")))
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-test", input="hi")
    assert caught.value.code == "content_blocked"


# -- the stream filter -------------------------------------------------------------------


def upstream(body: dict[str, Any], *, deltas: bool = True) -> bytes:
    """The upstream's event stream of ``body``; ``deltas=False``: only the events that
    repeat whole text (a server that sends no deltas)."""
    call = FORMAT.parse_request(request(stream=True))
    events = FORMAT.render_stream(call, FORMAT.reply_from_raw(json.loads(json.dumps(body))))
    return b"".join(e for e in events if deltas or b".delta\n" not in e)


def splits(data: bytes, seed: int, *, inside: tuple[bytes, ...] = ()) -> Iterator[bytes]:
    rng = random.Random(seed)
    cuts = set(rng.sample(range(1, len(data)), 25))
    for needle in inside:
        at = data.find(needle)
        if at >= 0:
            cuts.add(at + rng.randint(1, len(needle) - 1))
    bounds = [0, *sorted(cuts), len(data)]
    for a, b in itertools.pairwise(bounds):
        yield data[a:b]


def events(out: bytes) -> list[dict[str, Any]]:
    found = []
    for block in out.split(b"\n\n"):
        for line in block.split(b"\n"):
            if line.startswith(b"data: "):
                found.append(json.loads(line[6:]))
    return found


def deltas(payloads: list[dict[str, Any]], kind: str) -> str:
    return "".join(p["delta"] for p in payloads if p["type"] == kind)


def run(guard: Guard, data: bytes, seed: int, inside: tuple[bytes, ...] = ()) -> tuple[Any, bytes]:
    call = FORMAT.parse_request(request(stream=True))
    stream = FORMAT.stream_filter(call, guard)
    out = b"".join(stream.feed(chunk) for chunk in splits(data, seed, inside=inside))
    return stream, out + stream.close()


@pytest.mark.parametrize("with_deltas", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_the_client_receives_exactly_the_redacted_text(
    guard: Guard, seed: int, with_deltas: bool
) -> None:
    data = upstream(response(), deltas=with_deltas)
    inside = (API_KEY.encode(), AWS.encode(), "世".encode())
    stream, out = run(guard, data, seed, inside)
    assert API_KEY.encode() not in out and AWS.encode() not in out  # in no event at all
    payloads = events(out)
    assert deltas(payloads, "response.output_text.delta") == REDACTED
    assert deltas(payloads, "response.function_call_arguments.delta") == REDACTED_ARGUMENTS
    assert deltas(payloads, "response.reasoning_summary_text.delta") == REDACTED_SUMMARY
    done = {p["type"]: p for p in payloads}
    assert done["response.output_text.done"]["text"] == REDACTED
    assert done["response.function_call_arguments.done"]["arguments"] == REDACTED_ARGUMENTS
    final = done["response.completed"]["response"]
    assert final["output"][1]["content"][0]["text"] == REDACTED
    assert final["id"] == "resp_up" and final["usage"]["output_tokens"] == 40
    assert stream.done and stream.decision.action is Action.REDACT
    assert stream.reply.text == REDACTED and stream.reply.usage == Usage(3, 40)
    assert stream.reply.choices[0].tool_calls[0].arguments == REDACTED_ARGUMENTS
    # The official SDK's stream helper accepts what the client got.
    with sdk(serve(200, out, sse=True)).responses.stream(model="m", input="hi") as sdk_stream:
        list(sdk_stream)
        assert sdk_stream.get_final_response().output_text == REDACTED


@pytest.mark.parametrize("seed", range(4))
def test_text_only_the_terminal_event_carries_is_checked_too(guard: Guard, seed: int) -> None:
    # A server that sends no deltas and no item events: only the whole response.
    data = (
        b"".join(e for e in upstream(response()).split(b"\n\n") if b"response.completed" in e)
        + b"\n\n"
    )
    stream, out = run(guard, data, seed, (API_KEY.encode(),))
    assert API_KEY.encode() not in out and AWS.encode() not in out
    payloads = events(out)
    final = payloads[-1]["response"]
    assert final["output"][1]["content"][0]["text"] == REDACTED
    assert final["output"][2]["arguments"] == REDACTED_ARGUMENTS
    if stream.session is not None:  # progressive: the released text also went out as deltas
        assert deltas(payloads, "response.output_text.delta") == REDACTED
    assert stream.reply.text == REDACTED


def tool_response() -> dict[str, Any]:
    """A response with built-in tool items whose text holds keys."""
    return response(
        output=[
            {
                "id": "mcp_up",
                "type": "mcp_call",
                "server_label": "s",
                "name": "lookup",
                "arguments": ARGUMENTS,
                "output": f"found {API_KEY} there",
                "status": "completed",
            },
            {
                "id": "ci_up",
                "type": "code_interpreter_call",
                "container_id": "c",
                "status": "completed",
                "code": f"key = '{AWS}'",
                "outputs": [{"type": "logs", "logs": f"printed {API_KEY}"}],
            },
            {
                "id": "fs_up",
                "type": "file_search_call",
                "status": "completed",
                "queries": ["q"],
                "results": [{"file_id": "f", "text": f"the file says {AWS}"}],
            },
            {
                "id": "msg_up",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "ok", "annotations": []}],
            },
        ]
    )


def tool_texts(body: dict[str, Any]) -> list[str]:
    mcp, code, search = body["output"][:3]
    return [
        mcp["arguments"],
        mcp["output"],
        code["code"],
        code["outputs"][0]["logs"],
        search["results"][0]["text"],
    ]


REDACTED_TOOL_TEXTS = [
    REDACTED_ARGUMENTS,
    "found [API_KEY] there",
    "key = '[AWS_ACCESS_KEY]'",
    "printed [API_KEY]",
    "the file says [AWS_ACCESS_KEY]",
]


def test_built_in_tool_text_in_a_reply_is_checked(default_guard: Guard) -> None:
    call = FORMAT.parse_request(request())
    reply = FORMAT.parse_reply(call, json.dumps(tool_response()).encode())
    assert reply.text == "ok"
    assert default_guard.after(call, reply).action is Action.REDACT
    assert tool_texts(json.loads(FORMAT.reply_body(reply))) == REDACTED_TOOL_TEXTS


@pytest.mark.parametrize("seed", range(4))
def test_built_in_tool_text_in_a_stream_is_checked(guard: Guard, seed: int) -> None:
    stream, out = run(guard, upstream(tool_response()), seed, (API_KEY.encode(), AWS.encode()))
    assert API_KEY.encode() not in out and AWS.encode() not in out
    payloads = events(out)
    final = payloads[-1]["response"]
    assert tool_texts(final) == REDACTED_TOOL_TEXTS
    assert deltas(payloads, "response.code_interpreter_call_code.delta") == REDACTED_TOOL_TEXTS[2]
    assert stream.reply.text == "ok"
    with sdk(serve(200, out, sse=True)).responses.stream(model="m", input="hi") as sdk_stream:
        list(sdk_stream)
        assert sdk_stream.get_final_response().output_text == "ok"


@pytest.mark.parametrize("seed", range(6))
def test_a_blocked_phrase_never_reaches_the_client(guard: Guard, seed: int) -> None:
    before = "A harmless preamble that is long enough to be released early. " * 5
    body = response()
    body["output"][1]["content"][0]["text"] = before + PRIVATE + "\nMIIEvQIBADANBg\n-----END"
    stream, out = run(guard, upstream(body), seed, inside=(PRIVATE.encode(),))
    assert PRIVATE.encode() not in out
    payloads = events(out)
    assert before.startswith(deltas(payloads, "response.output_text.delta"))
    assert payloads[-1]["type"] == "error" and payloads[-1]["code"] == "content_blocked"
    assert stream.done and stream.decision.blocked
    with pytest.raises(openai.APIError, match="private-key"):
        list(sdk(serve(200, out, sse=True)).responses.create(model="m", input="h", stream=True))


def test_progressive_mode_releases_text_before_the_stream_ends(default_guard: Guard) -> None:
    data = upstream(response())
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), default_guard)
    half = stream.feed(data[: data.index(b"response.output_text.done")])
    assert len(deltas(events(half), "response.output_text.delta")) > len(TEXT) // 2


def test_events_the_guard_does_not_change_pass_byte_for_byte(default_guard: Guard) -> None:
    clean = response()
    clean["output"] = clean["output"][1:2]
    clean["output"][0]["content"][0]["text"] = "Nothing to see here. " * 10
    data = upstream(clean)
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), default_guard)
    out = b"".join(stream.feed(data[i : i + 50]) for i in range(0, len(data), 50))
    assert out + stream.close() == data


def test_an_upstream_error_event_is_forwarded_and_ends_the_stream(guard: Guard) -> None:
    data = upstream(response())
    cut = data.index(b"event: response.output_text.done")
    error = b'event: error\ndata: {"type":"error","code":"server_error","message":"oops"}\n\n'
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), guard)
    out = stream.feed(data[:cut] + error + data[cut:])
    assert stream.done and stream.close() == b""
    last = events(out)[-1]
    # The API's own fields are kept, and an error object makes the SDK raise.
    assert (last["type"], last["code"], last["message"]) == ("error", "server_error", "oops")
    assert last["error"]["message"] == "oops"
    assert API_KEY.encode() not in out


def test_the_sdk_does_not_raise_on_the_apis_own_error_or_failed_events() -> None:
    # Why the filter adds an error object: openai's stream raises only on events whose
    # data has a truthy "error"; the API's "error" and "response.failed" events have none.
    call = FORMAT.parse_request(request(stream=True))
    head = list(FORMAT.render_stream(call, DEMO_REPLY))[:3]
    error = b'event: error\ndata: {"type":"error","code":"x","message":"oops","param":null,"sequence_number":3}\n\n'
    client = sdk(serve(200, b"".join(head) + error, sse=True))
    types = [e.type for e in client.responses.create(model="m", input="hi", stream=True)]
    assert types[-1] == "error"  # handed over as an event: no exception


def test_fail_ends_the_stream_with_an_error_event(guard: Guard) -> None:
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), guard)
    stream.feed(upstream(response())[:500])
    out = stream.fail("the upstream model API closed the stream early")
    assert events(out)[-1]["error"]["code"] == "upstream_error"


@pytest.mark.parametrize("status", ["incomplete", "failed"])
def test_an_incomplete_or_failed_response_never_repeats_the_original(
    guard: Guard, status: str
) -> None:
    body = response(status=status, incomplete_details={"reason": "max_output_tokens"})
    _, out = run(guard, upstream(body), 3, (API_KEY.encode(),))
    assert API_KEY.encode() not in out and AWS.encode() not in out
    last = events(out)[-1]
    assert last["type"] == f"response.{status}"
    assert last["response"]["output"][1]["content"][0]["text"] == REDACTED


def test_a_stream_cut_before_its_terminal_event_ends_with_an_error(guard: Guard) -> None:
    data = upstream(response())
    _, out = run(guard, data[: data.index(b"event: response.completed")], 1)
    last = events(out)[-1]
    assert last["type"] == "error" and last["code"] == "upstream_error"
    assert b"response.completed" not in out and API_KEY.encode() not in out
    with pytest.raises(openai.APIError):
        list(sdk(serve(200, out, sse=True)).responses.create(model="m", input="h", stream=True))


def test_a_whole_reply_block_comes_before_the_terminal_event(make_guard: Any) -> None:
    from guard.checks.base import CheckContext
    from guard.types import Verdict

    class NoPlatypus:
        name = "no-platypus"
        shadow = False

        def input(self, call: Call, ctx: CheckContext) -> Verdict:
            return Verdict(self.name, Action.ALLOW)

        def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
            action = Action.BLOCK if "platypus" in reply.text else Action.ALLOW
            return Verdict(self.name, action, reason="no platypus")

    engine = make_guard(None)
    engine.output_checks.append(NoPlatypus())
    body = response()
    body["output"][1]["content"][0]["text"] = "a platypus, " * 20
    stream, out = run(engine, upstream(body), 2)
    assert b"response.completed" not in out
    assert events(out)[-1]["type"] == "error" and stream.decision.blocked
    client = sdk(serve(200, out, sse=True))
    with (
        pytest.raises(openai.APIError, match="no platypus"),
        client.responses.stream(model="m", input="hi") as sdk_stream,
    ):
        list(sdk_stream)


@pytest.mark.parametrize("index", [-3, 10**9])
def test_a_delta_at_an_absurd_index_costs_nothing(guard: Guard, index: int) -> None:
    data = upstream(response())
    cut = data.index(b"event: response.output_text.done")
    odd = {"type": "response.output_text.delta", "item_id": "msg_up", "output_index": 1}
    odd |= {"content_index": index, "delta": "x", "sequence_number": 99}
    extra = b"event: response.output_text.delta\ndata: " + json.dumps(odd).encode() + b"\n\n"
    _, out = run(guard, data[:cut] + extra + data[cut:], 0)
    assert events(out)[-1]["type"] == "response.completed"
    assert API_KEY.encode() not in out


def test_the_registry_serves_the_format() -> None:
    assert get("openai.responses") is FORMAT
