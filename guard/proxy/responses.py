"""How the proxy answers: guard headers, API-shaped errors, upstream pass-through."""

from __future__ import annotations

from guard import formats
from guard.formats.base import WireFormat
from guard.proxy.asgi import Headers, Send, respond
from guard.proxy.upstream import UpstreamResponse

JSON = b"application/json"
STREAM_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
# Upstream response headers worth passing on (rate limits, processing time, ids).
_PASS = frozenset({b"content-type", b"retry-after"})
_PASS_PREFIXES = (b"openai-", b"anthropic-", b"x-ratelimit", b"request-id")


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


async def send_upstream(send: Send, response: UpstreamResponse, request_id: str) -> None:
    """The upstream's response unchanged (status and body), with our request id."""
    headers: Headers = [
        (name.lower(), value)
        for name, value in response.headers
        if name.lower() in _PASS or name.lower().startswith(_PASS_PREFIXES)
    ]
    upstream_id = response.header(b"x-request-id")
    if upstream_id:
        headers.append((b"x-guardwire-upstream-request-id", upstream_id))
    headers.append((b"x-request-id", request_id.encode()))
    await respond(send, response.status, headers, response.body)
