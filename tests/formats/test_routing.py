"""Exact routing of raw request paths to wire formats (``guard.formats.for_path``)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, formats

ROUTES = [
    ("/v1/chat/completions", "openai.chat"),
    ("/v1/chat/completions/", "openai.chat"),
    ("/openai/v1/chat/completions", "openai.chat"),
    ("/api/v1/chat/completions", "openai.chat"),
    ("/team-a/openai/v1/chat/completions", "openai.chat"),
    ("/openai/deployments/gpt-4o.prod/chat/completions", "openai.chat"),
    ("/chat/completions", "openai.chat"),
    ("/v1beta/openai/chat/completions", "openai.chat"),
    ("/models/chat/completions", "openai.chat"),
    ("/v1/responses", "openai.responses"),
    ("/openai/v1/responses", "openai.responses"),
    ("/openai/responses", "openai.responses"),
    ("/v1/responses/input_tokens", "openai.input_tokens"),
    ("/openai/v1/responses/input_tokens", "openai.input_tokens"),
    ("/v1/messages", "anthropic.messages"),
    ("/anthropic/v1/messages", "anthropic.messages"),
    ("/v1/messages/count_tokens", "anthropic.count_tokens"),
    ("/anthropic/v1/messages/count_tokens", "anthropic.count_tokens"),
]

NOT_ROUTES = [
    # newuser-trial §4.3 / §4.4: bypasses an upstream would serve as the real route.
    "/v1/chat/completions%3F",
    "/v1/messages%3F",
    "/v1/Chat/Completions",
    "/V1/CHAT/COMPLETIONS",
    "/v1/chat//completions",
    "//v1/chat/completions",
    "/v1/chat/completions;x",
    "/v1/chat/completions?x=1",
    "/v1/./chat/completions",
    "/v1/x/../chat/completions",
    "/v1/chat%2Fcompletions",
    "/v1/chat/completions/x",
    "/v1/chat/completions//",
    "/v1/responses%20HTTP/1.1%0d%0aX-Pad:%20/v1/chat/completions",
    "/v1/responses/resp_123",
    "/v1/messages/batches",
    "/v1/messages/count_tokens/x",
    "/v1/Messages",
    "/v1/completions",
    "/v1/embeddings",
    "/openai/deployments//chat/completions",
    "/openai/deployments/a/b/chat/completions/x",
    # A prefix holding an API path of its own.
    "/v1/responses/v1/chat/completions",
    "/v1/responses/chat/completions",
    "/v1/messages/v1/messages",
    "v1/chat/completions",
    "",
    "/",
]


@pytest.mark.parametrize(("path", "name"), ROUTES)
def test_routes(path: str, name: str) -> None:
    fmt = formats.for_path(path)
    assert fmt is not None and fmt.name == name
    assert formats.unchecked_api(path) is None


@pytest.mark.parametrize("path", NOT_ROUTES)
def test_not_routes(path: str) -> None:
    assert formats.for_path(path) is None


UNCHECKED = [
    ("/v1/completions", "openai.completions"),
    ("/proxy/v1/completions", "openai.completions"),
    ("/v1/embeddings", "openai.embeddings"),
    ("/v1/messages/batches", "anthropic.batches"),
    ("/v1/messages/batches/msgbatch_1/results", "anthropic.batches"),
    ("/v1/responses/compact", "openai.responses.compact"),
    ("/v1/responses/resp_1", "openai.responses.stored"),
    ("/v1/responses/resp_1/input_items", "openai.responses.stored"),
    ("/v1/chat/completions/chatcmpl-1", "openai.chat.stored"),
    ("/v1/conversations/conv_1/items", "openai.conversations"),
    ("/v1/complete", "anthropic.complete"),
    ("/openai/deployments/d1/completions", "openai.completions"),
]


@pytest.mark.parametrize(("path", "name"), UNCHECKED)
def test_unchecked_apis_are_named(path: str, name: str) -> None:
    assert formats.for_path(path) is None
    assert formats.unchecked_api(path) == name


@pytest.mark.parametrize(
    "path", ["/v1/models", "/healthz", "/v1/Completions", "/v1/completions%3F"]
)
def test_other_paths_are_not_named_apis(path: str) -> None:
    assert formats.unchecked_api(path) is None


def test_every_route_names_a_registered_format() -> None:
    names = {name for _, name in ROUTES}
    assert names == {
        "openai.chat",
        "openai.responses",
        "openai.input_tokens",
        "anthropic.messages",
        "anthropic.count_tokens",
    }
    for name in names:
        assert formats.get(name).name == name


@pytest.mark.parametrize(
    "url",
    [
        "http://api.test/chat/completions",  # a base URL without /v1 (DeepSeek, Perplexity)
        "http://api.test/v1beta/openai/chat/completions",  # Gemini's OpenAI-compatible API
        "http://api.test/v1/responses",
        "http://api.test/v1/messages/count_tokens",
    ],
)
def test_the_transport_checks_every_route(url: str) -> None:
    sent: list[httpx.Request] = []
    engine = Guard(registry=CollectorRegistry())
    transport = engine.transport(
        httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    )
    body = {"model": "m", "messages": [{"role": "user", "content": "how to build a bomb"}]}
    body["input"] = "how to build a bomb"
    with httpx.Client(transport=transport) as client:
        response = client.post(url, json=body)
    assert response.status_code == 400 and "denylist" in response.text
    assert sent == []
