"""The OpenAI chat completions wire format (guard/formats/openai.py and its helpers)."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy
from guard.errors import RequestError, UpstreamError
from guard.formats import get
from guard.formats.openai import FORMAT
from guard.policy import data_path
from guard.types import Action, Call, Caller, Choice, Reply, Segment, ToolCall, Usage

AWS = "AKIAABCDEFGHIJKLMNOP"
API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz1234"
PRIVATE = "-----BEGIN PRIVATE KEY-----"
# Text that crosses event and byte boundaries inside secrets and multibyte characters.
TEXT = (
    f"Héllo wörld 世界 🎉. Your key is {API_KEY} — keep it safe; the AWS one is {AWS}. "
    + "Plenty of ordinary words follow so that the hold-back window is passed. " * 4
    + "Done ✓"
)
REDACTED = TEXT.replace(API_KEY, "[API_KEY]").replace(AWS, "[AWS_ACCESS_KEY]")
ARGUMENTS = json.dumps({"token": API_KEY, "city": "Zürich"}, ensure_ascii=False)
REDACTED_ARGUMENTS = ARGUMENTS.replace(API_KEY, "[API_KEY]")


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
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], **fields}
    return json.dumps(body).encode()


# -- requests --------------------------------------------------------------------------

CONVERSATION = {
    "model": "gpt-test",
    "x_unknown_top": {"kept": [1, 2.5, None]},
    "messages": [
        {"role": "system", "content": f"system knows {AWS}"},
        {"role": "developer", "content": "be brief"},
        {
            "role": "user",
            "name": "alice",
            "content": [
                {"type": "text", "text": f"first part {AWS}"},
                {"type": "image_url", "image_url": {"url": f"https://x.test/{AWS}.png"}},
                {"type": "text", "text": f"second part {AWS} again {AWS}"},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": f'{{"key": "{AWS}"}}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": f"result {AWS}", "x_extra": 1},
        {"role": "user", "content": f"plain string {AWS}"},
    ],
}


def test_an_unedited_request_is_forwarded_byte_for_byte(default_guard: Guard) -> None:
    body = b'{ "model" : "gpt-test",\n "messages": [{"role": "user", "content": "caf\\u00e9"}],  "seed": 1.50 }'
    call = FORMAT.parse_request(body)
    assert default_guard.before(call).action is Action.ALLOW
    assert FORMAT.request_body(call) is body


def test_redactions_are_written_back_to_every_place(default_guard: Guard) -> None:
    call = FORMAT.parse_request(json.dumps(CONVERSATION).encode())
    assert default_guard.before(call).action is Action.REDACT
    sent = json.loads(FORMAT.request_body(call))
    messages = sent["messages"]
    assert messages[0]["content"] == "system knows [AWS_ACCESS_KEY]"
    assert messages[2]["content"][0]["text"] == "first part [AWS_ACCESS_KEY]"
    assert (
        messages[2]["content"][2]["text"] == "second part [AWS_ACCESS_KEY] again [AWS_ACCESS_KEY]"
    )
    arguments = messages[3]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(arguments) == {"key": "[AWS_ACCESS_KEY]"}
    assert messages[4]["content"] == "result [AWS_ACCESS_KEY]"
    assert messages[5]["content"] == "plain string [AWS_ACCESS_KEY]"
    # Everything no check touched is forwarded as it was, unknown fields included.
    # Image URLs are read by the model (and fetched by the provider): checked too.
    assert messages[2]["content"][1]["image_url"]["url"] == "https://x.test/[AWS_ACCESS_KEY].png"
    assert sent["x_unknown_top"] == {"kept": [1, 2.5, None]}
    assert messages[2]["name"] == "alice" and messages[4]["x_extra"] == 1
    assert AWS not in json.dumps(sent)


def test_every_role_becomes_a_segment_with_its_kind() -> None:
    call = FORMAT.parse_request(json.dumps(CONVERSATION).encode())
    found = [(s.role, s.kind, s.index, s.path) for s in call.segments]
    assert found == [
        ("system", "system", 0, ("messages", 0, "content")),
        ("developer", "system", 1, ("messages", 1, "content")),
        ("user", "message", 2, ("messages", 2, "name")),
        ("user", "message", 2, ("messages", 2, "content", 0, "text")),
        ("user", "message", 2, ("messages", 2, "content", 1, "image_url", "url")),
        ("user", "message", 2, ("messages", 2, "content", 2, "text")),
        # Arguments: one segment per key and per string value of the decoded JSON.
        (
            "assistant",
            "tool_argument_key",
            3,
            ("messages", 3, "tool_calls", 0, "function", "arguments"),
        ),
        (
            "assistant",
            "tool_arguments",
            3,
            ("messages", 3, "tool_calls", 0, "function", "arguments"),
        ),
        ("tool", "tool_result", 4, ("messages", 4, "content")),
        ("user", "message", 5, ("messages", 5, "content")),
    ]


def test_request_parameters_are_normalised() -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "lookup", "description": "d", "parameters": {"type": "object"}},
        },
        {"type": "custom", "custom": {"name": "grep"}},
    ]
    fields = {"max_tokens": 10, "max_completion_tokens": 20, "stream": True, "tools": tools}
    call = FORMAT.parse_request(request(**fields, response_format={"type": "json_object"}))
    assert (call.format, call.model, call.stream, call.max_tokens) == (
        "openai.chat",
        "gpt-test",
        True,
        20,
    )
    assert call.response_format == {"type": "json_object"}
    assert call.tools == [
        {"name": "lookup", "description": "d", "parameters": {"type": "object"}},
        {"name": "grep", "description": "", "parameters": None},
    ]
    assert get("openai.chat") is FORMAT


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"model": "m", "messages": [], "x": "\xff"}', "not valid UTF-8"),
        (b'{"model": "m", "messages": [', "not valid JSON"),
        (b'{"model": "m", "messages": [], "t": NaN}', "not valid JSON"),
        (b'["model"]', "must be a JSON object"),
        (b'{"messages": []}', "'model' is required"),
        (b'{"model": ["SECRET-VALUE"], "messages": []}', "'model' must be a non-empty string"),
        (b'{"model": "m"}', "'messages' is required"),
        (b'{"model": "m", "messages": "SECRET-VALUE"}', "'messages' must be a list"),
        (b'{"model": "m", "messages": ["SECRET-VALUE"]}', "'messages[0]' must be an object"),
        (b'{"model": "m", "messages": [{"content": "x"}]}', "'messages[0].role' must be a string"),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": 5}]}',
            "'messages[0].content' must be",
        ),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}',
            "'messages[0].content[0].text' must be a string",
        ),
        (b'{"model": "m", "messages": [], "stream": "yes"}', "'stream' must be a boolean"),
        (b'{"model": "m", "messages": [], "max_tokens": true}', "'max_tokens' must be an integer"),
        (b'{"model": "m", "messages": [], "tools": {}}', "'tools' must be a list"),
        (
            b'{"model": "m", "messages": [], "guardwire": "SECRET-VALUE"}',
            "'guardwire' must be an object",
        ),
    ],
)
def test_bad_requests_name_the_field_and_never_quote_it(body: bytes, message: str) -> None:
    with pytest.raises(RequestError) as caught:
        FORMAT.parse_request(body)
    assert message in str(caught.value)
    assert caught.value.status == 400
    assert "SECRET" not in str(caught.value)


def test_the_extension_is_removed_and_lands_in_the_call() -> None:
    extension = {
        "context": ["Paris is in France.", {"id": "doc-2", "text": "Rome"}],
        "session": "s-1",
        "tenant": "acme",
    }
    call = FORMAT.parse_request(request(guardwire=extension), Caller(key_id="k"))
    assert [(p.id, p.text) for p in call.context] == [
        ("1", "Paris is in France."),
        ("doc-2", "Rome"),
    ]
    assert (call.caller.key_id, call.caller.session, call.caller.tenant) == ("k", "s-1", "acme")
    assert call.body == b""
    forwarded = json.loads(FORMAT.request_body(call))
    assert "guardwire" not in forwarded and forwarded["messages"] == [
        {"role": "user", "content": "hi"}
    ]


def test_with_feedback_appends_the_reply_and_the_feedback() -> None:
    call = FORMAT.parse_request(request(guardwire={"session": "s"}))
    call.request_id = "req-1"
    reply = Reply("openai.chat", [Choice(0, "not json")])
    again = FORMAT.with_feedback(call, reply, "Answer in JSON.")
    assert again.raw["messages"][-2:] == [
        {"role": "assistant", "content": "not json"},
        {"role": "user", "content": "Answer in JSON."},
    ]
    assert len(call.raw["messages"]) == 1  # the original call is untouched
    assert [s.text for s in again.segments] == ["hi", "not json", "Answer in JSON."]
    assert (again.body, again.request_id, again.caller.session) == (b"", "req-1", "s")
    assert json.loads(FORMAT.request_body(again))["messages"][-1]["content"] == "Answer in JSON."


# -- replies ---------------------------------------------------------------------------

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-test-2024",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": f"the key is {AWS}",
                "tool_calls": [
                    {
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "save", "arguments": f'{{"k": "{AWS}"}}'},
                    }
                ],
            },
            "logprobs": {"content": [{"token": AWS, "logprob": -0.1}]},
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    "x_vendor": "kept",
}


def test_a_reply_is_parsed_with_text_tool_calls_and_usage() -> None:
    reply = FORMAT.parse_reply(Call("openai.chat"), json.dumps(COMPLETION).encode())
    [choice] = reply.choices
    assert (choice.text, choice.finish_reason, choice.path) == (
        f"the key is {AWS}",
        "tool_calls",
        ("choices", 0, "message", "content"),
    )
    path = ("choices", 0, "message", "tool_calls", 0, "function", "arguments")
    key = Segment("k", path, "assistant", "tool_argument_key", 0, leaf=("k",))
    leaf = Segment(AWS, path, "assistant", "tool_arguments", 0, leaf=("k",))
    assert choice.tool_calls == [ToolCall("call_9", "save", f'{{"k": "{AWS}"}}', path, [key, leaf])]
    assert (reply.usage, reply.model) == (Usage(11, 7), "gpt-test-2024")


def test_output_redaction_is_written_into_the_reply_body(default_guard: Guard) -> None:
    call = FORMAT.parse_request(request())
    reply = FORMAT.parse_reply(call, json.dumps(COMPLETION).encode())
    assert default_guard.after(call, reply).action is Action.REDACT
    body = json.loads(FORMAT.reply_body(reply))
    message = body["choices"][0]["message"]
    assert message["content"] == "the key is [AWS_ACCESS_KEY]"
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "k": "[AWS_ACCESS_KEY]"
    }
    assert body["choices"][0]["logprobs"] is None  # the tokens would give the key away
    assert body["x_vendor"] == "kept" and body["usage"] == COMPLETION["usage"]


def test_an_unedited_reply_body_is_returned_byte_for_byte(default_guard: Guard) -> None:
    raw = b'{"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"}}]}'
    call = FORMAT.parse_request(request())
    reply = FORMAT.parse_reply(call, raw)
    assert default_guard.after(call, reply).action is Action.ALLOW
    assert FORMAT.reply_body(reply) is raw


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", b"[1, 2]", b"\xff\xfe"])
def test_an_invalid_upstream_reply_is_an_upstream_error(body: bytes) -> None:
    with pytest.raises(UpstreamError) as caught:
        FORMAT.parse_reply(Call("openai.chat"), body)
    assert caught.value.status == 502 and "OpenAI" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "server_error"),
        (504, "server_error"),
    ],
)
def test_error_body_types(status: int, kind: str) -> None:
    body = json.loads(FORMAT.error_body(status, "why", "some_code"))
    assert body == {"error": {"message": "why", "type": kind, "param": None, "code": "some_code"}}


# -- the real SDK reads what we render -------------------------------------------------


def sdk(respond: Callable[[httpx.Request], httpx.Response]) -> openai.OpenAI:
    client = httpx.Client(transport=httpx.MockTransport(respond))
    # openai 3.x is typed for httpx2 but still accepts an httpx client (what users pass).
    return openai.OpenAI(
        http_client=client,  # type: ignore[arg-type,unused-ignore]
        api_key="x",
        base_url="http://test/v1",
        max_retries=0,
    )


def serve(status: int, body: bytes, sse: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    kind = "text/event-stream" if sse else "application/json"
    return lambda _: httpx.Response(status, content=body, headers={"content-type": kind})


MESSAGES: Any = [{"role": "user", "content": "hi"}]
TOOL_REPLY = Reply(
    "openai.chat",
    [Choice(0, "Calling a tool now.", [ToolCall("call_1", "lookup", ARGUMENTS)], "tool_calls")],
    Usage(5, 9),
    model="gpt-demo",
)


def test_the_sdk_reads_a_rendered_reply() -> None:
    call = FORMAT.parse_request(request())
    completion = sdk(serve(200, FORMAT.render_reply(call, TOOL_REPLY))).chat.completions.create(
        model="gpt-test", messages=MESSAGES
    )
    message = completion.choices[0].message
    assert message.content == "Calling a tool now."
    assert message.tool_calls is not None and message.tool_calls[0].function.arguments == ARGUMENTS  # type: ignore[union-attr]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.total_tokens == 14
    assert completion.model == "gpt-demo"


def test_the_sdk_reads_a_rendered_stream() -> None:
    call = FORMAT.parse_request(request(stream=True, stream_options={"include_usage": True}))
    events = list(FORMAT.render_stream(call, TOOL_REPLY))
    assert len(events) > 6 and events[-1] == b"data: [DONE]\n\n"
    client = sdk(serve(200, b"".join(events), sse=True))
    chunks = list(client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    arguments = "".join(
        t.function.arguments or ""
        for c in chunks
        if c.choices
        for t in c.choices[0].delta.tool_calls or ()
        if t.function
    )
    assert (text, arguments) == ("Calling a tool now.", ARGUMENTS)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert (
        chunks[-1].choices == []
        and chunks[-1].usage is not None
        and chunks[-1].usage.completion_tokens == 9
    )
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 2  # really streamed


def test_the_sdk_raises_our_stream_error_with_our_message() -> None:
    call = FORMAT.parse_request(request(stream=True))
    events = list(FORMAT.render_stream(call, TOOL_REPLY))[:3]
    body = b"".join(events) + FORMAT.stream_error(
        "guardwire blocked this model reply", "content_blocked"
    )
    client = sdk(serve(200, body, sse=True))
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(
            model="gpt-test", messages=MESSAGES, stream=True
        ):
            received.append(chunk)
    assert len(received) == 3
    assert caught.value.message == "guardwire blocked this model reply"
    assert caught.value.code == "content_blocked"


def test_the_sdk_raises_our_error_body_as_a_status_error() -> None:
    client = sdk(
        serve(400, FORMAT.error_body(400, "guardwire blocked this request", "content_blocked"))
    )
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert caught.value.code == "content_blocked"
    assert "guardwire blocked this request" in str(caught.value)


# -- the stream filter -------------------------------------------------------------------


def upstream(
    text: str, arguments: str | None = None, size: int = 7, ending: str = "finish"
) -> bytes:
    """An upstream chunk stream with ``text`` cut every ``size`` characters.

    ``ending``: ``finish`` (finish chunk, usage chunk, ``[DONE]``), ``done`` (only
    ``[DONE]``) or ``cut`` (the stream just stops).
    """
    head = {"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1700000001}
    head["model"] = "gpt-up"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        payload = json.dumps({**head, "choices": [choice]}, ensure_ascii=False)
        return b"data: " + payload.encode() + b"\n\n"

    def tool_delta(**fields: Any) -> bytes:
        return chunk({"tool_calls": [{"index": 0, **fields}]})

    parts = [text[i : i + size] for i in range(0, len(text), size)]
    events = [chunk({"role": "assistant", "content": ""}), b": keep-alive\n\n"]
    events += [chunk({"content": part}) for part in parts[:-1]]
    if arguments is not None:
        function = {"name": "save", "arguments": ""}
        events.append(tool_delta(id="call_up", type="function", function=function))
        pieces = [arguments[i : i + size] for i in range(0, len(arguments), size)]
        events += [tool_delta(function={"arguments": piece}) for piece in pieces]
    if ending != "finish":
        events.append(chunk({"content": parts[-1]}))
        return b"".join(events) + (b"data: [DONE]\n\n" if ending == "done" else b"")
    # The last text arrives together with the finish reason, as some servers send it.
    events.append(chunk({"content": parts[-1]}, "tool_calls" if arguments else "stop"))
    usage = {"prompt_tokens": 3, "completion_tokens": 40, "total_tokens": 43}
    events.append(
        b"data: " + json.dumps({**head, "choices": [], "usage": usage}).encode() + b"\n\n"
    )
    return b"".join(events) + b"data: [DONE]\n\n"


def splits(data: bytes, seed: int, *, inside: tuple[bytes, ...] = ()) -> Iterator[bytes]:
    """``data`` cut at random places, and always inside each of ``inside``."""
    rng = random.Random(seed)
    cuts = set(rng.sample(range(1, len(data)), 25))
    for needle in inside:
        at = data.find(needle)
        cuts.add(at + rng.randint(1, len(needle) - 1))
    bounds = [0, *sorted(cuts), len(data)]
    for a, b in itertools.pairwise(bounds):
        yield data[a:b]


def received(out: bytes) -> tuple[str, str, list[dict[str, Any]]]:
    """What a client sees: joined text, joined tool arguments, and every payload.

    Also checks the chunk grammar: nothing of a choice after its finish reason.
    """
    text, arguments, payloads = [], [], []
    finished: set[int] = set()
    for block in out.split(b"\n\n"):
        for line in block.split(b"\n"):
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                payload = json.loads(line[6:])
                payloads.append(payload)
                for choice in payload.get("choices", []):
                    assert choice["index"] not in finished, "a delta after the finish reason"
                    text.append(choice["delta"].get("content") or "")
                    for tool in choice["delta"].get("tool_calls") or ():
                        arguments.append(tool.get("function", {}).get("arguments") or "")
                    if choice["finish_reason"] is not None:
                        finished.add(choice["index"])
    return "".join(text), "".join(arguments), payloads


def run(guard: Guard, data: bytes, seed: int, inside: tuple[bytes, ...] = ()) -> tuple[Any, bytes]:
    call = FORMAT.parse_request(request(stream=True, stream_options={"include_usage": True}))
    stream = FORMAT.stream_filter(call, guard)
    out = b"".join(stream.feed(chunk) for chunk in splits(data, seed, inside=inside))
    return stream, out + stream.close()


@pytest.mark.parametrize("seed", range(12))
def test_the_client_receives_exactly_the_redacted_text(guard: Guard, seed: int) -> None:
    data = upstream(TEXT, ARGUMENTS)
    inside = (API_KEY.encode(), AWS.encode(), "世".encode(), "🎉".encode())
    stream, out = run(guard, data, seed, inside)
    text, arguments, payloads = received(out)
    # Arguments are checked leaf by leaf; buffer mode re-serialises edited ones compactly.
    assert (text, json.loads(arguments)) == (REDACTED, json.loads(REDACTED_ARGUMENTS))
    assert out.endswith(b"data: [DONE]\n\n")
    assert all(p["id"] == "chatcmpl-up" and p["created"] == 1700000001 for p in payloads)
    assert payloads[-1]["usage"]["completion_tokens"] == 40
    assert stream.done and stream.decision.action is Action.REDACT
    assert stream.reply.text == REDACTED and stream.reply.usage == Usage(3, 40)
    assert stream.reply.choices[0].tool_calls[0].arguments == arguments
    assert stream.reply.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("seed", range(12))
def test_a_blocked_phrase_never_reaches_the_client(guard: Guard, seed: int) -> None:
    before = "A harmless preamble that is long enough to be released early. " * 5
    data = upstream(before + PRIVATE + "\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----", size=5)
    stream, out = run(guard, data, seed, inside=(PRIVATE.encode(),))
    text, _, payloads = received(out)
    assert before.startswith(text)  # a prefix of the preamble, nothing of the key
    assert payloads[-1]["error"]["code"] == "content_blocked"
    assert "private-key" in payloads[-1]["error"]["message"]
    assert out.endswith(FORMAT.stream_error(payloads[-1]["error"]["message"], "content_blocked"))
    assert stream.done and stream.decision.blocked
    assert stream.feed(b"data: [DONE]\n\n") == b"" and stream.close() == b""
    with pytest.raises(openai.APIError, match="private-key"):
        list(
            sdk(serve(200, out, sse=True)).chat.completions.create(
                model="m", messages=MESSAGES, stream=True
            )
        )


def test_interleaved_choices_are_checked_separately(guard: Guard) -> None:
    texts = {0: TEXT, 1: f"second choice holds {AWS} and {API_KEY}."}

    def chunk(index: int, content: str, finish: str | None = None) -> bytes:
        choice = {"index": index, "delta": {"content": content}, "finish_reason": finish}
        return b"data: " + json.dumps({"id": "c", "choices": [choice]}).encode() + b"\n\n"

    events = [
        chunk(i, text[k : k + 6]) for k in range(0, len(TEXT), 6) for i, text in texts.items()
    ]
    data = b"".join(events) + chunk(1, "", "stop") + chunk(0, "", "stop") + b"data: [DONE]\n\n"
    stream, out = run(guard, data, seed=7)
    joined = {0: "", 1: ""}
    for payload in received(out)[2]:
        for choice in payload["choices"]:
            joined[choice["index"]] += choice["delta"].get("content") or ""
    assert joined == {
        i: t.replace(API_KEY, "[API_KEY]").replace(AWS, "[AWS_ACCESS_KEY]")
        for i, t in texts.items()
    }
    assert [c.index for c in stream.reply.choices] == [0, 1]


def test_a_stream_without_finish_chunk_still_releases_all_text(guard: Guard) -> None:
    stream, out = run(guard, upstream(TEXT, ARGUMENTS, ending="done"), seed=5)
    text, arguments, _ = received(out)
    assert (text, json.loads(arguments)) == (REDACTED, json.loads(REDACTED_ARGUMENTS))
    assert out.endswith(b"data: [DONE]\n\n")
    assert stream.reply.text == REDACTED


def test_a_stream_cut_before_its_terminal_event_ends_with_an_error(guard: Guard) -> None:
    """No ``[DONE]``: the connection closed half way. The SDK would return the text as if
    complete; the client gets the API's error event instead, and nothing unchecked."""
    stream, out = run(guard, upstream(TEXT, ARGUMENTS, ending="cut"), seed=5)
    assert not out.endswith(b"data: [DONE]\n\n")
    last = json.loads(out.rstrip(b"\n").rsplit(b"\n\n", 1)[-1][len(b"data: ") :])
    assert last["error"]["code"] == "upstream_error"
    assert stream.upstream_failed and API_KEY not in out.decode() and AWS not in out.decode()


