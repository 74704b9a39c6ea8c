"""Every piece of model text in a reply is checked, complete and streamed (review D8, R9).

OpenAI: ``refusal``, legacy ``function_call``, ``reasoning_content`` / ``reasoning``
(OpenAI-compatible servers), ``audio.transcript``. Anthropic: ``thinking`` (redacted; an
edited block's signature is emptied, since it would no longer match), citations'
``cited_text``, and the text of server tool results.
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
SECRET_TEXT = f"some words first, then the key {AWS} and more words after it"
#: What the default policy blocks in a reply.
BLOCKED = "here it is: -----BEGIN PRIVATE KEY----- MIIEvQIBADANBg and so on"


@pytest.fixture(scope="module", params=["progressive", "buffer"])
def guard(request: pytest.FixtureRequest) -> Guard:
    text = data_path("rules", "default.yaml").read_text(encoding="utf-8")
    policy = Policy.from_yaml(text.replace("  mode: progressive", f"  mode: {request.param}"))
    return Guard(policy, registry=CollectorRegistry())


@pytest.fixture(scope="module")
def default_guard() -> Guard:
    return Guard(registry=CollectorRegistry())


def feed(stream: Any, data: bytes, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    out, at = [], 0
    while at < len(data):
        step = rng.randint(1, 60)
        out.append(stream.feed(data[at : at + step]))
        at += step
    return b"".join(out) + stream.close()


def payloads(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in out.split(b"\n") if line.startswith(b"data: {")]


# -- OpenAI --------------------------------------------------------------------------

OPENAI_CALL = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})


def url_citation(title: str) -> dict[str, Any]:
    """A chat reply's web search citation (``message.annotations[]``)."""
    citation = {"start_index": 0, "end_index": 4, "title": title, "url": "https://x.test/a"}
    return {"type": "url_citation", "url_citation": citation}


