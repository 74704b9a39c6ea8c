"""How the proxy answers: guard headers, API-shaped errors, upstream pass-through."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard import formats
from guard.formats.base import WireFormat
from guard.proxy.asgi import Headers, Send, respond
from guard.proxy.upstream import UpstreamResponse, connection_options

if TYPE_CHECKING:
    from guard.lifecycle import GuardedCall

JSON = b"application/json"
STREAM_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
# Upstream response headers clients rely on (rate limits, processing time, ids,
# retry-after, x-should-retry): the SDKs read them for back-off, for whether to retry at
# all, and for support tickets.
_PASS = frozenset({b"retry-after", b"retry-after-ms", b"x-should-retry", b"request-id"})
_PASS_PREFIXES = (b"openai-", b"anthropic-", b"x-ratelimit-")


def guard_headers(request_id: str, verdict: str, policy: bytes) -> Headers:
    """``x-request-id``, ``x-guardwire-verdict`` and ``x-guardwire-policy``."""
    return [
        (b"x-request-id", request_id.encode()),
        (b"x-guardwire-verdict", verdict.encode()),
        (b"x-guardwire-policy", policy),
    ]


async def send_error(
    send: Send,
    fmt: WireFormat | None,
    status: int,
    message: str,
    code: str,
    headers: Headers,
) -> None:
    """An error in the calling API's own shape (OpenAI's when the API is unknown)."""
    fmt = fmt or formats.get("openai.chat")
    headers.append((b"content-type", JSON))
    await respond(send, status, headers, fmt.error_body(status, message, code))


def upstream_reply_headers(upstream: Headers) -> Headers:
    """The upstream headers passed back to the client, on every response.

    The upstream's ``x-request-id`` (OpenAI) or ``request-id`` (Anthropic) also comes
    back as ``x-guardwire-upstream-request-id``: guardwire's own id is ``x-request-id``.
    A header the upstream's ``Connection`` header names is of that hop only: dropped.
    """
    headers: Headers = []
    upstream_id = None
    connection: list[bytes] = []
    for name, value in upstream:
        name = name.lower()
        if name in _PASS or name.startswith(_PASS_PREFIXES):
            headers.append((name, value))
        elif name == b"connection" and value.lower() not in (b"keep-alive", b"close"):
            connection.append(value)
        if name in (b"x-request-id", b"request-id") and upstream_id is None:
            upstream_id, id_name = value, name
    if connection:  # rare: a header of the upstream's hop only is not passed on
        named = connection_options([(b"connection", value) for value in connection])
        headers = [(name, value) for name, value in headers if name not in named]
        if upstream_id is not None and id_name in named:  # the other id, if kept
            upstream_id = next((v for n, v in headers if n == b"request-id"), None)
    if upstream_id is not None:
        headers.append((b"x-guardwire-upstream-request-id", upstream_id))
    return headers


async def send_upstream(send: Send, response: UpstreamResponse, request_id: str) -> None:
    """The upstream's response unchanged (status, content type and body), with our id."""
    headers = upstream_reply_headers(response.headers)
    content_type = response.header(b"content-type")
    if content_type is not None:
        headers.append((b"content-type", content_type))
    headers.append((b"x-request-id", request_id.encode()))
    await respond(send, response.status, headers, response.body)


def check_headers(lifecycle: GuardedCall) -> Headers:
    """Headers the checks added (``x-guardwire-max-tokens-clamped``)."""
    return [(k.encode(), v.encode()) for k, v in lifecycle.ctx.response_headers.items()]