def test_progressive_mode_releases_text_before_the_stream_ends(default_guard: Guard) -> None:
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), default_guard)
    early = stream.feed(upstream("word " * 200).split(b"data: [DONE]")[0])
    assert len(received(early)[0]) > 500


def test_events_the_guard_does_not_change_pass_byte_for_byte(
    make_guard: Callable[..., Guard],
) -> None:
    data = upstream(TEXT, ARGUMENTS)
    stream, out = run(make_guard("name: no-output-checks"), data, seed=1)
    assert out == data
    assert stream.reply.text == TEXT and stream.decision.action is Action.ALLOW
    _, out = run(make_guard(), data, seed=1)
    kept = [b": keep-alive\n\n", data[: data.index(b"\n\n") + 2], b"data: [DONE]\n\n"]
    assert all(event in out for event in kept)  # role chunk, comment and [DONE] as sent


def test_fail_ends_the_stream_with_an_error_event(guard: Guard) -> None:
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), guard)
    stream.feed(upstream("some text " * 3)[:300])  # ends inside an event
    out = stream.fail("the upstream model API timed out", "upstream_timeout")
    assert out == FORMAT.stream_error("the upstream model API timed out", "upstream_timeout")
    assert stream.done and stream.decision is not None
    assert stream.feed(b"data: {}\n\n") == b""