def openai_message(field: str, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if field == "annotations":
        message["annotations"] = [url_citation(text)]
    elif field == "audio":
        message["audio"] = {"id": "audio_1", "data": "AAAA", "transcript": text, "expires_at": 1}
    elif field == "function_call":
        message["function_call"] = {"name": "say", "arguments": json.dumps({"text": text})}
    else:
        message[field] = text
    return message


def openai_text(message: dict[str, Any], field: str) -> str:
    if field == "annotations":
        return str(message["annotations"][0]["url_citation"]["title"])
    if field == "audio":
        return str(message["audio"]["transcript"])
    if field == "function_call":
        return str(json.loads(message["function_call"]["arguments"])["text"])
    return str(message[field])


OPENAI_FIELDS = [
    "refusal",
    "reasoning_content",
    "reasoning",
    "audio",
    "function_call",
    "annotations",
]


@pytest.mark.parametrize("field", OPENAI_FIELDS)
def test_openai_reply_fields_are_redacted(default_guard: Guard, field: str) -> None:
    fmt = get("openai.chat")
    call = fmt.parse_request(OPENAI_CALL.encode())
    choice = {"index": 0, "message": openai_message(field, SECRET_TEXT), "finish_reason": "stop"}
    body = json.dumps({"id": "c", "object": "chat.completion", "choices": [choice]}).encode()
    reply = fmt.parse_reply(call, body)
    assert default_guard.after(call, reply).action is Action.REDACT
    message = json.loads(fmt.reply_body(reply))["choices"][0]["message"]
    assert openai_text(message, field) == SECRET_TEXT.replace(AWS, REDACTED)


@pytest.mark.parametrize("field", OPENAI_FIELDS)
def test_openai_reply_fields_are_blocked(default_guard: Guard, field: str) -> None:
    fmt = get("openai.chat")
    call = fmt.parse_request(OPENAI_CALL.encode())
    choice = {"index": 0, "message": openai_message(field, BLOCKED), "finish_reason": "stop"}
    body = json.dumps({"id": "c", "object": "chat.completion", "choices": [choice]}).encode()
    assert default_guard.after(call, fmt.parse_reply(call, body)).blocked


def openai_stream(field: str, text: str) -> bytes:
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + json.dumps({**head, "choices": [choice]}).encode() + b"\n\n"

    events = [chunk({"role": "assistant", "content": None})]
    source = json.dumps({"text": text}) if field == "function_call" else text
    if field == "function_call":
        events.append(chunk({"function_call": {"name": "say", "arguments": ""}}))
    if field == "annotations":  # (a citation comes whole, after the text it cites)
        events.append(chunk({"content": "cited"}))
        source = ""
        events.append(chunk({"annotations": [url_citation(text)]}))
    for at in range(0, len(source), 5):
        piece = source[at : at + 5]
        if field == "audio":
            events.append(chunk({"audio": {"transcript": piece}}))
        elif field == "function_call":
            events.append(chunk({"function_call": {"arguments": piece}}))
        else:
            events.append(chunk({field: piece}))
    events.append(chunk({}, "stop"))
    return b"".join(events) + b"data: [DONE]\n\n"


def openai_streamed(out: bytes, field: str) -> str:
    parts = []
    for payload in payloads(out):
        assert "error" not in payload, payload
        for choice in payload["choices"]:
            delta = choice["delta"]
            if field == "annotations":
                parts += [a["url_citation"]["title"] for a in delta.get("annotations") or ()]
            elif field == "audio":
                parts.append((delta.get("audio") or {}).get("transcript") or "")
            elif field == "function_call":
                parts.append((delta.get("function_call") or {}).get("arguments") or "")
            else:
                parts.append(delta.get(field) or "")
    joined = "".join(parts)
    return str(json.loads(joined)["text"]) if field == "function_call" else joined


@pytest.mark.parametrize("field", OPENAI_FIELDS)
@pytest.mark.parametrize("seed", range(2))
def test_openai_streamed_fields_are_redacted(guard: Guard, field: str, seed: int) -> None:
    fmt = get("openai.chat")
    stream = fmt.stream_filter(fmt.parse_request(OPENAI_CALL.encode()), guard)
    out = feed(stream, openai_stream(field, SECRET_TEXT), seed)
    assert openai_streamed(out, field) == SECRET_TEXT.replace(AWS, REDACTED)
    assert stream.decision is not None and stream.decision.action is Action.REDACT


@pytest.mark.parametrize("field", OPENAI_FIELDS)
def test_openai_streamed_fields_are_blocked(guard: Guard, field: str) -> None:
    fmt = get("openai.chat")
    stream = fmt.stream_filter(fmt.parse_request(OPENAI_CALL.encode()), guard)
    out = feed(stream, openai_stream(field, BLOCKED))
    assert b"PRIVATE KEY" not in out
    assert payloads(out)[-1]["error"]["code"] == "content_blocked"


# -- Anthropic -----------------------------------------------------------------------

ANTHROPIC_CALL = json.dumps(
    {"model": "c", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}
)
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"


def anthropic_content(field: str, text: str) -> list[dict[str, Any]]:
    if field == "thinking":
        return [
            {"type": "thinking", "thinking": text, "signature": SIGNATURE},
            {"type": "text", "text": "answer"},
        ]
    if field == "citation":
        citation = {
            "type": "char_location",
            "cited_text": text,
            "document_index": 0,
            "document_title": "doc",
            "start_char_index": 0,
            "end_char_index": 5,
        }
        return [{"type": "text", "text": "answer", "citations": [citation]}]
    if field == "web_search_citation":
        return [{"type": "text", "text": "answer", "citations": [web_search_citation(text)]}]
    # A server tool result: a fetched page, as web_fetch returns it.
    page = {
        "type": "web_fetch_result",
        "url": "https://example.test/page",
        "content": {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": text},
            "title": "page",
        },
    }
    return [
        {"type": "server_tool_use", "id": "srv_1", "name": "web_fetch", "input": {"url": "x"}},
        {"type": "web_fetch_tool_result", "tool_use_id": "srv_1", "content": page},
        {"type": "text", "text": "answer"},
    ]


def web_search_citation(text: str) -> dict[str, Any]:
    """A web search result's citation: its url, title and cited text are all ``text``
    (a url is what the client shows and opens; a key in its query is a leak too)."""
    return {
        "type": "web_search_result_location",
        "url": text,
        "title": text,
        "cited_text": text,
        "encrypted_index": "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5",
    }


def citation_texts(citation: dict[str, Any]) -> str:
    """The url, title and cited text of a web search citation, joined."""
    return " | ".join(str(citation[name]) for name in ("url", "title", "cited_text"))


def anthropic_text(content: list[dict[str, Any]], field: str) -> str:
    if field == "thinking":
        return str(content[0]["thinking"])
    if field == "citation":
        return str(content[0]["citations"][0]["cited_text"])
    if field == "web_search_citation":
        return citation_texts(content[0]["citations"][0])
    return str(content[1]["content"]["content"]["source"]["data"])


ANTHROPIC_FIELDS = ["thinking", "citation", "web_search_citation", "server_tool_result"]


def expected(field: str) -> str:
    """The field's text as the client should receive it (redacted)."""
    redacted = SECRET_TEXT.replace(AWS, REDACTED)
    return " | ".join([redacted] * 3) if field == "web_search_citation" else redacted


@pytest.mark.parametrize("field", ANTHROPIC_FIELDS)
def test_anthropic_reply_fields_are_redacted(default_guard: Guard, field: str) -> None:
    fmt = get("anthropic.messages")
    call = fmt.parse_request(ANTHROPIC_CALL.encode())
    message = {"id": "m", "type": "message", "role": "assistant", "model": "c"}
    body = json.dumps({**message, "content": anthropic_content(field, SECRET_TEXT)}).encode()
    reply = fmt.parse_reply(call, body)
    assert default_guard.after(call, reply).action is Action.REDACT
    content = json.loads(fmt.reply_body(reply))["content"]
    assert anthropic_text(content, field) == expected(field)
    if field == "thinking":
        assert content[0]["signature"] == ""  # it signed the text before the edit


def test_unedited_thinking_keeps_its_signature(default_guard: Guard) -> None:
    fmt = get("anthropic.messages")
    call = fmt.parse_request(ANTHROPIC_CALL.encode())
    body = json.dumps({"type": "message", "content": anthropic_content("thinking", "fine")})
    reply = fmt.parse_reply(call, body.encode())
    assert default_guard.after(call, reply).action is Action.ALLOW
    assert json.loads(fmt.reply_body(reply))["content"][0]["signature"] == SIGNATURE


@pytest.mark.parametrize("field", ANTHROPIC_FIELDS)
def test_anthropic_reply_fields_are_blocked(default_guard: Guard, field: str) -> None:
    fmt = get("anthropic.messages")
    call = fmt.parse_request(ANTHROPIC_CALL.encode())
    body = json.dumps({"type": "message", "content": anthropic_content(field, BLOCKED)})
    assert default_guard.after(call, fmt.parse_reply(call, body.encode())).blocked


def anthropic_stream(field: str, text: str) -> bytes:
    def event(payload: dict[str, Any]) -> bytes:
        return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()

    message = {"id": "m", "type": "message", "role": "assistant", "content": [], "model": "c"}
    events = [event({"type": "message_start", "message": message})]

    def block(index: int, opening: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        events.append(
            event({"type": "content_block_start", "index": index, "content_block": opening})
        )
        for delta in deltas:
            events.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(event({"type": "content_block_stop", "index": index}))

    pieces = [text[at : at + 5] for at in range(0, len(text), 5)]
    if field == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in pieces]
        deltas.append({"type": "signature_delta", "signature": SIGNATURE})
        block(0, {"type": "thinking", "thinking": "", "signature": ""}, deltas)
        block(1, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "answer"}])
    elif field in ("citation", "web_search_citation"):
        [citation] = anthropic_content(field, text)[0]["citations"]
        deltas = [
            {"type": "citations_delta", "citation": citation},
            {"type": "text_delta", "text": "answer"},
        ]
        block(0, {"type": "text", "text": "", "citations": []}, deltas)
    else:
        use, result, _ = anthropic_content(field, text)
        block(
            0, {**use, "input": {}}, [{"type": "input_json_delta", "partial_json": '{"url": "x"}'}]
        )
        block(1, result, [])
        block(2, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "answer"}])
    events.append(event({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}))
    return b"".join(events) + event({"type": "message_stop"})


