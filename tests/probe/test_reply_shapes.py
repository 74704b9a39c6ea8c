"""Complete replies in shapes the guard did not read must still be checked: a chat
message whose ``content`` is a list of parts (what some OpenAI-compatible servers send,
and what the openai SDK hands over unchanged), and an Anthropic content block of a type
this version does not know (a newer API's). Before, their text reached the client
unchecked (a private key passed a policy that blocks it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY----- MIIBxyz"
API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"


def _chat(content: Any) -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }


def _message(block: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": "ok"}, block],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


CASES: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "chat content parts": ("/v1/chat/completions", lambda t: _chat([{"type": "text", "text": t}])),
    "anthropic unknown block": (
        "/v1/messages",
        lambda t: _message({"type": "future_block", "id": "b1", "body": {"text": t}}),
    ),
    "anthropic mcp_tool_use": (
        "/v1/messages",
        lambda t: _message(
            {
                "type": "mcp_tool_use",
                "id": "b1",
                "name": "run",
                "server_name": "s",
                "input": {"q": t},
            }
        ),
    ),
}


def _ask(proxy: ProxyServer, path: str) -> httpx.Response:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "q"}]}
    if path == "/v1/messages":
        body["max_tokens"] = 10
    return httpx.post(proxy.url + path, json=body, timeout=10)


@pytest.mark.parametrize("case", CASES)
def test_text_in_unread_reply_shapes_is_blocked(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, case: str
) -> None:
    path, reply = CASES[case]
    fake_upstream.enqueue(Script(body=reply(PRIVATE_KEY)))
    response = _ask(upstream_proxy, path)
    assert response.status_code == 400, response.text
    assert "PRIVATE KEY" not in response.text and "secrets" in response.text


@pytest.mark.parametrize("case", CASES)
def test_text_in_unread_reply_shapes_is_redacted_in_place(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, case: str
) -> None:
    path, reply = CASES[case]
    fake_upstream.enqueue(Script(body=reply(f"the key is {API_KEY} ok")))
    response = _ask(upstream_proxy, path)
    assert response.status_code == 200, response.text
    assert API_KEY not in response.text
    assert response.json() == reply("the key is [API_KEY] ok")


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _anthropic_stream(block: dict[str, Any], delta: dict[str, Any]) -> list[bytes]:
    message = {"id": "m", "type": "message", "role": "assistant", "model": "m", "content": []}
    usage = {"input_tokens": 1, "output_tokens": 0}
    return [
        _event("message_start", {"type": "message_start", "message": message | {"usage": usage}}),
        _event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": block},
        ),
        _event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
        _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
        _event("message_stop", {"type": "message_stop"}),
    ]


@pytest.mark.parametrize(
    ("block", "delta"),
    [
        (
            {"type": "future_block", "body": {"words": "{}"}},
            {"type": "future_delta", "words": "ok"},
        ),
        (
            {"type": "future_block", "body": {"words": "ok"}},
            {"type": "future_delta", "words": "{}"},
        ),
    ],
)
def test_an_anthropic_stream_never_releases_an_unknown_block_or_delta_unchecked(
    upstream_proxy: ProxyServer,
    fake_upstream: FakeUpstream,
    block: dict[str, Any],
    delta: dict[str, Any],
) -> None:
    for text, blocked in ((PRIVATE_KEY, True), (f"key {API_KEY} ok", False)):
        filled = json.loads(json.dumps([block, delta]).replace("{}", text.replace('"', "")))
        fake_upstream.enqueue(Script(events=_anthropic_stream(*filled)))
        body = {"model": "m", "max_tokens": 10, "stream": True}
        body["messages"] = [{"role": "user", "content": "q"}]
        response = httpx.post(upstream_proxy.url + "/v1/messages", json=body, timeout=10)
        assert "PRIVATE KEY" not in response.text and API_KEY not in response.text
        assert ("event: error" in response.text) is blocked
        if not blocked:  # (a delta's field streams like text: it may go out in pieces)
            assert "[API_KEY]" in response.text


def _chat_stream(content: Any) -> list[bytes]:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    first = {"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": None}
    last = {"index": 0, "delta": {}, "finish_reason": "stop"}
    return [
        f"data: {json.dumps(chunk | {'choices': [first]})}\n\n".encode(),
        f"data: {json.dumps(chunk | {'choices': [last]})}\n\n".encode(),
        b"data: [DONE]\n\n",
    ]


def test_a_chat_stream_never_releases_content_parts_unchecked(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    for text, blocked in ((PRIVATE_KEY, True), (f"key {API_KEY} ok", False)):
        fake_upstream.enqueue(Script(events=_chat_stream([{"type": "text", "text": text}])))
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]}
        response = httpx.post(upstream_proxy.url + "/v1/chat/completions", json=body, timeout=10)
        assert "PRIVATE KEY" not in response.text and API_KEY not in response.text
        assert ('"error"' in response.text) is blocked
        if not blocked:  # (a part's text streams like content: it may go out in pieces)
            assert "[API_KEY]" in response.text


def _future_item(text: str) -> dict[str, Any]:
    return {"type": "future_item", "id": "f1", "status": "completed", "body": {"words": text}}


def _responses_stream(item: dict[str, Any]) -> list[bytes]:
    response = {"id": "r", "object": "response", "model": "m", "output": []}
    done = response | {"status": "completed", "output": [item]}
    started = item | {"status": "in_progress"}
    return [
        _event("response.created", {"type": "response.created", "sequence_number": 0,
                                     "response": response | {"status": "in_progress"}}),
        _event("response.output_item.added", {"type": "response.output_item.added",
                                              "sequence_number": 1, "output_index": 0, "item": started}),
        _event("response.output_item.done", {"type": "response.output_item.done",
                                             "sequence_number": 2, "output_index": 0, "item": item}),
        _event("response.completed", {"type": "response.completed", "sequence_number": 3,
                                      "response": done}),
    ]  # fmt: skip


@pytest.mark.parametrize("stream", [False, True])
def test_a_responses_output_item_of_an_unknown_type_is_checked(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, stream: bool
) -> None:
    for text, blocked in ((PRIVATE_KEY, True), (f"key {API_KEY} ok", False)):
        item = _future_item(text)
        reply = {"id": "r", "object": "response", "status": "completed", "output": [item]}
        fake_upstream.enqueue(
            Script(events=_responses_stream(item)) if stream else Script(body=reply)
        )
        body = {"model": "m", "input": "q", "stream": stream}
        response = httpx.post(upstream_proxy.url + "/v1/responses", json=body, timeout=10)
        assert "PRIVATE KEY" not in response.text and API_KEY not in response.text
        if blocked:
            assert "secrets" in response.text
        else:
            assert response.status_code == 200 and "key [API_KEY] ok" in response.text


def test_a_key_split_across_unknown_anthropic_deltas_is_still_found(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    """Each delta's string was checked alone, so a key cut across three deltas of a type
    this version does not know went out whole; now a field streams like text does."""
    for text, blocked in ((PRIVATE_KEY, True), (f"key {API_KEY} ok", False)):
        pieces = [text[at : at + 9] for at in range(0, len(text), 9)]
        events = _anthropic_stream(
            {"type": "future_block", "body": {"words": ""}},
            {"type": "future_delta", "words": pieces[0]},
        )
        more = [
            _event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                           "delta": {"type": "future_delta", "words": piece}})
            for piece in pieces[1:]
        ]  # fmt: skip
        fake_upstream.enqueue(Script(events=[*events[:3], *more, *events[3:]]))
        body = {"model": "m", "max_tokens": 10, "stream": True}
        body["messages"] = [{"role": "user", "content": "q"}]
        response = httpx.post(upstream_proxy.url + "/v1/messages", json=body, timeout=10)
        assert ("event: error" in response.text) is blocked, response.text
        words = "".join(
            json.loads(line[6:])["delta"].get("words", "")
            for line in response.text.splitlines()
            if line.startswith("data: ") and '"content_block_delta"' in line
        )
        assert "PRIVATE KEY" not in words and API_KEY not in words
        if not blocked:
            assert words == "key [API_KEY] ok"


def test_a_key_split_across_streamed_chat_content_parts_is_still_found(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    """Each chunk's parts were checked alone, so a key cut across chunks went out whole;
    now a part's text streams like content does."""
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    for text, blocked in ((PRIVATE_KEY, True), (f"key {API_KEY} ok", False)):
        choices = [
            {"index": 0, "delta": {"content": [{"type": "text", "text": text[at : at + 9]}]}}
            for at in range(0, len(text), 9)
        ]
        choices.append({"index": 0, "delta": {}, "finish_reason": "stop"})
        events = [f"data: {json.dumps(chunk | {'choices': [c]})}\n\n".encode() for c in choices]
        fake_upstream.enqueue(Script(events=[*events, b"data: [DONE]\n\n"]))
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]}
        response = httpx.post(upstream_proxy.url + "/v1/chat/completions", json=body, timeout=10)
        assert ('"error"' in response.text) is blocked, response.text
        said = "".join(
            part.get("text", "")
            for line in response.text.splitlines()
            if line.startswith("data: {") and '"choices"' in line
            for choice in json.loads(line[6:])["choices"]
            for part in (choice["delta"].get("content") or [])
            if isinstance(part, dict)
        )
        assert "PRIVATE KEY" not in said and API_KEY not in said
        if not blocked:
            assert said == "key [API_KEY] ok"