def test_an_upstream_error_event_is_forwarded_and_ends_the_stream(guard: Guard) -> None:
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), guard)
    error = b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n'
    first = b"".join(event + b"\n\n" for event in upstream("text " * 3).split(b"\n\n")[:3])
    out = stream.feed(first + error + b"data: [DONE]\n\n")
    assert out.endswith(error) and stream.done and stream.decision is not None


# -- text envelopes: plain content chunks read without parsing their JSON ----------------


def run_parsing_every_event(guard: Guard, data: bytes, seed: int) -> tuple[Any, bytes]:
    """As ``run``, with envelopes off: every chunk takes the parse-and-walk path."""
    call = FORMAT.parse_request(request(stream=True, stream_options={"include_usage": True}))
    stream = FORMAT.stream_filter(call, guard)
    stream._learning = 0  # type: ignore[attr-defined]
    out = b"".join(stream.feed(chunk) for chunk in splits(data, seed))
    return stream, out + stream.close()


@pytest.mark.parametrize("seed", range(8))
def test_envelopes_change_nothing_a_client_sees(guard: Guard, seed: int) -> None:
    text = f"Keys {API_KEY} and {AWS} again: {API_KEY}. " * 3 + TEXT
    data = upstream(text, ARGUMENTS, size=random.Random(seed).randint(1, 9))
    fast, fast_out = run(guard, data, seed)
    slow, slow_out = run_parsing_every_event(guard, data, seed)
    assert fast._envelopes  # type: ignore[attr-defined]  # the fast path was taken
    assert received(fast_out) == received(slow_out)
    assert received(fast_out)[0] == text.replace(API_KEY, "[API_KEY]").replace(
        AWS, "[AWS_ACCESS_KEY]"
    )
    assert fast.reply == slow.reply and fast.decision.action == slow.decision.action