def anthropic_streamed(out: bytes, field: str) -> tuple[str, list[str]]:
    """The field's text as the client receives it, and the signatures sent."""
    parts, signatures = [], []
    for payload in payloads(out):
        assert payload["type"] != "error", payload
        delta = payload.get("delta") or {}
        if field == "thinking" and delta.get("type") == "thinking_delta":
            parts.append(delta["thinking"])
        elif delta.get("type") == "signature_delta":
            signatures.append(delta["signature"])
        elif field == "citation" and delta.get("type") == "citations_delta":
            parts.append(delta["citation"]["cited_text"])
        elif field == "web_search_citation" and delta.get("type") == "citations_delta":
            parts.append(citation_texts(delta["citation"]))
        elif field == "server_tool_result" and payload["type"] == "content_block_start":
            block = payload["content_block"]
            if block["type"] == "web_fetch_tool_result":
                parts.append(anthropic_text([{}, block], field))
    return "".join(parts), signatures


@pytest.mark.parametrize("field", ANTHROPIC_FIELDS)
@pytest.mark.parametrize("seed", range(2))
def test_anthropic_streamed_fields_are_redacted(guard: Guard, field: str, seed: int) -> None:
    fmt = get("anthropic.messages")
    stream = fmt.stream_filter(fmt.parse_request(ANTHROPIC_CALL.encode()), guard)
    out = feed(stream, anthropic_stream(field, SECRET_TEXT), seed)
    text, signatures = anthropic_streamed(out, field)
    assert text == expected(field)
    assert stream.decision is not None and stream.decision.action is Action.REDACT
    if field == "thinking":
        assert signatures == [""]
        assert stream.reply.raw["content"][0]["signature"] == ""


