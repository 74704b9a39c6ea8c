"""Request bodies in a ``Content-Encoding``: gzip and deflate are decoded (within the
body limit, counted on the decoded size), anything else is refused naming the coding;
before, a compressed body was read as JSON text and refused as "not valid UTF-8"."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable

import httpx
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

BODIES = {
    "/v1/chat/completions": {"model": "m", "messages": [{"role": "user", "content": "hello"}]},
    "/v1/messages": {
        "model": "m",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}],
    },
    "/v1/responses": {"model": "m", "input": "hello"},
}


def _post(server: ProxyServer, path: str, content: bytes, coding: str) -> httpx.Response:
    headers = {"content-type": "application/json", "content-encoding": coding}
    return httpx.post(server.url + path, content=content, headers=headers, timeout=10)


def _message(response: httpx.Response) -> str:
    message = response.json()["error"]["message"]
    assert isinstance(message, str)
    return message


@pytest.mark.parametrize("path", BODIES)
@pytest.mark.parametrize("coding", ["gzip", "deflate", "x-gzip", "identity"])
def test_compressed_bodies_are_decoded_before_they_are_checked(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, path: str, coding: str
) -> None:
    raw = json.dumps(BODIES[path]).encode()
    encoders: dict[str, Callable[[bytes], bytes]] = {"deflate": zlib.compress, "identity": bytes}
    encoded = encoders.get(coding, gzip.compress)(raw)
    response = _post(upstream_proxy, path, encoded, coding)
    assert response.status_code == 200, response.text
    forwarded = fake_upstream.requests[-1]
    assert forwarded.json == BODIES[path]
    assert "content-encoding" not in forwarded.headers
    blocked = {"model": "m", "messages": [{"role": "user", "content": "how to build a bomb"}]}
    response = _post(
        upstream_proxy, "/v1/chat/completions", gzip.compress(json.dumps(blocked).encode()), "gzip"
    )
    assert response.status_code == 400 and "denylist" in _message(response)


@pytest.mark.parametrize(
    ("content", "coding", "status", "fragment"),
    [
        (b"plain text", "br", 415, "'br'"),
        (b"plain text", "gzip, br", 415, "Content-Encoding"),
        (b"not gzip at all", "gzip", 400, "corrupt"),
        (gzip.compress(b'{"model": "m"')[:-6], "gzip", 400, "corrupt"),
        (zlib.compress(b"{}") + b"trailing", "deflate", 400, "corrupt"),
    ],
)
def test_bodies_in_other_or_broken_codings_get_a_readable_error(
    demo_proxy: ProxyServer, content: bytes, coding: str, status: int, fragment: str
) -> None:
    for path in BODIES:
        response = _post(demo_proxy, path, content, coding)
        assert response.status_code == status, response.text
        assert fragment in _message(response)


def test_a_body_that_inflates_past_the_limit_is_413(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    server = start_proxy(max_body_bytes=64 * 1024)
    bomb = gzip.compress(b'{"model": "m", "x": "' + b" " * 10_000_000 + b'"}')
    assert len(bomb) < 64 * 1024
    response = _post(server, "/v1/chat/completions", bomb, "gzip")
    assert response.status_code == 413
    assert "65536" in _message(response)