def test_no_envelope_is_learnt_from_a_lookalike_of_the_text(default_guard: Guard) -> None:
    # The last "content" in the data is a decoy with the same text: the probe shows it is
    # not the delta's content, so every chunk is parsed.
    def chunk(content: str) -> bytes:
        choice = {"index": 0, "delta": {"content": content}, "finish_reason": None}
        payload = {"id": "c", "choices": [choice], "x": {"content": content}}
        return b"data: " + json.dumps(payload).encode() + b"\n\n"

    pieces = ["Hello ", "there, ", "the key ", "is ", API_KEY[:9], API_KEY[9:], ". ", "Bye."]
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), default_guard)
    out = b"".join(stream.feed(chunk(p)) for p in pieces) + stream.feed(b"data: [DONE]\n\n")
    out += stream.close()
    assert not stream._envelopes  # type: ignore[attr-defined]
    assert received(out)[0] == "Hello there, the key is [API_KEY]. Bye."


def test_chunks_that_differ_in_more_than_their_text_stop_the_learning(
    default_guard: Guard,
) -> None:
    # OpenAI pads chunks with a random "obfuscation" string: no envelope fits twice.
    def chunk(content: str, padding: str) -> bytes:
        choice = {"index": 0, "delta": {"content": content}, "finish_reason": None}
        payload = {"id": "c", "choices": [choice], "obfuscation": padding}
        return b"data: " + json.dumps(payload).encode() + b"\n\n"

    pieces = [f"word{i} " for i in range(30)] + [API_KEY, " end."]
    stream = FORMAT.stream_filter(FORMAT.parse_request(request(stream=True)), default_guard)
    out = b"".join(stream.feed(chunk(p, "x" * i)) for i, p in enumerate(pieces))
    out += stream.feed(b"data: [DONE]\n\n") + stream.close()
    assert received(out)[0] == "".join(pieces).replace(API_KEY, "[API_KEY]")
    assert stream._learning == 0  # type: ignore[attr-defined]  # it gave up


