"""Bounded decoding of compressed upstream bodies.

The proxy asks for ``accept-encoding: identity``; some upstreams (and gateways in front
of them) compress anyway. gzip and deflate are decoded with a cap on the *decoded* size
(``decompressobj().decompress(data, max_length)``), so 500 KiB of gzip can never become
512 MiB in memory; any other coding (br, zstd...) is refused with a clear error rather
than passed on as bytes a JSON or SSE parser would choke on.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator

from guard.errors import UpstreamProtocolError, UpstreamTooLarge

Headers = list[tuple[bytes, bytes]]

_GZIP = 16 + zlib.MAX_WBITS
_WINDOW = {b"gzip": _GZIP, b"x-gzip": _GZIP, b"deflate": zlib.MAX_WBITS}
_CODING_NAME = re.compile(rb"[a-z0-9-]{1,20}")


class BodyDecoder:
    """Inflates one gzip or deflate body piece by piece, up to ``limit`` decoded bytes."""

    def __init__(self, name: str, coding: bytes, limit: int) -> None:
        self._name = name
        self._limit = limit
        self._produced = 0
        self._wbits = _WINDOW[coding]
        self._inflate = zlib.decompressobj(self._wbits)

    def feed(self, data: bytes) -> bytes:
        """Decoded bytes for ``data``; raises once the decoded total passes the limit."""
        out = self._inflate_within_limit(data)
        while self._inflate.eof and self._inflate.unused_data:
            # Another gzip member (RFC 1952 allows several); for deflate, garbage.
            rest = self._inflate.unused_data
            if self._wbits == zlib.MAX_WBITS:
                raise self._corrupt()
            self._inflate = zlib.decompressobj(self._wbits)
            out += self._inflate_within_limit(rest)
        return out

    def _inflate_within_limit(self, data: bytes) -> bytes:
        try:
            # One byte over the allowance is enough to know the limit is passed.
            out = self._inflate.decompress(data, self._limit - self._produced + 1)
        except zlib.error:
            raise self._corrupt() from None
        self._produced += len(out)
        if self._produced > self._limit:
            raise UpstreamTooLarge(
                f"upstream '{self._name}' sent a compressed response that decodes to more "
                f"than its max_response_bytes ({self._limit} bytes)"
            )
        return out

    def finish(self) -> bytes:
        """The last decoded bytes; raises if the compressed body was cut short."""
        try:
            out = self._inflate.flush()
        except zlib.error:
            raise self._corrupt() from None
        if not self._inflate.eof:
            raise self._corrupt()
        self._produced += len(out)
        if self._produced > self._limit:  # pragma: no cover - feed() drained the input
            raise UpstreamTooLarge(f"upstream '{self._name}' sent too large a response")
        return out

    def _corrupt(self) -> UpstreamProtocolError:
        return UpstreamProtocolError(
            f"upstream '{self._name}' sent a corrupt or truncated compressed body"
        )


def decoder_for(name: str, headers: Headers, limit: int) -> BodyDecoder | None:
    """A decoder for the body's ``content-encoding`` (``None`` when not encoded)."""
    for header, value in headers:
        if header.lower() == b"content-encoding":
            coding = value.strip().lower()
            if coding in (b"", b"identity"):
                return None
            if coding not in _WINDOW:
                shown = coding.decode() if _CODING_NAME.fullmatch(coding) else "an unknown one"
                raise UpstreamProtocolError(
                    f"upstream '{name}' sent a body in content-encoding '{shown}', which "
                    "guardwire cannot decode (it asks for 'identity'; disable compression "
                    "at the upstream or gateway)"
                )
            return BodyDecoder(name, coding, limit)
    return None


def decode(decoder: BodyDecoder, data: bytes) -> bytes:
    """A whole compressed body, decoded within the limit."""
    return decoder.feed(data) + decoder.finish()


async def decode_stream(chunks: AsyncIterator[bytes], decoder: BodyDecoder) -> AsyncIterator[bytes]:
    """Streamed compressed chunks, decoded within the limit."""
    async for chunk in chunks:
        out = decoder.feed(chunk)
        if out:
            yield out
    tail = decoder.finish()
    if tail:
        yield tail
