"""Credentials go where they belong; what the upstream says reaches the caller."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.proxy.raw_upstream import CHAT_REPLY, RawRequest, RawUpstream, json_response

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
MESSAGES = {"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "hello"}]}
ANTHROPIC_REPLY = {
    "id": "msg_raw",
    "type": "message",
    "role": "assistant",
    "model": "c",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}
UPSTREAM_HEADERS = (
    b"x-ratelimit-remaining-requests: 99\r\nx-ratelimit-reset-tokens: 6ms\r\n"
    b"openai-processing-ms: 12\r\nx-request-id: req_upstream_1\r\nretry-after: 3\r\n"
    b"anthropic-ratelimit-requests-remaining: 7\r\nrequest-id: req_anthropic_1\r\n"
    b"set-cookie: session=upstream\r\n"
)


def by_api(request: RawRequest) -> bytes:
    """Anthropic or OpenAI reply (complete or streamed), with the headers clients rely on."""
    body = json.loads(request.body or b"{}")
    anthropic = request.target.startswith(b"/v1/messages")
    if body.get("stream"):
        if anthropic:
            events = [
                {"type": "message_start", "message": {**ANTHROPIC_REPLY, "content": []}},
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
                {"type": "content_block_stop", "index": 0},
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
                {"type": "message_stop"},
            ]  # fmt: skip
            data = b"".join(
                b"event: %s\ndata: %s\n\n" % (e["type"].encode(), json.dumps(e).encode())
                for e in events
            )
        else:
            chunk = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}],
            }
            data = b"data: %s\n\ndata: [DONE]\n\n" % json.dumps(chunk).encode()
        return (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n%s\r\n%s"
            % (len(data), UPSTREAM_HEADERS, data)
        )
    return json_response(ANTHROPIC_REPLY if anthropic else CHAT_REPLY, headers=UPSTREAM_HEADERS)


@pytest.fixture
def upstream() -> RawUpstream:
    server = RawUpstream(by_api).start()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture
def both_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"OPENAI_API_KEY": "sk-o-key", "ANTHROPIC_API_KEY": "sk-ant-a-key"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_each_api_gets_its_own_providers_key(
    start_proxy: Callable[..., ProxyServer], upstream: RawUpstream, both_keys: dict[str, str]
) -> None:
    """newuser-trial §3.8: /v1/messages received the OpenAI key as x-api-key."""
    server = start_proxy(env=both_keys, upstream=upstream.url)
    assert httpx.post(server.url + "/v1/messages", json=MESSAGES, timeout=5).status_code == 200
    assert httpx.post(server.url + "/v1/chat/completions", json=CHAT, timeout=5).is_success
    messages, chat = upstream.requests
    assert messages.header(b"x-api-key") == b"sk-ant-a-key"
    assert messages.header(b"authorization") is None
    assert chat.header(b"authorization") == b"Bearer sk-o-key"
    assert chat.header(b"x-api-key") is None


def test_anthropic_pass_through_routes_get_x_api_key(
    start_proxy: Callable[..., ProxyServer], upstream: RawUpstream, both_keys: dict[str, str]
) -> None:
    """core review D20: auth: auto sent a Bearer token to Anthropic pass-through routes."""
    server = start_proxy(env=both_keys, upstream=upstream.url)
    httpx.get(server.url + "/v1/models", headers={"anthropic-version": "2023-06-01"}, timeout=5)
    httpx.get(server.url + "/v1/models", timeout=5)
    anthropic, openai_listing = upstream.requests
    assert anthropic.header(b"x-api-key") == b"sk-ant-a-key"
    assert anthropic.header(b"authorization") is None
    assert openai_listing.header(b"authorization") == b"Bearer sk-o-key"


def test_a_route_without_its_providers_key_gets_none(
    start_proxy: Callable[..., ProxyServer], upstream: RawUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o-key")
    server = start_proxy(env={"OPENAI_API_KEY": "sk-o-key"}, upstream=upstream.url)
    httpx.post(server.url + "/v1/messages", json=MESSAGES, timeout=5)
    sent = upstream.requests[-1]
    assert b"sk-o-key" not in b"".join(value for _, value in sent.headers)


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_headers_reach_the_client_on_guarded_200s(
    start_proxy: Callable[..., ProxyServer], upstream: RawUpstream, stream: bool
) -> None:
    server = start_proxy(upstream=upstream.url)
    for path, body in (("/v1/chat/completions", CHAT), ("/v1/messages", MESSAGES)):
        response = httpx.post(server.url + path, json={**body, "stream": stream}, timeout=5)
        assert response.status_code == 200, response.text
        headers = response.headers
        assert headers["x-ratelimit-remaining-requests"] == "99"
        assert headers["x-ratelimit-reset-tokens"] == "6ms"
        assert headers["openai-processing-ms"] == "12"
        assert headers["anthropic-ratelimit-requests-remaining"] == "7"
        assert headers["retry-after"] == "3"
        assert headers["request-id"] == "req_anthropic_1"
        assert headers["x-guardwire-upstream-request-id"] == "req_upstream_1"
        assert headers["x-request-id"] != "req_upstream_1"  # guardwire's own id
        assert "set-cookie" not in headers
        expected = "text/event-stream" if stream else "application/json"
        assert headers["content-type"].startswith(expected)


def test_azure_deployment_path_works_end_to_end(
    start_proxy: Callable[..., ProxyServer], upstream: RawUpstream, both_keys: dict[str, str]
) -> None:
    server = start_proxy(env=both_keys, upstream=upstream.url)
    client = openai.AzureOpenAI(
        azure_endpoint=server.url, api_version="2024-10-21", api_key="client-key", max_retries=0
    )
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices[0].message.content == "hello from raw"
    sent = upstream.requests[-1]
    assert sent.target == b"/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    assert sent.header(b"api-key") == b"sk-o-key"  # Azure's header, the proxy's key
    assert sent.header(b"authorization") is None
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "how to build a bomb"}]
        )
    assert len(upstream.requests) == 1