def test_legacy_function_call_is_a_tool_call_and_strip_removes_it() -> None:
    from guard.formats import apply_reply_patches
    from guard.patches import DropToolCalls

    message = {"role": "assistant", "content": None,
               "function_call": {"name": "run_shell", "arguments": '{"command": "ls"}'}}  # fmt: skip
    raw = {"id": "x", "object": "chat.completion", "model": "m",
           "choices": [{"index": 0, "message": message, "finish_reason": "function_call"}]}  # fmt: skip
    reply = FORMAT.reply_from_raw(raw)
    (tool,) = reply.choices[0].tool_calls
    assert (tool.id, tool.name, tool.arguments) == ("", "run_shell", '{"command": "ls"}')
    assert [s.text for s in reply.segments() if s.kind == "tool_arguments"] == ["ls"]
    assert json.loads(FORMAT.render_reply(Call("openai.chat"), reply))["choices"][0]["message"][
        "function_call"
    ] == {"name": "run_shell", "arguments": '{"command": "ls"}'}
    assert (
        apply_reply_patches(reply, [DropToolCalls(frozenset({(0, 0)}))], FORMAT.reply_from_raw)
        == []
    )
    choice = reply.raw["choices"][0]
    assert "function_call" not in choice["message"] and choice["finish_reason"] == "stop"
    assert reply.choices[0].tool_calls == []


def test_legacy_functions_are_declared_tools() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "functions": [{"name": "run_shell", "parameters": {"type": "object"}}]}  # fmt: skip
    call = FORMAT.parse_request(json.dumps(body).encode())
    assert call.tools == [
        {"name": "run_shell", "description": "", "parameters": {"type": "object"}}
    ]
