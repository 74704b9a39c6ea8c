"""Bad input at every guarded route, the check endpoint included: each body the JSON
layer refuses gets a 4xx in the route's own error shape (never a 500), naming what is
wrong without quoting the request; the connection stays usable after the error.

Before, ``POST /guardwire/v1/check`` parsed with a plain ``json.loads``: 10,000 nested
brackets raised RecursionError and a lone surrogate escape ("\\ud800") failed when the
answer was encoded, both as 500 ``internal_error`` with a traceback in the log; a repeated
key was read as its last value, and invalid UTF-8 was called "not a JSON object".
"""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from tests.e2e.fixtures import ProxyServer

ROUTES = ("/v1/chat/completions", "/v1/responses", "/v1/messages",
          "/v1/messages/count_tokens", "/v1/responses/input_tokens",
          "/guardwire/v1/check")  # fmt: skip
CHECK = b'"text":"hello","messages":[{"role":"user","content":"hello"}]'
NESTED = b"[" * 10_000 + b"]" * 10_000
#: Bodies and a word the error message must contain.
BODIES = {
    "empty": (b"", "JSON"),
    "not an object": (b"[1, 2]", "JSON object"),
    "repeated key": (b'{"model":"m","model":"n","text":"a","text":"b"}', "repeats"),
    "10,000 levels": (b'{"model":"m","text":' + NESTED + b"}", "not valid JSON"),
    "huge number": (b'{"model":"m","max_tokens":' + b"9" * 5000 + b',"text":"a"}', "JSON"),
    "NaN": (b'{"model":"m","temperature":NaN,"text":"a"}', "not valid JSON"),
    "invalid UTF-8": (b'{"model":"m","text":"\xff\xfe"}', "UTF-8"),
    "lone surrogate": (b'{"model":"m","text":"a\\ud800b"}', "surrogate"),
}


def _error_of(route: str, response: httpx.Response) -> dict[str, object]:
    body = response.json()
    if route.startswith("/v1/messages"):
        assert body["type"] == "error"
    error = body["error"]
    assert isinstance(error, dict)
    return error


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", BODIES)
def test_a_body_the_json_layer_refuses_is_a_400_in_the_routes_shape(
    demo_proxy: ProxyServer, route: str, case: str
) -> None:
    body, word = BODIES[case]
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    response = httpx.post(demo_proxy.url + route, content=body, headers=headers)
    assert response.status_code == 400, response.text
    message = str(_error_of(route, response)["message"])
    assert word in message, message
    assert "hello" not in message and "\\ud800" not in message


@pytest.mark.parametrize("route", ROUTES)
def test_the_connection_serves_the_next_request_after_an_error(
    demo_proxy: ProxyServer, route: str
) -> None:
    """A refused body, then a good request pipelined behind it on the same connection."""
    good = b'{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'
    if route == "/v1/responses" or route.endswith("input_tokens"):
        good = b'{"model":"m","input":"hi"}'
    elif route.endswith("/check"):
        good = b'{"text":"hi"}'

    def request(body: bytes) -> bytes:
        return (b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                b"anthropic-version: 2023-06-01\r\ncontent-length: %d\r\n\r\n%s"
                % (route.encode(), len(body), body))  # fmt: skip

    with socket.create_connection(("127.0.0.1", demo_proxy.port), timeout=5) as sock:
        sock.sendall(request(b'{"model":"m","a":' + NESTED + b"}") + request(good))
        received = b""
        while len(re.findall(rb"HTTP/1\.1 \d{3}", received)) < 2:
            data = sock.recv(65536)
            assert data, received
            received += data
    assert re.findall(rb"HTTP/1\.1 (\d{3})", received) == [b"400", b"200"]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_100_mb_upload_is_refused_at_the_limit_without_reading_it_all(
    demo_proxy: ProxyServer, framing: str
) -> None:
    """413 once ``max_body_bytes`` (32 MiB) is passed: a declared length at once, a
    chunked body when its bytes pass the limit; the client never sends the 100 MB."""
    size = 100 * 2**20
    piece = b"x" * 2**20
    framed = b"transfer-encoding: chunked" if framing == "chunked" else b"content-length: %d" % size
    with socket.create_connection(("127.0.0.1", demo_proxy.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
                     b"content-type: application/json\r\n%s\r\n\r\n" % framed)  # fmt: skip
        sent, answer = 0, b""
        sock.setblocking(False)
        try:
            while sent < size and not answer:
                try:
                    answer = sock.recv(65536)
                except BlockingIOError:
                    chunk = b"%x\r\n%s\r\n" % (len(piece), piece) if framing == "chunked" else piece
                    sock.setblocking(True)
                    sock.sendall(chunk)
                    sock.setblocking(False)
                    sent += len(piece)
        except OSError:
            pass  # the proxy closed the connection after its answer: read what it sent
        sock.setblocking(True)
        answer = answer or sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent <= 40 * 2**20, sent
