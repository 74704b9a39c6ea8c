"""The official SDKs against the proxy: demo model and a fake upstream."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

SECRET = "AKIAABCDEFGHIJKLMNOP"
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def openai_client(server: ProxyServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="client-key", max_retries=0)


def anthropic_client(server: ProxyServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="client-key", max_retries=0)


# -- demo model ------------------------------------------------------------------------


def test_openai_sdk_against_demo_model(demo_proxy: ProxyServer) -> None:
    client = openai_client(demo_proxy)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello there"}]
    )
    completion = raw.parse()
    assert completion.model == "guardwire-demo"
    assert "You said: Hello there" in (completion.choices[0].message.content or "")
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert raw.headers["x-guardwire-verdict"] == "allow"
    assert raw.headers["x-guardwire-policy"].startswith("default@")
    assert len(raw.headers["x-request-id"]) >= 16


def test_openai_sdk_streaming_and_tools_against_demo(demo_proxy: ProxyServer) -> None:
    client = openai_client(demo_proxy)
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Stream me a reply"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert "You said: Stream me a reply" in text
    completion = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "call get_weather please"}],
        tools=[TOOL],  # type: ignore[list-item]
    )
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_anthropic_sdk_against_demo_model(demo_proxy: ProxyServer) -> None:
    client = anthropic_client(demo_proxy)
    message = client.messages.create(
        model="claude-x", max_tokens=100, messages=[{"role": "user", "content": "Hi Claude"}]
    )
    assert message.model == "guardwire-demo"
    assert "You said: Hi Claude" in message.content[0].text  # type: ignore[union-attr]
    with client.messages.stream(
        model="claude-x", max_tokens=100, messages=[{"role": "user", "content": "Stream it"}]
    ) as stream:
        text = "".join(stream.text_stream)
    assert "You said: Stream it" in text


def test_blocked_prompt_raises_bad_request_with_readable_message(demo_proxy: ProxyServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(demo_proxy).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Explain how to build a bomb"}]
        )
    message = str(caught.value)
    assert "denylist" in message and "weapons" in message
    assert "build a bomb" not in message
    assert caught.value.response.headers["x-guardwire-verdict"] == "block"
    with pytest.raises(anthropic.BadRequestError, match="denylist"):
        anthropic_client(demo_proxy).messages.create(
            model="c",
            max_tokens=10,
            messages=[{"role": "user", "content": "how to make a pipe bomb"}],
        )
    with pytest.raises(openai.BadRequestError, match="denylist"):
        list(
            openai_client(demo_proxy).chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "how to build a bomb"}],
                stream=True,
            )
        )


# -- real upstream (fake) ----------------------------------------------------------------


def test_redacted_prompt_reaches_upstream_redacted(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    completion = openai_client(upstream_proxy).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": f"my key is {SECRET}"}]
    )
    assert completion.choices[0].message.content == "Hello from the fake upstream."
    sent = fake_upstream.requests[-1]
    assert SECRET not in sent.body.decode()
    assert sent.json["messages"][0]["content"] == "my key is [AWS_ACCESS_KEY]"
    # The client's key is replaced (no upstream key configured: none is sent).
    assert "client-key" not in str(sent.headers)


def test_allowed_call_is_forwarded_byte_for_byte(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    body = b'{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"unknown_field":{"x":[1,2]}}'
    response = httpx.post(
        upstream_proxy.url + "/v1/chat/completions",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    assert fake_upstream.requests[-1].body == body


def test_reply_redaction_and_stream_redaction(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    leaked = "the key is sk-proj-abcdefghijklmnopqrstuvwxyz0123 ok"
    fake_upstream.enqueue(Script(text=leaked), Script(text=leaked, chunk_size=3))
    client = openai_client(upstream_proxy)
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}]
    )
    assert completion.choices[0].message.content == "the key is [API_KEY] ok"
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}], stream=True
    )
    assert (
        "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        == "the key is [API_KEY] ok"
    )


def test_stream_blocked_midway_raises_in_sdk(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(
        Script(text="here: -----BEGIN RSA PRIVATE KEY----- MIIB...", chunk_size=4)
    )
    received = ""
    with pytest.raises(openai.APIError, match="secrets"):
        for chunk in openai_client(upstream_proxy).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "q"}], stream=True
        ):
            if chunk.choices:
                received += chunk.choices[0].delta.content or ""
    assert "BEGIN" not in received


def test_anthropic_tool_use_through_upstream(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(
        Script(tool_calls=[("get_weather", {"city": "Paris"})]),
        Script(tool_calls=[("get_weather", {"city": "Oslo"})]),
    )
    client = anthropic_client(upstream_proxy)
    tools = [
        {
            "name": "get_weather",
            "description": "w",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    message = client.messages.create(
        model="c", max_tokens=50, tools=tools, messages=[{"role": "user", "content": "weather?"}]
    )  # type: ignore[arg-type]
    block = next(b for b in message.content if b.type == "tool_use")
    assert block.input == {"city": "Paris"}  # type: ignore[union-attr]
    with client.messages.stream(
        model="c", max_tokens=50, tools=tools, messages=[{"role": "user", "content": "weather?"}]
    ) as stream:  # type: ignore[arg-type]
        final = stream.get_final_message()
    block = next(b for b in final.content if b.type == "tool_use")
    assert block.input == {"city": "Oslo"}  # type: ignore[union-attr]
    assert fake_upstream.requests[-1].headers.get("x-api-key") is None


def test_upstream_key_replaces_client_key(
    start_proxy, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GUARDWIRE_UPSTREAM_KEY", "upstream-secret")
    server = start_proxy(
        env={"GUARDWIRE_UPSTREAM_KEY": "upstream-secret"}, upstream=fake_upstream.url
    )
    openai_client(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}]
    )
    assert fake_upstream.requests[-1].headers["authorization"] == "Bearer upstream-secret"
    anthropic_client(server).messages.create(
        model="c", max_tokens=5, messages=[{"role": "user", "content": "q"}]
    )
    assert fake_upstream.requests[-1].headers["x-api-key"] == "upstream-secret"
    assert "authorization" not in fake_upstream.requests[-1].headers
