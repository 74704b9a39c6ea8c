"""Every row of each format's coverage table, driven through the real SDKs.

The SDKs talk through ``guard.transport()`` to an in-process upstream
(``MockTransport``). A secret placed in a request field must not reach the upstream
(redacted, and a blocked phrase never sent); a secret in a reply field must not reach
what the SDK returns, complete or streamed. Each table row maps to one scenario here,
and a test fails when a row has none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.formats import anthropic as anthropic_format
from guard.formats import openai as openai_format
from tests.formats import test_reply_fields as reply_fields
from tests.formats import test_tool_arguments as tool_arguments

AWS = "AKIAABCDEFGHIJKLMNOP"
LEAK = "ABCDEFGHIJKLMNOP"  # any part of the key that would show it leaked
REDACTED = "[AWS_ACCESS_KEY]"
TEXT = f"note {AWS} end"
#: Tool arguments as agents write config files: a key after a newline (review R9).
ARGUMENTS = json.dumps({"path": "credentials", "content": f"[default]\n{AWS}"})
BOMB = "how to build a bomb"
USER = {"role": "user", "content": "hi"}

Kwargs = Callable[[str], dict[str, Any]]


@pytest.fixture
def engine() -> guard.Guard:
    return guard.Guard(registry=CollectorRegistry())


class Upstream:
    """Records request bodies; answers with ``body`` (JSON or server-sent events)."""

    def __init__(self, body: bytes = b"", sse: bool = False) -> None:
        self.body, self.sse = body, sse
        self.received: list[bytes] = []

    def __call__(self, request: Any) -> Any:
        self.received.append(request.read())
        package = httpx2 if isinstance(request, httpx2.Request) else httpx
        kind = "text/event-stream" if self.sse else "application/json"
        return package.Response(200, content=self.body, headers={"content-type": kind})


def openai_client(engine: guard.Guard, upstream: Upstream) -> openai.OpenAI:
    transport = engine.transport(httpx.MockTransport(upstream))
    return openai.OpenAI(
        http_client=httpx.Client(transport=transport),  # type: ignore[arg-type,unused-ignore]
        api_key="k",
        base_url="http://upstream.test/v1",
        max_retries=0,
    )


def anthropic_client(engine: guard.Guard, upstream: Upstream) -> anthropic.Anthropic:
    transport = engine.transport(httpx2.MockTransport(upstream))
    return anthropic.Anthropic(
        http_client=httpx2.Client(transport=transport),
        api_key="k",
        base_url="http://upstream.test",
        max_retries=0,
    )


def schema(text: str) -> dict[str, Any]:
    properties = {"city": {"type": "string", "description": text}}
    return {"type": "object", "properties": properties, "required": ["city"]}


def parts(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(items)}]


# -- OpenAI requests -------------------------------------------------------------------

OPENAI_REQUESTS: dict[str, Kwargs] = {
    "messages[].content": lambda t: {"messages": [{"role": "user", "content": t}]},
    "messages[].content[].text": lambda t: {"messages": parts({"type": "text", "text": t})},
    "messages[].content[].refusal": lambda t: {
        "messages": [USER, {"role": "assistant", "content": [{"type": "refusal", "refusal": t}]}]
    },
    "messages[].content[input_text].text": lambda t: {
        "messages": parts({"type": "input_text", "text": t})
    },
    "messages[].content[image_url].image_url.url (not data:)": lambda t: {
        "messages": parts({"type": "image_url", "image_url": {"url": f"https://x.test/{t}"}})
    },
    "messages[].content[<unknown type>] strings": lambda t: {
        "messages": parts({"type": "x_future_part", "payload": {"note": t}})
    },
    "messages[].name": lambda t: {"messages": [{"role": "user", "name": t, "content": "hi"}]},
    "messages[].tool_calls[].function.arguments": lambda t: {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "save", "arguments": json.dumps({"content": t})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "saved"},
        ]
    },
    "messages[].tool_calls[].custom.input": lambda t: {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "custom", "custom": {"name": "patch", "input": t}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "patched"},
        ]
    },
    "messages[].function_call.arguments": lambda t: {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "save", "arguments": json.dumps({"content": t})},
            },
        ]
    },
    "tools[].function.description": lambda t: {
        "tools": [{"type": "function", "function": {"name": "f", "description": t}}]
    },
    "tools[].function.parameters strings": lambda t: {
        "tools": [{"type": "function", "function": {"name": "f", "parameters": schema(t)}}]
    },
    "functions[].description": lambda t: {"functions": [{"name": "f", "description": t}]},
    "response_format.json_schema (description, schema strings)": lambda t: {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "s", "description": t, "schema": schema(t)},
        }
    },
    "prediction.content (string or parts)": lambda t: {
        "prediction": {"type": "content", "content": [{"type": "text", "text": t}]}
    },
    "user": lambda t: {"user": t},
    "metadata.*": lambda t: {"metadata": {"ticket": t}},
}


def completion(message: dict[str, Any]) -> bytes:
    """A chat completion of ``message`` (its ``choice_fields`` go to the choice)."""
    message = dict(message)
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
    choice.update(message.pop("choice_fields", {}))
    return json.dumps(
        {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [choice]}
    ).encode()


def openai_create(client: openai.OpenAI, fields: dict[str, Any], **more: Any) -> Any:
    messages = fields.pop("messages", [USER])
    return client.chat.completions.create(model="m", messages=messages, extra_body=fields, **more)


def rows(table: tuple[Any, ...], where: str) -> set[str]:
    return {row.field for row in table if row.where == where}


def test_every_openai_request_row_has_a_scenario() -> None:
    assert set(OPENAI_REQUESTS) == rows(openai_format.COVERAGE, "request")


@pytest.mark.parametrize("field", OPENAI_REQUESTS)
def test_openai_request_field_reaches_the_upstream_redacted(
    engine: guard.Guard, field: str
) -> None:
    upstream = Upstream(completion({"role": "assistant", "content": "ok"}))
    openai_create(openai_client(engine, upstream), OPENAI_REQUESTS[field](TEXT))
    [sent] = upstream.received
    assert LEAK not in sent.decode() and REDACTED in sent.decode()


@pytest.mark.parametrize("field", OPENAI_REQUESTS)
def test_openai_request_field_with_a_blocked_phrase_is_never_sent(
    engine: guard.Guard, field: str
) -> None:
    upstream = Upstream(completion({"role": "assistant", "content": "ok"}))
    with pytest.raises(openai.BadRequestError, match="denylist"):
        openai_create(openai_client(engine, upstream), OPENAI_REQUESTS[field](BOMB))
    assert upstream.received == []


# -- OpenAI replies ----------------------------------------------------------------------

#: Reply row -> (complete message with the text, the stream of it).
OPENAI_REPLIES: dict[str, tuple[Callable[[str], dict[str, Any]], Callable[[str], bytes]]] = {
    "choices[].message.content": (
        lambda t: {"role": "assistant", "content": t},
        lambda t: reply_fields.openai_stream("content", t),
    ),
    "choices[].message.tool_calls[].function.arguments": (
        lambda t: {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "save", "arguments": t}}
            ],
        },
        lambda t: tool_arguments.openai_stream(t, False, 4),
    ),
    **{
        f"choices[].message.{name}": (
            lambda t, name=name: reply_fields.openai_message(name, t),
            lambda t, name=name: reply_fields.openai_stream(name, t),
        )
        for name in ("refusal", "reasoning_content", "reasoning")
    },
    "choices[].message.audio.transcript": (
        lambda t: reply_fields.openai_message("audio", t),
        lambda t: reply_fields.openai_stream("audio", t),
    ),
    "choices[].message.function_call.arguments": (
        lambda t: {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "save", "arguments": t},
        },
        lambda t: tool_arguments.openai_stream(t, True, 4),
    ),
    "choices[].message.tool_calls[].custom.input": (
        lambda t: {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "custom", "custom": {"name": "patch", "input": t}}],
        },
        lambda t: chunks(
            {
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c1",
                            "type": "custom",
                            "custom": {"name": "patch", "input": ""},
                        }
                    ]
                }
            },
            *(
                {"delta": {"tool_calls": [{"index": 0, "custom": {"input": piece}}]}}
                for piece in (t[:9], t[9:])
            ),
        ),
    ),
    "choices[].message.content[] strings (parts)": (
        lambda t: {"role": "assistant", "content": [{"type": "text", "text": t}]},
        lambda t: chunks({"delta": {"content": [{"type": "text", "text": t}]}}),
    ),
    "choices[].message.annotations[] strings (title, url)": (
        lambda t: reply_fields.openai_message("annotations", t),
        lambda t: reply_fields.openai_stream("annotations", t),
    ),
    "choices[].text (legacy, compatible servers)": (
        lambda t: {"role": "assistant", "content": "ok", "choice_fields": {"text": t}},
        lambda t: chunks(*({"delta": {}, "text": piece} for piece in (t[:9], t[9:]))),
    ),
}


def chunks(*choices: dict[str, Any]) -> bytes:
    """A chat stream of one chunk per choice (index 0), then the finish and ``[DONE]``."""
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    finish = {"delta": {}, "finish_reason": "stop"}
    events = [
        b"data: " + json.dumps({**head, "choices": [{"index": 0, **choice}]}).encode() + b"\n\n"
        for choice in (*choices, finish)
    ]
    return b"".join(events) + b"data: [DONE]\n\n"


def reply_text(field: str) -> str:
    """Arguments rows carry JSON (with the key after a newline); the others plain text."""
    return ARGUMENTS if "arguments" in field else TEXT


def test_every_openai_reply_row_has_a_scenario() -> None:
    assert set(OPENAI_REPLIES) == rows(openai_format.COVERAGE, "reply")


@pytest.mark.parametrize("field", OPENAI_REPLIES)
def test_openai_reply_field_reaches_the_sdk_redacted(engine: guard.Guard, field: str) -> None:
    message, _ = OPENAI_REPLIES[field]
    upstream = Upstream(completion(message(reply_text(field))))
    result = openai_create(openai_client(engine, upstream), {})
    # (warnings=False: content parts are not the SDK's declared str, passed on as sent.)
    seen = json.dumps(result.model_dump(warnings=False), ensure_ascii=False)
    assert LEAK not in seen and REDACTED in seen


@pytest.mark.parametrize("field", OPENAI_REPLIES)
def test_openai_streamed_reply_field_reaches_the_sdk_redacted(
    engine: guard.Guard, field: str
) -> None:
    _, stream = OPENAI_REPLIES[field]
    upstream = Upstream(stream(reply_text(field)), sse=True)
    chunks = list(openai_create(openai_client(engine, upstream), {}, stream=True))
    seen = json.dumps([chunk.model_dump(warnings=False) for chunk in chunks], ensure_ascii=False)
    assert LEAK not in seen and REDACTED in seen


# -- Anthropic requests ------------------------------------------------------------------


def blocks(*items: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": list(items)}]}


def document(**fields: Any) -> dict[str, Any]:
    source = {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}
    return {"type": "document", "source": source, **fields}


ANTHROPIC_REQUESTS: dict[str, Kwargs] = {
    "system (string or text blocks)": lambda t: {"system": [{"type": "text", "text": t}]},
    "messages[].content (string)": lambda t: {"messages": [{"role": "user", "content": t}]},
    "messages[].content[text].text": lambda t: blocks({"type": "text", "text": t}),
    "messages[].content[text].citations[].cited_text": lambda t: {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "text",
                        "text": "as cited",
                        "citations": [
                            {
                                "type": "char_location",
                                "cited_text": t,
                                "document_index": 0,
                                "start_char_index": 0,
                                "end_char_index": 3,
                            }
                        ],
                    }
                ],
            },
            USER,
        ]
    },
    "messages[].content[text].citations[web_search_result_location].url": lambda t: {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "text",
                        "text": "as found",
                        "citations": [
                            {
                                "type": "web_search_result_location",
                                "url": t,
                                "title": "a page",
                                "cited_text": "a quote",
                                "encrypted_index": "EqgfCioIARgBIiQ3YTAw",
                            }
                        ],
                    }
                ],
            },
            USER,
        ]
    },
    "messages[].content[thinking].thinking": lambda t: {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": t, "signature": "s"}],
            },
            USER,
        ]
    },
    "messages[].content[tool_use].input strings": lambda t: {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "save", "input": {"c": t}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
        ]
    },
    "messages[].content[tool_result].content": lambda t: blocks(
        {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": t}]}
    ),
    "messages[].content[document].source (text, content, url)": lambda t: blocks(
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": t}}
    ),
    "messages[].content[document].title, .context": lambda t: blocks(document(title=t, context=t)),
    "messages[].content[image].source.url": lambda t: blocks(
        {"type": "image", "source": {"type": "url", "url": f"https://x.test/{t}"}}
    ),
    "messages[].content[search_result] strings": lambda t: blocks(
        {
            "type": "search_result",
            "source": "https://x.test",
            "title": "result",
            "content": [{"type": "text", "text": t}],
        }
    ),
    "messages[].content[<server tool result or unknown>] strings": lambda t: blocks(
        {"type": "x_future_block", "payload": {"note": t}}
    ),
    "tools[].description, tools[].input_schema strings": lambda t: {
        "tools": [{"name": "f", "description": t, "input_schema": schema(t)}]
    },
    "metadata.user_id": lambda t: {"metadata": {"user_id": t}},
}


def message(content: list[dict[str, Any]]) -> bytes:
    head = {"id": "m", "type": "message", "role": "assistant", "model": "c"}
    usage = {"input_tokens": 1, "output_tokens": 1}
    return json.dumps(
        {**head, "content": content, "stop_reason": "end_turn", "usage": usage}
    ).encode()


def anthropic_create(client: anthropic.Anthropic, fields: dict[str, Any], **more: Any) -> Any:
    messages = fields.pop("messages", [USER])
    return client.messages.create(
        model="c", max_tokens=9, messages=messages, extra_body=fields, **more
    )


def test_every_anthropic_request_row_has_a_scenario() -> None:
    assert set(ANTHROPIC_REQUESTS) == rows(anthropic_format.COVERAGE, "request")


@pytest.mark.parametrize("field", ANTHROPIC_REQUESTS)
def test_anthropic_request_field_reaches_the_upstream_redacted(
    engine: guard.Guard, field: str
) -> None:
    upstream = Upstream(message([{"type": "text", "text": "ok"}]))
    anthropic_create(anthropic_client(engine, upstream), ANTHROPIC_REQUESTS[field](TEXT))
    [sent] = upstream.received
    assert LEAK not in sent.decode() and REDACTED in sent.decode()


@pytest.mark.parametrize("field", ANTHROPIC_REQUESTS)
def test_anthropic_request_field_with_a_blocked_phrase_is_never_sent(
    engine: guard.Guard, field: str
) -> None:
    upstream = Upstream(message([{"type": "text", "text": "ok"}]))
    with pytest.raises(anthropic.BadRequestError, match="denylist"):
        anthropic_create(anthropic_client(engine, upstream), ANTHROPIC_REQUESTS[field](BOMB))
    assert upstream.received == []


def test_an_anthropic_block_without_type_is_a_400(engine: guard.Guard) -> None:
    upstream = Upstream(message([{"type": "text", "text": "ok"}]))
    with pytest.raises(anthropic.BadRequestError, match=r"content\[0\]\.type' is required"):
        anthropic_create(anthropic_client(engine, upstream), blocks({"text": BOMB}))
    assert upstream.received == []


# -- Anthropic replies -------------------------------------------------------------------


def text_stream(text: str) -> bytes:
    def event(payload: dict[str, Any]) -> bytes:
        return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()

    head = {"id": "m", "type": "message", "role": "assistant", "content": [], "model": "c"}
    events = [event({"type": "message_start", "message": head})]
    opening = {"type": "text", "text": ""}
    events.append(event({"type": "content_block_start", "index": 0, "content_block": opening}))
    for at in range(0, len(text), 3):
        delta = {"type": "text_delta", "text": text[at : at + 3]}
        events.append(event({"type": "content_block_delta", "index": 0, "delta": delta}))
    events.append(event({"type": "content_block_stop", "index": 0}))
    events.append(event({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}))
    return b"".join(events) + event({"type": "message_stop"})


ANTHROPIC_REPLIES: dict[
    str, tuple[Callable[[str], list[dict[str, Any]]], Callable[[str], bytes]]
] = {
    "content[text].text": (lambda t: [{"type": "text", "text": t}], text_stream),
    "content[thinking].thinking (signature emptied when edited)": (
        lambda t: reply_fields.anthropic_content("thinking", t),
        lambda t: reply_fields.anthropic_stream("thinking", t),
    ),
    "content[tool_use].input strings": (
        lambda t: [{"type": "tool_use", "id": "t1", "name": "save", "input": json.loads(t)}],
        lambda t: tool_arguments.anthropic_stream(t, 4),
    ),
    "content[text].citations[].cited_text": (
        lambda t: reply_fields.anthropic_content("citation", t),
        lambda t: reply_fields.anthropic_stream("citation", t),
    ),
    "content[text].citations[web_search_result_location].url, .title, .cited_text": (
        lambda t: reply_fields.anthropic_content("web_search_citation", t),
        lambda t: reply_fields.anthropic_stream("web_search_citation", t),
    ),
    "content[<server tool result>] strings": (
        lambda t: reply_fields.anthropic_content("server_tool_result", t),
        lambda t: reply_fields.anthropic_stream("server_tool_result", t),
    ),
    "content[<unknown type>] strings (mcp_tool_use, a newer API's; and its deltas)": (
        lambda t: [{"type": "text", "text": "ok"}, {"type": "x_future", "body": {"words": t}}],
        lambda t: unknown_block_stream(t),
    ),
}


def unknown_block_stream(text: str) -> bytes:
    """A block of a type this version does not know, its text in its own deltas."""
    opening = {"type": "x_future", "body": {"words": ""}}
    deltas = [{"type": "x_future_delta", "words": text[at : at + 9]} for at in (0, 9)]
    stream = text_stream("ok").split(b"event: content_block_stop", 1)
    events = [
        f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()
        for name, payload in (
            (
                "content_block_start",
                {"type": "content_block_start", "index": 1, "content_block": opening},
            ),
            *(
                ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": d})
                for d in (*deltas, {"type": "x_future_delta", "words": text[18:]})
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        )
    ]
    return (
        stream[0]
        + b"event: content_block_stop"
        + stream[1].replace(b"event: message_delta", b"".join(events) + b"event: message_delta", 1)
    )


def test_every_anthropic_reply_row_has_a_scenario() -> None:
    assert set(ANTHROPIC_REPLIES) == rows(anthropic_format.COVERAGE, "reply")


def anthropic_reply_text(field: str) -> str:
    return ARGUMENTS if "input" in field else TEXT


@pytest.mark.parametrize("field", ANTHROPIC_REPLIES)
def test_anthropic_reply_field_reaches_the_sdk_redacted(engine: guard.Guard, field: str) -> None:
    content, _ = ANTHROPIC_REPLIES[field]
    upstream = Upstream(message(content(anthropic_reply_text(field))))
    result = anthropic_create(anthropic_client(engine, upstream), {})
    seen = json.dumps(result.model_dump(warnings=False), ensure_ascii=False)
    assert LEAK not in seen and REDACTED in seen


@pytest.mark.parametrize("field", ANTHROPIC_REPLIES)
def test_anthropic_streamed_reply_field_reaches_the_sdk_redacted(
    engine: guard.Guard, field: str
) -> None:
    _, stream = ANTHROPIC_REPLIES[field]
    upstream = Upstream(stream(anthropic_reply_text(field)), sse=True)
    events = list(anthropic_create(anthropic_client(engine, upstream), {}, stream=True))
    seen = json.dumps([event.model_dump(warnings=False) for event in events], ensure_ascii=False)
    assert LEAK not in seen and REDACTED in seen


# -- what the guard sees is what the upstream gets -----------------------------------------


@pytest.mark.parametrize(
    ("package", "url", "shape"),
    [
        (httpx, "http://upstream.test/v1/chat/completions", "openai"),
        (httpx2, "http://upstream.test/v1/messages", "anthropic"),
    ],
)
def test_a_repeated_key_is_a_400_in_the_api_shape(
    engine: guard.Guard, package: Any, url: str, shape: str
) -> None:
    upstream = Upstream(b"{}")
    client = package.Client(transport=engine.transport(package.MockTransport(upstream)))
    body = (
        b'{"model":"m","max_tokens":5,"messages":[{"role":"user",'
        b'"content":"my key AKIAABCDEFGHIJKLMNOP","content":"hi"}]}'
    )
    response = client.post(url, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and upstream.received == []
    error = response.json()["error"]
    assert "repeats 'content'" in error["message"] and AWS not in response.text
    assert (error["type"] == "invalid_request_error") and (
        shape == "openai" or response.json()["type"] == "error"
    )


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_the_proxy_refuses_a_repeated_key(
    upstream_proxy: Any, fake_upstream: Any, path: str
) -> None:
    """newuser-trial §4.2: the secret in the first ``content`` reached the upstream."""
    body = (
        b'{"model":"m","max_tokens":5,"messages":[{"role":"user",'
        b'"content":"my key AKIAABCDEFGHIJKLMNOP","content":"hi"}]}'
    )
    response = httpx.post(
        upstream_proxy.url + path, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "repeats 'content'" in response.json()["error"]["message"]
    assert fake_upstream.requests == [] and AWS not in response.text
