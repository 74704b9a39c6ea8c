"""Each fault of a request body gets the error that names it, in the API's own shape.

A ``Transfer-Encoding`` the proxy does not decode (``gzip, chunked``) was read as the
body's bytes and answered "not valid UTF-8"; RFC 9112 section 6.1 makes an unrecognised
transfer coding a 501. An empty body was "not valid JSON". Sent over a raw socket: the
SDKs cannot send a transfer coding.
"""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Callable

import pytest

from tests.e2e.fixtures import ProxyServer

CHAT = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hello"}]}).encode()


def _exchange(server: ProxyServer, path: str, headers: bytes, body: bytes) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"anthropic-version: 2023-06-01\r\nconnection: close\r\n%s\r\n%s"
            % (path.encode(), headers, body)
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        payload = _unchunked(payload)
    return status, json.loads(payload)


def _chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def _unchunked(data: bytes) -> bytes:
    out = b""
    while True:
        size, _, rest = data.partition(b"\r\n")
        length = int(size, 16)
        if not length:
            return out
        out, data = out + rest[:length], rest[length + 2 :]


def _message(path: str, error: dict) -> tuple[str, str]:
    if path == "/v1/messages":
        assert error["type"] == "error"  # Anthropic's shape
    inner = error["error"]
    return inner["message"], inner.get("code") or inner.get("type")


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
@pytest.mark.parametrize(
    ("coding", "body"),
    [(b"gzip, chunked", gzip.compress(CHAT)), (b"identity, chunked", CHAT)],
    ids=["gzip", "identity"],
)
def test_a_transfer_coding_the_proxy_does_not_decode_is_a_501_that_names_it(
    start_proxy: Callable[..., ProxyServer], path: str, coding: bytes, body: bytes
) -> None:
    server = start_proxy()
    status, error = _exchange(server, path, b"transfer-encoding: %s\r\n" % coding, _chunked(body))
    message, _ = _message(path, error)
    assert status == 501, error
    assert "Transfer-Encoding" in message, message
    assert f"'{coding.split(b',')[0].decode()}'" in message
    assert "UTF-8" not in message and "JSON" not in message


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b'{"model": "\xff"}', "not valid UTF-8"),
        (b'{"model": ', "not valid JSON"),
    ],
    ids=["empty", "blank", "not-utf8", "not-json"],
)
def test_each_body_fault_is_named(
    start_proxy: Callable[..., ProxyServer], path: str, body: bytes, says: str
) -> None:
    server = start_proxy()
    status, error = _exchange(server, path, b"content-length: %d\r\n" % len(body), body)
    message, _ = _message(path, error)
    assert status == 400, error
    assert says in message, message


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_a_plain_chunked_body_is_read(start_proxy: Callable[..., ProxyServer], path: str) -> None:
    server = start_proxy()
    status, reply = _exchange(server, path, b"transfer-encoding: chunked\r\n", _chunked(CHAT))
    assert status == 200, reply