@pytest.mark.parametrize("field", ANTHROPIC_FIELDS)
def test_anthropic_streamed_fields_are_blocked(guard: Guard, field: str) -> None:
    fmt = get("anthropic.messages")
    stream = fmt.stream_filter(fmt.parse_request(ANTHROPIC_CALL.encode()), guard)
    out = feed(stream, anthropic_stream(field, BLOCKED))
    assert b"PRIVATE KEY" not in out
    assert payloads(out)[-1]["type"] == "error"


def test_review_r9_reply(guard: Guard) -> None:
    """R9 as the review ran it: one message with a refusal, a legacy function_call and a
    tool call whose arguments hold a key after a newline; complete, then streamed."""
    fmt = get("openai.chat")
    arguments = json.dumps({"content": f"[default]\n{AWS}"})
    message = {
        "role": "assistant",
        "content": None,
        "refusal": f"no: {AWS}",
        "function_call": {"name": "write_file", "arguments": arguments},
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "write", "arguments": arguments}}
        ],
    }
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
    body = json.dumps({"id": "c", "object": "chat.completion", "choices": [choice]}).encode()
    call = fmt.parse_request(OPENAI_CALL.encode())
    reply = fmt.parse_reply(call, body)
    assert guard.after(call, reply).action is Action.REDACT
    assert AWS.encode() not in fmt.reply_body(reply)
    stream = fmt.stream_filter(call, guard)
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    deltas = [
        {"refusal": message["refusal"]},
        {"function_call": message["function_call"]},
        {"tool_calls": [{"index": 0, **message["tool_calls"][0]}]},
    ]
    data = b"".join(
        b"data: "
        + json.dumps(
            {**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
        ).encode()
        + b"\n\n"
        for d in deltas
    )
    out = feed(stream, data + b"data: [DONE]\n\n")
    assert AWS.encode() not in out and b"[AWS_ACCESS_KEY]" in out
