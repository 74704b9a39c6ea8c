"""D2: nothing reaches the upstream unchecked unless the pass-through allow-list says so."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from guard.proxy.routing import Kind, RouteTable, Target, parse_route_pattern
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

BOMB = {"model": "m", "messages": [{"role": "user", "content": "how to build a bomb"}]}


def no_bomb_upstream(upstream: FakeUpstream) -> bool:
    return all(b"bomb" not in request.body for request in upstream.requests)


def test_responses_api_is_not_forwarded_unchecked(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    """R13: /v1/responses went upstream unchecked with the proxy's key."""
    response = httpx.post(
        upstream_proxy.url + "/v1/responses",
        json={"model": "m", "input": "how to build a bomb"},
        timeout=5,
    )
    # 400 once the Responses format guards it; until then a 404 naming the config key.
    assert response.status_code in (400, 404), response.text
    assert no_bomb_upstream(fake_upstream)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/completions",
        "/v1/Chat/Completions",
        "/V1/CHAT/COMPLETIONS",
        "/v1/chat/completions;x",
        "/v1/messages/batches",
        "/v1/embeddings",
    ],
)
def test_model_text_on_other_routes_never_goes_upstream_unchecked(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, path: str
) -> None:
    response = httpx.post(upstream_proxy.url + path, json=BOMB, timeout=5)
    assert response.status_code in (400, 404), response.text
    assert no_bomb_upstream(fake_upstream)


def test_known_unchecked_api_404_names_the_config_key(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    response = httpx.post(upstream_proxy.url + "/v1/completions", json=BOMB, timeout=5)
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "passthrough" in message and "/v1/completions" not in message
    assert fake_upstream.requests == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/files"),
        ("DELETE", "/v1/files/file-abc"),
        ("GET", "/v1/organization/admin_api_keys"),
        ("POST", "/v1/models"),
        ("GET", "/v1/Models"),
        ("GET", "/v1/models/"),
    ],
)
def test_default_allow_list_is_get_models_only(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, method: str, path: str
) -> None:
    response = httpx.request(method, upstream_proxy.url + path, timeout=5)
    assert response.status_code == 404
    assert fake_upstream.requests == []
    listing = httpx.get(upstream_proxy.url + "/v1/models", timeout=5)
    assert listing.status_code == 200
    assert [(r.method, r.path) for r in fake_upstream.requests] == [("GET", "/v1/models")]


def test_configured_routes_pass_through_and_nothing_else(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    server = start_proxy(
        upstream=fake_upstream.url, passthrough=["GET /v1/files/*", "POST /v1/completions"]
    )
    assert httpx.get(server.url + "/v1/files/file-abc", timeout=5).status_code == 404  # fake's
    assert [r.path for r in fake_upstream.requests] == ["/v1/files/file-abc"]
    for path in ("/v1/files/file-abc/content", "/v1/files/%2E%2E", "/v1/files/..", "/v1/models"):
        assert httpx.get(server.url + path, timeout=5).status_code == 404
    assert len(fake_upstream.requests) == 1
    httpx.post(server.url + "/v1/completions", json={"model": "m", "prompt": "p"}, timeout=5)
    assert [r.path for r in fake_upstream.requests][-1] == "/v1/completions"


def test_guarded_routes_stay_guarded_even_if_listed(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    server = start_proxy(upstream=fake_upstream.url, passthrough=["POST /v1/chat/completions"])
    response = httpx.post(server.url + "/v1/chat/completions", json=BOMB, timeout=5)
    assert response.status_code == 400 and no_bomb_upstream(fake_upstream)


def test_operations_endpoints_answer_get_only(demo_proxy: ProxyServer) -> None:
    assert httpx.get(demo_proxy.url + "/healthz", timeout=5).status_code == 200
    assert httpx.post(demo_proxy.url + "/healthz", timeout=5).status_code == 404
    assert httpx.post(demo_proxy.url + "/metrics", timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("GET /v1/models", "/v1/models", True),
        ("GET /v1/models", "/v1/models/", False),
        ("GET /v1/models", "/v1/Models", False),
        ("GET /v1/files/*", "/v1/files/file-abc", True),
        ("GET /v1/files/*", "/v1/files/", False),
        ("GET /v1/files/*", "/v1/files/a%2Fb", False),
        ("GET /v1/files/*", "/v1/files/..", False),
        ("GET /v1/files/*", "/v1/files/a;b", False),
        ("GET /v1/files/*", "/v1/files/a/b", False),
        ("GET /v1/files/**", "/v1/files/a/content", True),
        ("GET /v1/files/**", "/v1/files", False),
        ("GET /v1/files/**", "/v1/files/a/../../admin", False),
    ],
)
def test_route_patterns(pattern: str, path: str, matches: bool) -> None:
    assert parse_route_pattern(pattern).matches("GET", path) is matches


def test_route_table_prefers_guarded_routes() -> None:
    table = RouteTable(["POST /v1/chat/completions", "GET /v1/models"])
    assert table.route("POST", Target("/v1/chat/completions", "")).kind is Kind.MODEL_CALL
    assert table.route("GET", Target("/v1/models", "")).kind is Kind.PASSTHROUGH
    assert table.route("GET", Target("/metrics", "")).kind is Kind.METRICS
    assert table.route("GET", Target("/v1/files", "")).kind is Kind.NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path", "shape"),
    [
        ("GET", "/v1/chat/completions", "openai"),
        ("PUT", "/v1/chat/completions", "openai"),
        ("DELETE", "/v1/messages", "anthropic"),
    ],
)
def test_other_methods_on_model_apis_get_405_in_the_apis_shape(
    demo_proxy: ProxyServer, method: str, path: str, shape: str
) -> None:
    """newuser-trial §4.3: a 404 in the OpenAI shape even for /v1/messages."""
    response = httpx.request(method, demo_proxy.url + path, timeout=5)
    assert response.status_code == 405
    body = response.json()
    assert (body.get("type") == "error") is (shape == "anthropic")
