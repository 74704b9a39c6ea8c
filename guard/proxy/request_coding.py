"""A request body sent in a ``Content-Encoding``: gzip and deflate are inflated before
anything reads the body, within the same limit as a plain body (so a small compressed
body cannot become a huge one); any other coding is refused naming it. The upstream
gets the decoded body (the proxy never forwards ``content-encoding``).

A ``Transfer-Encoding`` other than ``chunked`` alone (which the HTTP server undoes) is
refused with a 501 naming it (RFC 9112 section 6.1): the server hands such a body over
still coded, and it would otherwise be read as a body that is not UTF-8. The client can
compress with ``Content-Encoding`` instead, which is decoded here."""

from __future__ import annotations

import re
import zlib

from guard.errors import RequestError

_GZIP = 16 + zlib.MAX_WBITS
_WINDOW = {b"gzip": _GZIP, b"x-gzip": _GZIP, b"deflate": zlib.MAX_WBITS}
_CODING_NAME = re.compile(rb"[a-z0-9-]{1,20}")


def decoded_body(body: bytes, coding: bytes | None, limit: int) -> bytes:
    """``body`` decoded from ``coding`` (the ``Content-Encoding`` header, if any)."""
    name = (coding or b"").strip().lower()
    if name in (b"", b"identity"):
        return body
    wbits = _WINDOW.get(name)
    if wbits is None:
        raise RequestError(
            f"the request's Content-Encoding {_shown(name)} is not supported: send the body "
            "uncompressed, or in gzip or deflate",
            status=415,
            code="unsupported_media_type",
        )
    try:
        return _inflate(body, wbits, limit, name.decode())
    except zlib.error:
        if name != b"deflate":
            raise _corrupt(name.decode()) from None
    try:  # "deflate" without its zlib wrapper, as some clients send it
        return _inflate(body, -zlib.MAX_WBITS, limit, "deflate")
    except zlib.error:
        raise _corrupt("deflate") from None


def refuse_transfer_codings(value: bytes) -> None:
    """Raise a 501 :class:`RequestError` unless ``value`` (a ``Transfer-Encoding``) is
    ``chunked`` alone."""
    codings = [coding.strip().lower() for coding in value.split(b",")]
    other = [coding for coding in codings if coding != b"chunked"]
    if not other:
        return
    raise RequestError(
        f"the request's Transfer-Encoding {_shown(other[0])} is not supported: guardwire reads"
        " only 'chunked'; send the body compressed with Content-Encoding (gzip or deflate) instead",
        status=501,
        code="not_implemented",
    )


def _inflate(body: bytes, wbits: int, limit: int, name: str) -> bytes:
    out: list[bytes] = []
    produced = 0
    rest = body
    while True:  # gzip allows several members one after the other (RFC 1952)
        inflate = zlib.decompressobj(wbits)
        piece = inflate.decompress(rest, limit - produced + 1)
        produced += len(piece)
        if produced > limit:
            raise RequestError(
                f"the request body decodes to more than the proxy's limit of {limit} bytes",
                status=413,
                code="request_too_large",
            )
        out.append(piece)
        if not inflate.eof:
            raise _corrupt(name)  # cut short
        rest = inflate.unused_data
        if not rest:
            return b"".join(out)
        if wbits != _GZIP:
            raise _corrupt(name)  # bytes after the end of a deflate stream


def _corrupt(name: str) -> RequestError:
    return RequestError(f"the request body is not valid {name} (corrupt or truncated)")


def _shown(name: bytes) -> str:
    """A coding named in an error: quoted when it is a plain coding name, else "given"
    (a header that is not one is the client's text, never echoed)."""
    return f"'{name.decode()}'" if _CODING_NAME.fullmatch(name) else "given"
