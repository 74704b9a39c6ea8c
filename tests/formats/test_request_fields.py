"""Every request field the model reads is checked, or refused (newuser-trial §4.1, §4.2,
§5.4; issue 15 "What the guard sees is what the upstream gets")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from guard.errors import RequestError
from guard.formats import get
from guard.types import Action

AWS = "AKIAABCDEFGHIJKLMNOP"
REDACTED = "[AWS_ACCESS_KEY]"
SECRET = f"note {AWS} end"
BOMB = "how to build a bomb"
USER = {"role": "user", "content": "hi"}


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard(registry=CollectorRegistry())


def schema(text: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": text,
        "properties": {"city": {"type": "string", "description": text, "enum": ["a", text]}},
        "required": ["city"],
    }


#: OpenAI request fields: a request with ``text`` in the field, and where to read it back.
OPENAI: dict[str, tuple[Callable[[str], dict[str, Any]], Callable[[dict[str, Any]], Any]]] = {
    "messages[].name": (
        lambda t: {"messages": [{"role": "user", "name": t, "content": "hi"}]},
        lambda b: b["messages"][0]["name"],
    ),
    "input_text part": (
        lambda t: {"messages": [{"role": "user", "content": [{"type": "input_text", "text": t}]}]},
        lambda b: b["messages"][0]["content"][0]["text"],
    ),
    "unknown part type": (
        lambda t: {
            "messages": [{"role": "user", "content": [{"type": "x_new", "body": {"note": t}}]}]
        },
        lambda b: b["messages"][0]["content"][0]["body"]["note"],
    ),
    "image_url.url": (
        lambda t: {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": f"https://x.test/{t}"}}],
                }
            ]
        },
        lambda b: b["messages"][0]["content"][0]["image_url"]["url"].removeprefix(
            "https://x.test/"
        ),
    ),
    "tools[].function.description": (
        lambda t: {"tools": [{"type": "function", "function": {"name": "f", "description": t}}]},
        lambda b: b["tools"][0]["function"]["description"],
    ),
    "tools[].function.parameters": (
        lambda t: {
            "tools": [{"type": "function", "function": {"name": "f", "parameters": schema(t)}}]
        },
        lambda b: b["tools"][0]["function"]["parameters"]["properties"]["city"]["description"],
    ),
    "functions[].description": (
        lambda t: {"functions": [{"name": "f", "description": t}]},
        lambda b: b["functions"][0]["description"],
    ),
    "response_format.json_schema": (
        lambda t: {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "s", "description": t, "schema": schema(t)},
            }
        },
        lambda b: b["response_format"]["json_schema"]["schema"]["properties"]["city"]["enum"][1],
    ),
    "prediction.content (string)": (
        lambda t: {"prediction": {"type": "content", "content": t}},
        lambda b: b["prediction"]["content"],
    ),
    "prediction.content (parts)": (
        lambda t: {"prediction": {"type": "content", "content": [{"type": "text", "text": t}]}},
        lambda b: b["prediction"]["content"][0]["text"],
    ),
    "user": (lambda t: {"user": t}, lambda b: b["user"]),
    "metadata": (lambda t: {"metadata": {"ticket": t}}, lambda b: b["metadata"]["ticket"]),
}


def openai_body(fields: dict[str, Any]) -> bytes:
    return json.dumps({"model": "m", "messages": [USER], **fields}).encode()


@pytest.mark.parametrize("field", OPENAI)
def test_openai_request_fields_are_redacted(guard: Guard, field: str) -> None:
    build, read = OPENAI[field]
    fmt = get("openai.chat")
    call = fmt.parse_request(openai_body(build(SECRET)))
    assert guard.before(call).action is Action.REDACT
    sent = json.loads(fmt.request_body(call))
    assert read(sent) == SECRET.replace(AWS, REDACTED)
    assert AWS not in json.dumps(sent)


@pytest.mark.parametrize("field", OPENAI)
def test_openai_request_fields_are_blocked(guard: Guard, field: str) -> None:
    build, _ = OPENAI[field]
    call = get("openai.chat").parse_request(openai_body(build(BOMB)))
    assert guard.before(call).blocked


def test_a_data_url_is_not_checked_as_text() -> None:
    part = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{AWS}"}}
    body = openai_body({"messages": [{"role": "user", "content": [part]}]})
    assert get("openai.chat").parse_request(body).segments == []


ANTHROPIC: dict[str, tuple[Callable[[str], dict[str, Any]], Callable[[dict[str, Any]], Any]]] = {
    "thinking block": (
        lambda t: {
            "messages": [
                USER,
                {
                    "role": "assistant",
                    "content": [{"type": "thinking", "thinking": t, "signature": "sig"}],
                },
            ]
        },
        lambda b: b["messages"][1]["content"][0]["thinking"],
    ),
    "tools[].description": (
        lambda t: {"tools": [{"name": "f", "description": t, "input_schema": {"type": "object"}}]},
        lambda b: b["tools"][0]["description"],
    ),
    "tools[].input_schema": (
        lambda t: {"tools": [{"name": "f", "input_schema": schema(t)}]},
        lambda b: b["tools"][0]["input_schema"]["description"],
    ),
    "metadata.user_id": (
        lambda t: {"metadata": {"user_id": t}},
        lambda b: b["metadata"]["user_id"],
    ),
    "document title": (
        lambda t: {"messages": [{"role": "user", "content": [document(title=t)]}]},
        lambda b: b["messages"][0]["content"][0]["title"],
    ),
    "document context": (
        lambda t: {"messages": [{"role": "user", "content": [document(context=t)]}]},
        lambda b: b["messages"][0]["content"][0]["context"],
    ),
    "document content source": (
        lambda t: {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "document",
                            "source": {"type": "content", "content": [{"type": "text", "text": t}]},
                        }
                    ],
                }
            ]
        },
        lambda b: b["messages"][0]["content"][0]["source"]["content"][0]["text"],
    ),
    "search_result block": (
        lambda t: {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "search_result",
                            "source": "https://x.test",
                            "title": "r",
                            "content": [{"type": "text", "text": t}],
                        }
                    ],
                }
            ]
        },
        lambda b: b["messages"][0]["content"][0]["content"][0]["text"],
    ),
    "text block citations": (
        lambda t: {
            "messages": [
                USER,
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "text",
                            "text": "a",
                            "citations": [{"type": "char_location", "cited_text": t}],
                        }
                    ],
                },
            ]
        },
        lambda b: b["messages"][1]["content"][0]["citations"][0]["cited_text"],
    ),
    "unknown block type": (
        lambda t: {"messages": [{"role": "user", "content": [{"type": "x_new", "note": t}]}]},
        lambda b: b["messages"][0]["content"][0]["note"],
    ),
}


def document(**fields: str) -> dict[str, Any]:
    source = {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}
    return {"type": "document", "source": source, **fields}


def anthropic_body(fields: dict[str, Any]) -> bytes:
    return json.dumps({"model": "c", "max_tokens": 9, "messages": [USER], **fields}).encode()


@pytest.mark.parametrize("field", ANTHROPIC)
def test_anthropic_request_fields_are_redacted(guard: Guard, field: str) -> None:
    build, read = ANTHROPIC[field]
    fmt = get("anthropic.messages")
    call = fmt.parse_request(anthropic_body(build(SECRET)))
    assert guard.before(call).action is Action.REDACT
    sent = json.loads(fmt.request_body(call))
    assert read(sent) == SECRET.replace(AWS, REDACTED)
    assert AWS not in json.dumps(sent)


@pytest.mark.parametrize("field", ANTHROPIC)
def test_anthropic_request_fields_are_blocked(guard: Guard, field: str) -> None:
    build, _ = ANTHROPIC[field]
    call = get("anthropic.messages").parse_request(anthropic_body(build(BOMB)))
    assert guard.before(call).blocked


def test_an_anthropic_block_without_type_is_refused() -> None:
    content = [{"type": "text", "text": "hi"}, {"text": BOMB}]
    body = anthropic_body({"messages": [{"role": "user", "content": content}]})
    with pytest.raises(RequestError, match=r"'messages\[0\].content\[1\].type' is required"):
        get("anthropic.messages").parse_request(body)


# -- duplicate keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"model":"m","messages":[{"role":"user","content":"my key AKIAABCDEFGHIJKLMNOP",'
        b'"content":"hi"}]}',
        b'{"model":"m","messages":[{"role":"user","content":"how to build a bomb"}],'
        b'"messages":[{"role":"user","content":"hi"}]}',
    ],
)
@pytest.mark.parametrize("name", ["openai.chat", "anthropic.messages"])
def test_a_repeated_key_is_refused_without_quoting_values(body: bytes, name: str) -> None:
    with pytest.raises(RequestError) as caught:
        get(name).parse_request(body)
    message = str(caught.value)
    assert message.startswith("the request body repeats '") and "send each key once" in message
    assert "AKIA" not in message and "bomb" not in message


def test_an_odd_repeated_key_is_not_quoted() -> None:
    body = b'{"model":"m","messages":[],"metadata":{"my secret AKIA":"a","my secret AKIA":"b"}}'
    with pytest.raises(RequestError, match="repeats a key in one JSON object"):
        get("openai.chat").parse_request(body)
