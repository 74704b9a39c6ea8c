"""D1: the proxy forwards and routes on the raw, validated request target."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import httpx
import pytest

from guard.errors import RequestError
from guard.proxy.routing import request_target
from tests.e2e.fixtures import ProxyServer
from tests.proxy.raw_upstream import RawUpstream

BOMB = {"model": "m", "messages": [{"role": "user", "content": "how to build a bomb"}]}
HELLO = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}


def send_raw(
    server: ProxyServer, target: bytes, body: bytes = b"", method: bytes = b"POST"
) -> bytes:
    """One request with ``target`` exactly as given; returns the whole response."""
    head = (
        method + b" " + target + b" HTTP/1.1\r\nhost: proxy\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_crlf_in_the_path_smuggles_nothing(
    start_proxy: Callable[..., ProxyServer], raw_upstream: RawUpstream
) -> None:
    """R1: a %0d%0a target must not become a second request carrying the upstream key."""
    server = start_proxy(
        env={"UPKEY": "sk-UPSTREAM-SECRET-KEY"},
        upstreams={"default": {"url": raw_upstream.url, "api_key_env": "UPKEY"}},
    )
    body = json.dumps(BOMB).encode()
    target = (
        b"/v1/models%20HTTP/1.1%0d%0ax-injected:%201%0d%0acontent-length:%200%0d%0a%0d%0a"
        b"POST%20/v1/chat/completions%20HTTP/1.1%0d%0ahost:%20upstream%0d%0a"
        b"content-length:%20" + str(len(body)).encode() + b"%0d%0a"
        b"content-type:%20application/json%0d%0ax-pad:%20"
    )
    response = send_raw(server, target, body)
    assert status_of(response) == 404
    assert b"x-injected" not in bytes(raw_upstream.received).lower()
    assert raw_upstream.requests == []


def test_crlf_inside_a_model_route_stays_percent_encoded(
    start_proxy: Callable[..., ProxyServer], raw_upstream: RawUpstream
) -> None:
    server = start_proxy(upstream=raw_upstream.url)
    target = b"/v1/x%0d%0ax-injected:%201%0d%0a/chat/completions"
    send_raw(server, target, json.dumps(HELLO).encode())
    received = bytes(raw_upstream.received)
    assert b"\r\nx-injected" not in received.lower()
    for request in raw_upstream.requests:  # forwarded (if at all) byte for byte
        assert request.target == target


@pytest.mark.parametrize(
    "target", [b"/v1/chat/completions%3F", b"/v1/messages%3F", b"/v1/chat/completions%3Fx=1"]
)
def test_percent_encoded_question_mark_is_no_way_around_the_guard(
    start_proxy: Callable[..., ProxyServer], raw_upstream: RawUpstream, target: bytes
) -> None:
    """newuser-trial §4.4: ``%3F`` made the guarded route look like another one."""
    server = start_proxy(upstream=raw_upstream.url)
    response = send_raw(server, target, json.dumps(BOMB).encode())
    assert status_of(response) in (400, 404)
    assert all(b"bomb" not in request.body for request in raw_upstream.requests)


def test_query_string_reaches_the_upstream_on_model_calls(
    start_proxy: Callable[..., ProxyServer], raw_upstream: RawUpstream
) -> None:
    server = start_proxy(upstream=raw_upstream.url)
    response = httpx.post(
        server.url + "/v1/chat/completions?api-version=2024-10-21", json=HELLO, timeout=5
    )
    assert response.status_code == 200, response.text
    assert raw_upstream.requests[-1].target == b"/v1/chat/completions?api-version=2024-10-21"


def test_non_latin1_path_is_a_client_error_and_never_echoed(
    start_proxy: Callable[..., ProxyServer], raw_upstream: RawUpstream
) -> None:
    """R19: ``/v1/%E2%82%AC`` was a 500 (the decoded path was encoded as Latin-1)."""
    server = start_proxy(upstream=raw_upstream.url)
    for method in (b"GET", b"POST"):
        response = send_raw(server, b"/v1/%E2%82%AC", method=method)
        assert status_of(response) == 404
        assert b"%E2" not in response and "€".encode() not in response
    assert raw_upstream.requests == []


def test_not_found_never_echoes_the_path(demo_proxy: ProxyServer) -> None:
    response = httpx.get(demo_proxy.url + "/secret-Zanzibar-4471", timeout=5)
    assert response.status_code == 404
    assert "Zanzibar" not in response.text and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("target", [b"/v1/a{b}", b"/v1/a|b", b'/v1/"x"', b"/v1/a\\b"])
def test_targets_outside_the_origin_form_grammar_get_400(
    demo_proxy: ProxyServer, target: bytes
) -> None:
    response = send_raw(demo_proxy, target, method=b"GET")
    assert status_of(response) == 400
    body = json.loads(response.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "invalid_request_target"


def test_a_bad_target_on_an_anthropic_client_gets_the_anthropic_shape(
    demo_proxy: ProxyServer,
) -> None:
    with socket.create_connection(("127.0.0.1", demo_proxy.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/messages{x} HTTP/1.1\r\nhost: p\r\nanthropic-version: 2023-06-01\r\n"
            b"content-length: 0\r\nconnection: close\r\n\r\n"
        )
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert status_of(response) == 400
    assert json.loads(response.partition(b"\r\n\r\n")[2])["type"] == "error"


@pytest.mark.parametrize(
    ("raw_path", "query", "valid"),
    [
        (b"/v1/chat/completions", b"", True),
        (b"/openai/deployments/gpt-4o/chat/completions", b"api-version=2024-10-21", True),
        (b"/v1/files/file-abc", b"a=1&b=%20x/?y", True),
        (b"/v1/%E2%82%AC", b"", True),
        (b"/v1/a%0d%0ab", b"", True),  # valid: the escape is never decoded
        (b"/v1/a\r\nb", b"", False),
        (b"/v1/a b", b"", False),
        (b"/v1/a%zz", b"", False),
        (b"/v1/a%2", b"", False),
        (b"v1/chat", b"", False),
        (b"", b"", False),
        (b"/v1/\xe2\x82\xac", b"", False),
        (b"/v1/x", b"a b", False),
        (b"/v1/x", b"a#b", False),
        (b"/v1/x", b"a\x00", False),
    ],
)
def test_origin_form_grammar(raw_path: bytes, query: bytes, valid: bool) -> None:
    scope = {"path": "/ignored", "raw_path": raw_path, "query_string": query}
    if valid:
        target = request_target(scope)
        assert target.upstream.encode() == raw_path + (b"?" + query if query else b"")
    else:
        with pytest.raises(RequestError) as caught:
            request_target(scope)
        assert caught.value.status == 400 and caught.value.code == "invalid_request_target"
