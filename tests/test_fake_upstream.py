"""The fake upstream speaks real OpenAI / Anthropic wire formats and injects faults."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest
from fake_upstream import FakeUpstream, Script

# A stream cut mid-body: openai wraps the transport error, anthropic 2.x raises
# its HTTP library's (httpx2) error as is.
BROKEN_STREAM: tuple[type[Exception], ...] = (openai.APIConnectionError, httpx.TransportError)
try:
    import httpx2

    BROKEN_STREAM += (httpx2.TransportError,)
except ImportError:  # older anthropic SDKs use httpx
    pass

WEATHER = ("get_weather", {"city": "Paris", "unit": "celsius"})
MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


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


def test_openai_non_stream_text_and_recording(up: FakeUpstream, oai: openai.OpenAI) -> None:
    resp = oai.chat.completions.create(model="gpt-test", messages=MESSAGES)  # type: ignore[arg-type]
    assert resp.object == "chat.completion"
    assert resp.model == "gpt-test"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].message.content == up.reply_text
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
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
            messages=MESSAGES,  # type: ignore[arg-type]
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
    resp = oai.chat.completions.create(model="gpt-test", messages=MESSAGES)  # type: ignore[arg-type]
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert (call.function.name, json.loads(call.function.arguments)) == WEATHER

    stream = oai.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
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
    msg = ant.messages.create(model="claude-test", max_tokens=64, messages=MESSAGES)  # type: ignore[arg-type]
    assert (msg.type, msg.role, msg.model) == ("message", "assistant", "claude-test")
    assert msg.content[0].type == "text" and msg.content[0].text == up.reply_text
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None
    assert msg.usage.output_tokens == len(up.reply_text) // 4 + 1

    msg = ant.messages.create(model="claude-test", max_tokens=64, messages=MESSAGES)  # type: ignore[arg-type]
    assert msg.stop_reason == "tool_use"
    text, tool = msg.content
    assert text.type == "text" and text.text == "Let me check."
    assert tool.type == "tool_use" and (tool.name, tool.input) == WEATHER
    assert "anthropic-version" in up.requests[0].headers
    assert up.requests[0].path == "/v1/messages"


def test_anthropic_stream_text_and_tool_use(up: FakeUpstream, ant: anthropic.Anthropic) -> None:
    up.enqueue(Script(text="Checking the weather now.", tool_calls=[WEATHER], usage=(11, 22)))
    with ant.messages.stream(model="claude-test", max_tokens=64, messages=MESSAGES) as stream:  # type: ignore[arg-type]
        streamed_text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed_text == "Checking the weather now."
    assert final.stop_reason == "tool_use"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (11, 22)
    text, tool = final.content
    assert text.type == "text" and text.text == streamed_text
    assert tool.type == "tool_use" and (tool.name, tool.input) == WEATHER

    events = ant.messages.create(model="m", max_tokens=8, messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    kinds = [event.type for event in events]
    assert kinds[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_scripted_status_errors(
    up: FakeUpstream, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    up.enqueue(Script(status=500), Script(status=429), Script(status=500))
    with pytest.raises(openai.InternalServerError) as oai_err:
        oai.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert oai_err.value.status_code == 500
    assert isinstance(oai_err.value.body, dict) and oai_err.value.body["type"] == "server_error"
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    with pytest.raises(anthropic.InternalServerError) as ant_err:
        ant.messages.create(model="m", max_tokens=8, messages=MESSAGES)  # type: ignore[arg-type]
    assert ant_err.value.body == {
        "type": "error",
        "error": {"type": "api_error", "message": "Scripted error 500"},
    }
    # The queue is drained: default behaviour resumes.
    resp = oai.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert resp.choices[0].message.content == up.reply_text


def test_body_override_and_finish_reason(up: FakeUpstream, oai: openai.OpenAI) -> None:
    up.enqueue(Script(status=400, body={"error": {"message": "custom", "type": "x"}}))
    up.enqueue(Script(text="cut", finish_reason="length"))
    with pytest.raises(openai.BadRequestError, match="custom"):
        oai.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    resp = oai.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert resp.choices[0].finish_reason == "length"


def test_delay_and_stream_delay(up: FakeUpstream, up_url_client: httpx.Client) -> None:
    up.enqueue(Script(delay=0.5))
    with pytest.raises(httpx.ReadTimeout):
        up_url_client.post("/v1/chat/completions", json={"model": "m"}, timeout=0.1)

    up.enqueue(Script(delay=0.1, text="abcdef", chunk_size=2, stream_delay=0.05))
    started = time.monotonic()
    body = {"model": "m", "stream": True}
    with up_url_client.stream("POST", "/v1/chat/completions", json=body) as resp:
        first_byte = None
        for _ in resp.iter_bytes():
            first_byte = first_byte or time.monotonic() - started
    elapsed = time.monotonic() - started
    assert first_byte is not None and first_byte >= 0.1
    assert elapsed >= 0.1 + 0.05 * 5  # 6 events after the first one


def test_reset_and_broken_stream(
    up: FakeUpstream, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    up.enqueue(Script(reset=True), Script(reset=True, delay=0.05))
    with pytest.raises(openai.APIConnectionError):
        oai.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(anthropic.APIConnectionError):
        ant.messages.create(model="m", max_tokens=8, messages=MESSAGES)  # type: ignore[arg-type]

    up.enqueue(Script(break_stream_after=2))
    stream = oai.chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2

    up.enqueue(Script(break_stream_after=4, stream_delay=0.01))
    events = ant.messages.create(model="m", max_tokens=8, messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    kinds: list[str] = []
    with pytest.raises((anthropic.APIConnectionError, *BROKEN_STREAM)):
        for event in events:
            kinds.append(event.type)
    assert kinds == ["message_start", "content_block_start", "content_block_delta"]  # + ping


def test_models_404_and_chunked_request(up: FakeUpstream, up_url_client: httpx.Client) -> None:
    models = up_url_client.get("/v1/models").json()
    assert models["object"] == "list" and models["data"][0]["object"] == "model"

    missing = up_url_client.post("/v2/other?x=1", json={})
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "invalid_request_error"

    payload = json.dumps({"model": "chunky", "messages": MESSAGES}).encode()
    parts = iter([payload[:10], payload[10:]])
    resp = up_url_client.post("/v1/chat/completions", content=parts)
    assert resp.json()["model"] == "chunky"
    assert up.requests[-1].headers["transfer-encoding"] == "chunked"
    assert up.requests[-1].body == payload
    assert (up.requests[1].path, up.requests[1].query) == ("/v2/other", "x=1")


def test_pipelined_requests_answer_in_order(up: FakeUpstream) -> None:
    up.enqueue(Script(delay=0.1, text="first"), Script(text="second"))
    body = json.dumps({"model": "m"}).encode()
    request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
    with socket.create_connection(("127.0.0.1", up.port), timeout=2) as sock:
        sock.sendall((request % (len(body), body)) * 2)
        data = b""
        while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"}"):
            data += sock.recv(65536)
    assert data.index(b'"first"') < data.index(b'"second"')
    assert len(up.requests) == 2


@pytest.fixture
def up_url_client(up: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=up.url) as client:
        yield client
