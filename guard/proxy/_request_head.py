"""The request line and headers the upstream pool writes, refused before any write when
a byte could change the request's framing (CTL, SP or non-ASCII in method or target,
CR/LF/NUL in a header), whatever its source: client, config or environment."""

from __future__ import annotations

import re

from guard.errors import UnsafeUpstreamRequest
from guard.proxy.connection import Headers

#: RFC 9110 ``token``: what a method may be.
_METHOD = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Bytes a request-target must not contain: controls, space, DEL and non-ASCII (RFC 9112 3.2).
_UNSAFE_TARGET = re.compile(rb"[\x00-\x20\x7f-\xff]")


def request_head(
    upstream: str,
    method: str,
    base_path: bytes,
    target: str,
    authority: bytes,
    headers: Headers,
    length: int,
) -> bytes:
    """The request line and headers for ``upstream`` (``host`` and ``content-length`` set
    here); raises :class:`UnsafeUpstreamRequest` for bytes that could change the framing."""
    if not (method.isascii() and _METHOD.fullmatch(method_bytes := method.encode())):
        raise _unsafe(upstream, "the method is not an HTTP token")
    if not target.isascii():
        raise _unsafe(upstream, "the path contains a non-ASCII character")
    target_bytes = base_path + target.encode()
    if not target.startswith("/") or _UNSAFE_TARGET.search(target_bytes):
        raise _unsafe(upstream, "the path contains a control, space or non-ASCII character")
    lines = [method_bytes, b" ", target_bytes, b" HTTP/1.1\r\nhost: ", authority, b"\r\n"]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    with_length = bool(length) or method in ("POST", "PUT", "PATCH")
    if with_length:
        lines.append(b"content-length: %d\r\n" % length)
    lines.append(b"\r\n")
    head = b"".join(lines)
    # Three C-level scans instead of one per header: every line ends in exactly one
    # CRLF, so any other CR or LF (or a NUL) came from a header name or value.
    line_ends = len(headers) + 3 + with_length
    if head.count(b"\n") != line_ends or head.count(b"\r") != line_ends or b"\0" in head:
        raise _unsafe(upstream, _bad_header(headers))
    return head


def _unsafe(upstream: str, why: str) -> UnsafeUpstreamRequest:
    return UnsafeUpstreamRequest(f"the request to upstream '{upstream}' was not sent: {why}")


def _bad_header(headers: Headers) -> str:
    """Which header broke the framing (its name only when it is a plain token)."""
    for name, value in headers:
        for part, where in ((name, "name"), (value, "value")):
            if b"\r" in part or b"\n" in part or b"\0" in part:
                shown = f"header '{name.decode()}'" if _METHOD.fullmatch(name) else "a header"
                return (
                    f"{shown} has a line break or NUL in its {where} "
                    "(check the configured upstream key and headers)"
                )
    return "a header has a line break or NUL"  # pragma: no cover
