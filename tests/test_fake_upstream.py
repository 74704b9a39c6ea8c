"""The fake upstream speaks real OpenAI / Anthropic wire formats and injects faults."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.fake_upstream import FakeUpstream, Script

# What a stream cut mid-body raises: openai wraps the transport error, while anthropic
# 2.x lets its HTTP library's (httpx2) error through unwrapped.
STREAM_CUT: tuple[type[Exception], ...] = (
    openai.APIConnectionError,
    anthropic.APIConnectionError,
    httpx.TransportError,
)
try:
    import httpx2

    STREAM_CUT += (httpx2.TransportError,)
except ImportError:  # older anthropic SDKs use httpx
    pass

WEATHER = ("get_weather", {"city": "Paris", "unit": "celsius"})
PROMPT = "What is the weather in Paris?"
MESSAGES: Any = [{"role": "user", "content": PROMPT}]  # Any: fits both SDKs' TypedDicts


@pytest.fixture(scope="module")
def server() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture
def up(server: FakeUpstream) -> FakeUpstream:
    server.reset()
    return server


@pytest.fixture
def oai(up: FakeUpstream) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=up.url + "/v1", api_key="x", max_retries=0) as client:
        yield client


@pytest.fixture
def ant(up: FakeUpstream) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=up.url, api_key="x", max_retries=0) as client:
        yield client


@pytest.fixture
def hx(up: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=up.url) as client:
        yield client


def raw_request(body: bytes, connection: bytes = b"keep-alive") -> bytes:
    """A complete HTTP/1.1 chat completion request."""
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: %s\r\n"
    return head % connection + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def test_openai_non_stream_text_and_recording(up: FakeUpstream, oai: openai.OpenAI) -> None:
    resp = oai.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert resp.object == "chat.completion"
    assert resp.model == "gpt-test"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].message.content == up.reply_text
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    assert resp.usage.prompt_tokens == len(PROMPT) // 4 + 1
    assert resp.usage.completion_tokens == len(up.reply_text) // 4 + 1

    (req,) = up.requests
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.headers["authorization"] == "Bearer x"
    assert req.json["messages"] == MESSAGES
    assert json.loads(req.body) == req.json


def test_openai_stream_text_with_usage(up: FakeUpstream, oai: openai.OpenAI) -> None:
    up.enqueue(Script(text="streamed reply text", chunk_size=5, usage=(7, 3)))
    chunks = list(
        oai.chat.completions.create(
            model="gpt-test",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert all(c.object == "chat.completion.chunk" and c.model == "gpt-test" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed reply text"
    assert [c.choices[0].delta.content for c in chunks[1:5]] == ["strea", "med r", "eply ", "text"]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (7, 3)


def test_openai_tool_calls(up: FakeUpstream, oai: openai.OpenAI) -> None:
    up.enqueue(Script(tool_calls=[WEATHER]), Script(tool_calls=[WEATHER, ("noop", {})]))
    resp = oai.chat.completions.create(model="gpt-test", messages=MESSAGES)
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert (call.function.name, json.loads(call.function.arguments)) == WEATHER

    stream = oai.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        finish = chunk.choices[0].finish_reason or finish
        for delta in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(delta.index, {"name": "", "args": ""})
            assert delta.function is not None
            entry["name"] += delta.function.name or ""
            entry["args"] += delta.function.arguments or ""
    assert finish == "tool_calls"
    assert [(c["name"], json.loads(c["args"])) for c in calls.values()] == [WEATHER, ("noop", {})]


def test_anthropic_non_stream(up: FakeUpstream, ant: anthropic.Anthropic) -> None:
    up.enqueue(Script(), Script(text="Let me check.", tool_calls=[WEATHER]))
    msg = ant.messages.create(model="claude-test", max_tokens=64, messages=MESSAGES)
    assert (msg.type, msg.role, msg.model) == ("message", "assistant", "claude-test")
    assert msg.content[0].type == "text" and msg.content[0].text == up.reply_text
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None
    assert msg.usage.output_tokens == len(up.reply_text) // 4 + 1

    msg = ant.messages.create(model="claude-test", max_tokens=64, messages=MESSAGES)
    assert msg.stop_reason == "tool_use"
    text, tool = msg.content
    assert text.type == "text" and text.text == "Let me check."
    assert tool.type == "tool_use" and (tool.name, tool.input) == WEATHER
    assert "anthropic-version" in up.requests[0].headers
    assert up.requests[0].path == "/v1/messages"


def test_anthropic_stream_text_and_tool_use(up: FakeUpstream, ant: anthropic.Anthropic) -> None:
    up.enqueue(Script(text="Checking the weather now.", tool_calls=[WEATHER], usage=(11, 22)))
    with ant.messages.stream(model="claude-test", max_tokens=64, messages=MESSAGES) as stream:
        streamed_text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed_text == "Checking the weather now."
    assert final.stop_reason == "tool_use"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (11, 22)
    text, tool = final.content
    assert text.type == "text" and text.text == streamed_text
    assert tool.type == "tool_use" and (tool.name, tool.input) == WEATHER

    events = ant.messages.create(model="m", max_tokens=8, messages=MESSAGES, stream=True)
    kinds = [event.type for event in events]
    assert kinds[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_scripted_status_errors(
    up: FakeUpstream, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    up.enqueue(Script(status=500), Script(status=429), Script(status=500))
    with pytest.raises(openai.InternalServerError) as oai_err:
        oai.chat.completions.create(model="m", messages=MESSAGES)
    assert oai_err.value.status_code == 500
    assert isinstance(oai_err.value.body, dict) and oai_err.value.body["type"] == "server_error"
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    with pytest.raises(anthropic.InternalServerError) as ant_err:
        ant.messages.create(model="m", max_tokens=8, messages=MESSAGES)
    assert ant_err.value.body == {
        "type": "error",
        "error": {"type": "api_error", "message": "Scripted error 500"},
    }
    # The queue is drained: default behaviour resumes.
    resp = oai.chat.completions.create(model="m", messages=MESSAGES)
    assert resp.choices[0].message.content == up.reply_text


def test_body_override_and_finish_reason(up: FakeUpstream, oai: openai.OpenAI) -> None:
    up.enqueue(Script(status=400, body={"error": {"message": "custom", "type": "x"}}))
    up.enqueue(Script(text="cut", finish_reason="length"))
    with pytest.raises(openai.BadRequestError, match="custom"):
        oai.chat.completions.create(model="m", messages=MESSAGES)
    resp = oai.chat.completions.create(model="m", messages=MESSAGES)
    assert resp.choices[0].finish_reason == "length"


def test_delay_and_stream_delay(up: FakeUpstream, hx: httpx.Client) -> None:
    up.enqueue(Script(delay=0.3))
    with pytest.raises(httpx.ReadTimeout):
        hx.post("/v1/chat/completions", json={"model": "m"}, timeout=0.05)

    up.enqueue(Script(delay=0.05, text="abcdef", chunk_size=2, stream_delay=0.02))
    started = time.monotonic()
    first_byte = None
    with hx.stream("POST", "/v1/chat/completions", json={"model": "m", "stream": True}) as resp:
        for _ in resp.iter_bytes():
            first_byte = first_byte or time.monotonic() - started
    elapsed = time.monotonic() - started
    assert first_byte is not None and first_byte >= 0.05
    assert elapsed >= 0.05 + 0.02 * 5  # 6 events follow the first one (3 text, finish, DONE)


def test_reset_and_broken_stream(
    up: FakeUpstream, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    up.enqueue(Script(reset=True), Script(reset=True, delay=0.05), Script(reset=True))
    with pytest.raises(openai.APIConnectionError):
        oai.chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(anthropic.APIConnectionError):
        ant.messages.create(model="m", max_tokens=8, messages=MESSAGES)
    with socket.create_connection(("127.0.0.1", up.port), timeout=2) as sock:
        sock.sendall(raw_request(b"{}"))
        with pytest.raises(ConnectionResetError):  # a real RST, not a polite FIN
            sock.recv(1024)

    up.enqueue(Script(break_stream_after=2))
    stream = oai.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(STREAM_CUT):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2

    up.enqueue(Script(break_stream_after=4, stream_delay=0.01))
    events = ant.messages.create(model="m", max_tokens=8, messages=MESSAGES, stream=True)
    kinds: list[str] = []
    with pytest.raises(STREAM_CUT):
        for event in events:
            kinds.append(event.type)
    # The 4 events sent include a ping, which the SDK does not surface.
    assert kinds == ["message_start", "content_block_start", "content_block_delta"]


def test_models_404_and_chunked_request(up: FakeUpstream, hx: httpx.Client) -> None:
    models = hx.get("/v1/models").json()
    assert models["object"] == "list" and models["data"][0]["object"] == "model"

    missing = hx.post("/v2/other?x=1", json={})
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "invalid_request_error"

    payload = json.dumps({"model": "chunky", "messages": MESSAGES}).encode()
    parts = iter([payload[:10], payload[10:]])
    resp = hx.post("/v1/chat/completions", content=parts)
    assert resp.json()["model"] == "chunky"
    assert up.requests[-1].headers["transfer-encoding"] == "chunked"
    assert up.requests[-1].body == payload
    assert (up.requests[1].path, up.requests[1].query) == ("/v2/other", "x=1")


def test_pipelined_requests_answer_in_order(up: FakeUpstream) -> None:
    up.enqueue(Script(delay=0.05, text="first"), Script(text="second"))
    with socket.create_connection(("127.0.0.1", up.port), timeout=2) as sock:
        body = b'{"model": "m"}'
        sock.sendall(raw_request(body) + raw_request(body, connection=b"close"))
        data = chunk = sock.recv(65536)
        while chunk:  # until the server closes after the second reply
            chunk = sock.recv(65536)
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert data.index(b'"first"') < data.index(b'"second"')
    assert len(up.requests) == 2


def test_port_in_use_raises(server: FakeUpstream) -> None:
    with pytest.raises(OSError):
        FakeUpstream(port=server.port).start()
