"""Every body and stream event guardwire itself renders validates against the official
SDKs' own pydantic models (strict validation, not the SDKs' lenient ``construct``): the
demo model's replies in all three APIs, streamed or not, with text and with tool calls.

A suite that checks wire shapes with the SDK types must find nothing missing: a field
the SDK declares required (``usage.input_tokens_details.cache_write_tokens`` in the
Responses API, say) is there.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import httpx
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import BaseModel, TypeAdapter

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

TOOL_PROMPT = "call get_weather please"
PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
CHAT_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": PARAMETERS}}
RESPONSES_TOOL = {"type": "function", "name": "get_weather", "parameters": PARAMETERS}
ANTHROPIC_TOOL = {"name": "get_weather", "input_schema": PARAMETERS}


def _events_by_type(union: Any) -> dict[str, type[BaseModel]]:
    """The members of an SDK's discriminated event union, by their ``type`` literal."""
    members = typing.get_args(typing.get_args(union)[0])
    return {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in members}


RESPONSES_EVENTS = _events_by_type(ResponseStreamEvent)
ANTHROPIC_EVENTS = TypeAdapter(RawMessageStreamEvent)


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) of each server-sent event."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        events.append((name, "\n".join(data)))
    return events


def _post(server: ProxyServer, path: str, body: dict[str, Any]) -> httpx.Response:
    response = httpx.post(server.url + path, json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("prompt", ["Hello there", TOOL_PROMPT])
def test_chat_completions_validate(demo_proxy: ProxyServer, prompt: str) -> None:
    body: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": prompt}],
        "tools": [CHAT_TOOL],
    }
    ChatCompletion.model_validate(_post(demo_proxy, "/v1/chat/completions", body).json())
    body |= {"stream": True, "stream_options": {"include_usage": True}}
    events = sse_events(_post(demo_proxy, "/v1/chat/completions", body).text)
    assert events[-1] == (None, "[DONE]")
    chunks = [ChatCompletionChunk.model_validate_json(data) for _, data in events[:-1]]
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[-1].usage is not None and not chunks[-1].choices
    finish = [c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason]
    assert finish == ["tool_calls" if prompt == TOOL_PROMPT else "stop"]


@pytest.mark.parametrize("prompt", ["Hello there", TOOL_PROMPT])
def test_responses_validate(demo_proxy: ProxyServer, prompt: str) -> None:
    body: dict[str, Any] = {"model": "gpt-4o-mini", "input": prompt, "tools": [RESPONSES_TOOL]}
    response = Response.model_validate(_post(demo_proxy, "/v1/responses", body).json())
    assert response.usage is not None
    events = sse_events(_post(demo_proxy, "/v1/responses", body | {"stream": True}).text)
    numbers = []
    for name, data in events:
        payload = json.loads(data)
        assert name == payload["type"]
        RESPONSES_EVENTS[payload["type"]].model_validate(payload)
        numbers.append(payload["sequence_number"])
    assert numbers == list(range(len(events)))
    assert events[0][0] == "response.created" and events[-1][0] == "response.completed"


@pytest.mark.parametrize("prompt", ["Hello there", TOOL_PROMPT])
def test_anthropic_messages_validate(demo_proxy: ProxyServer, prompt: str) -> None:
    body: dict[str, Any] = {
        "model": "claude-x",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": prompt}],
        "tools": [ANTHROPIC_TOOL],
    }
    message = Message.model_validate(_post(demo_proxy, "/v1/messages", body).json())
    assert message.stop_reason == ("tool_use" if prompt == TOOL_PROMPT else "end_turn")
    events = sse_events(_post(demo_proxy, "/v1/messages", body | {"stream": True}).text)
    kinds = []
    for name, data in events:
        payload = json.loads(data)
        assert name == payload["type"]
        if name != "ping":  # (the SDK skips pings; its union has no model for them)
            ANTHROPIC_EVENTS.validate_python(payload)
        kinds.append(name)
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]


@pytest.mark.parametrize("chunk_size", [3, 50])
@pytest.mark.parametrize(
    "text",
    [
        "the key is sk-proj-abcdefghijklmnopqrstuvwxyz0123 ok and more",  # redacted
        "here: -----BEGIN RSA PRIVATE KEY----- MIIB... and more text",  # blocked midway
    ],
)
def test_responses_stream_sequence_numbers_count_up_through_held_text(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, text: str, chunk_size: int
) -> None:
    """Text held back and released later (or replaced by an error event) must not
    repeat or skip a ``sequence_number``: the client sees 0, 1, 2... as from the API."""
    fake_upstream.enqueue(Script(text=text, chunk_size=chunk_size))
    body = {"model": "m", "input": "q", "stream": True}
    events = sse_events(_post(upstream_proxy, "/v1/responses", body).text)
    numbers = [json.loads(data)["sequence_number"] for _, data in events]
    assert numbers == list(range(len(events)))
    if "KEY-----" in text:
        assert events[-1][0] == "error"


def test_responses_stream_broken_off_ends_with_the_next_sequence_number(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(
        Script(text="the key is sk-proj-abcdefghijklmnopqrstuvwxyz0123", break_stream_after=9)
    )
    body = {"model": "m", "input": "q", "stream": True}
    events = sse_events(_post(upstream_proxy, "/v1/responses", body).text)
    numbers = [json.loads(data)["sequence_number"] for _, data in events]
    assert numbers == list(range(len(events)))
    assert events[-1][0] == "error"
