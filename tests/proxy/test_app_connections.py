"""Connections are bounded: slow request headers time out; a connection cap answers 503."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import httpx

from tests.e2e.fixtures import ProxyServer

HELLO = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_slow_request_headers_get_408_like_slow_bodies(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    """newuser-trial §4.6: one header line every 2 s kept connections open forever."""
    server = start_proxy(header_timeout=0.3)
    drips = [socket.create_connection(("127.0.0.1", server.port), timeout=3) for _ in range(3)]
    started = time.monotonic()
    for sock in drips:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: proxy\r\n")
    time.sleep(0.1)
    for sock in drips:
        sock.sendall(b"x-drip: 1\r\n")  # still dripping, never finishing the headers
    # A normal client is served meanwhile.
    assert httpx.post(server.url + "/v1/chat/completions", json=HELLO, timeout=3).is_success
    for sock in drips:
        response = read_all(sock)
        sock.close()
        assert response.startswith(b"HTTP/1.1 408 "), response[:80]
        body = json.loads(response.partition(b"\r\n\r\n")[2])
        assert body["error"]["code"] == "request_timeout"
        assert "headers did not arrive within 0.3 s" in body["error"]["message"]
    assert time.monotonic() - started < 2.5


def test_a_silent_connection_is_closed_after_the_header_timeout(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    server = start_proxy(header_timeout=0.2)
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        assert read_all(sock).startswith(b"HTTP/1.1 408 ")


def test_keep_alive_requests_are_not_cut_by_the_header_timer(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    server = start_proxy(header_timeout=0.3)
    with httpx.Client(base_url=server.url, timeout=3) as client:
        for _ in range(3):
            assert client.post("/v1/chat/completions", json=HELLO).is_success
            time.sleep(0.15)  # the same connection; each request gets a fresh window


def test_past_max_connections_requests_get_a_clear_503(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    server = start_proxy(max_connections=2)
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=3) for _ in range(2)]
    time.sleep(0.05)
    try:
        response = httpx.post(server.url + "/v1/chat/completions", json=HELLO, timeout=3)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert "max_connections" in response.json()["error"]["message"]
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.05)
    assert httpx.post(server.url + "/v1/chat/completions", json=HELLO, timeout=3).is_success


def test_requests_the_parser_refuses_get_a_json_400_and_the_server_lives(
    demo_proxy: ProxyServer,
) -> None:
    """newuser-trial §4.5: raw non-ASCII or control bytes got uvicorn's plain-text 400."""
    for target in ("/v1/€".encode(), b"/v1/\xff", b"/v1/a\x7fb"):
        with socket.create_connection(("127.0.0.1", demo_proxy.port), timeout=3) as sock:
            sock.sendall(b"POST " + target + b" HTTP/1.1\r\nhost: p\r\ncontent-length: 0\r\n\r\n")
            response = read_all(sock)
        assert response.startswith(b"HTTP/1.1 400 "), response[:80]
        assert json.loads(response.partition(b"\r\n\r\n")[2])["error"]["code"] == "invalid_request"
    assert httpx.post(demo_proxy.url + "/v1/chat/completions", json=HELLO, timeout=3).is_success
