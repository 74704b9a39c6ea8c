"""Headers of one hop stay on that hop (RFC 9110 section 7.6.1).

A client's ``Connection: close, X-Secret-Hop`` makes ``X-Secret-Hop`` a header of the
client's connection to the proxy: it must not reach the upstream. The same holds for an
upstream reply's ``Connection`` header on the way back, pass-through routes included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anthropic
import httpx
import openai
import pytest

from guard.proxy.responses import upstream_reply_headers
from guard.proxy.upstream import client_connection_options
from tests.e2e.fixtures import ProxyServer
from tests.proxy.raw_upstream import CHAT_REPLY, RawRequest, RawUpstream, json_response
from tests.proxy.test_app_credentials import ANTHROPIC_REPLY

HOP_HEADERS = {
    "Connection": "keep-alive, X-Secret-Hop, X-Ratelimit-Hop",
    "X-Secret-Hop": "hop-secret",
    "X-Ratelimit-Hop": "hop-limit",
    "Proxy-Connection": "keep-alive",
    "X-End-To-End": "kept",
}
# The upstream names two headers the proxy would otherwise pass back (its allow-list).
REPLY_HEADERS = (
    b"connection: keep-alive, x-ratelimit-remaining-requests\r\n"
    b"x-ratelimit-remaining-requests: 99\r\nx-ratelimit-reset-tokens: 6ms\r\n"
)


def reply(request: RawRequest) -> bytes:
    anthropic_route = request.target.startswith(b"/v1/messages")
    if request.line.startswith(b"GET"):
        return json_response({"object": "list", "data": []}, headers=REPLY_HEADERS)
    return json_response(ANTHROPIC_REPLY if anthropic_route else CHAT_REPLY, headers=REPLY_HEADERS)


@pytest.fixture
def upstream() -> Iterator[RawUpstream]:
    server = RawUpstream(reply).start()
    yield server
    server.stop()


def _sent_names(request: RawRequest) -> set[bytes]:
    return {name for name, _ in request.headers}


def test_headers_the_clients_connection_header_names_do_not_reach_the_upstream(
    start_proxy: Callable[..., ProxyServer], upstream: RawUpstream
) -> None:
    server = start_proxy(upstream=upstream.url)
    chat = openai.OpenAI(
        base_url=server.url + "/v1", api_key="k", max_retries=0, default_headers=HOP_HEADERS
    )
    completion = chat.chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": "hello"}]
    )
    messages = anthropic.Anthropic(
        base_url=server.url, api_key="k", max_retries=0, default_headers=HOP_HEADERS
    )
    message = messages.messages.with_raw_response.create(
        model="c", max_tokens=5, messages=[{"role": "user", "content": "hello"}]
    )
    listing = httpx.get(server.url + "/v1/models", headers=HOP_HEADERS, timeout=5)
    assert listing.status_code == 200
    assert len(upstream.requests) == 3
    for sent in upstream.requests:
        names = _sent_names(sent)
        assert b"x-secret-hop" not in names
        assert b"x-ratelimit-hop" not in names
        assert b"proxy-connection" not in names
        assert sent.header(b"x-end-to-end") == b"kept"
        assert b"hop-secret" not in bytes(upstream.received)
    # The upstream's own Connection header names x-ratelimit-remaining-requests: its hop.
    for headers in (completion.headers, message.headers, listing.headers):
        assert "x-ratelimit-remaining-requests" not in headers
        assert headers["x-ratelimit-reset-tokens"] == "6ms"


def test_a_streamed_reply_drops_what_the_upstreams_connection_header_names(
    start_proxy: Callable[..., ProxyServer], upstream: RawUpstream
) -> None:
    def streamed(request: RawRequest) -> bytes:
        data = (
            b'data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m",'
            b'"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n'
            b"data: [DONE]\n\n"
        )
        return (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n%s\r\n%s"
            % (len(data), REPLY_HEADERS, data)
        )

    upstream.reply = streamed
    server = start_proxy(upstream=upstream.url)
    client = openai.OpenAI(
        base_url=server.url + "/v1", api_key="k", max_retries=0, default_headers=HOP_HEADERS
    )
    with client.chat.completions.with_streaming_response.create(
        model="m", messages=[{"role": "user", "content": "hello"}], stream=True
    ) as response:
        text = "".join(
            chunk.choices[0].delta.content or "" for chunk in response.parse() if chunk.choices
        )
        assert "x-ratelimit-remaining-requests" not in response.headers
        assert response.headers["x-ratelimit-reset-tokens"] == "6ms"
    assert text == "hi"
    assert b"x-secret-hop" not in _sent_names(upstream.requests[0])


@pytest.mark.parametrize(
    "headers",
    [
        [(b"connection", b"keep-alive"), (b"x-secret-hop", b"s")],
        [(b"connection", b"keep-alive"), (b"connection", b"x-secret-hop"), (b"x-secret-hop", b"s")],
        [(b"connection", b"x-secret-hop"), (b"connection", b"keep-alive"), (b"x-secret-hop", b"s")],
        [(b"connection", b"Close , X-Secret-Hop"), (b"x-secret-hop", b"s")],
    ],
    ids=["plain", "second-header", "first-header", "case-and-spaces"],
)
def test_every_connection_header_of_a_request_is_read(headers: list[tuple[bytes, bytes]]) -> None:
    """The common case (one ``keep-alive``) skips the loop: a second Connection header,
    before or after it, is still read."""
    named = client_connection_options(headers)
    assert (b"x-secret-hop" in named) is (len(headers) > 2 or b"Close" in headers[0][1])


def test_an_upstream_id_its_connection_header_names_is_not_passed_on() -> None:
    reply = [(b"Connection", b"x-request-id"), (b"X-Request-Id", b"req_1"), (b"request-id", b"r")]
    assert upstream_reply_headers(reply) == [
        (b"request-id", b"r"),
        (b"x-guardwire-upstream-request-id", b"r"),
    ]
