"""Response size limits, before and after decoding (D12, R8 of the core review)."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib

import pytest

from guard.errors import UpstreamError, UpstreamProtocolError, UpstreamTooLarge
from guard.proxy.config import UpstreamConfig
from guard.proxy.upstream import HttpUpstream
from tests.proxy.faults import FaultUpstream, Request, reply

BOMB_SIZE = 512 << 20


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """512 MiB of zeros as ~2.3 MB of gzip (level 1: built in well under a second)."""
    compress = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 20)
    return b"".join([compress.compress(zeros) for _ in range(BOMB_SIZE >> 20)] + [compress.flush()])


def encoded(body: bytes, coding: bytes, *, chunked: bool = False) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-encoding: %s\r\n" % coding
    if not chunked:
        return head + b"content-length: %d\r\n\r\n" % len(body) + body
    return head + b"transfer-encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


async def request(up: FaultUpstream, *, stream: bool, **config: int) -> bytes:
    upstream = HttpUpstream("big", UpstreamConfig(url=up.url, **config), forward_client_auth=False)
    try:
        response = await upstream.request("POST", "/v1/x", [], b"{}", stream=stream)
        if response.chunks is None:
            return response.body
        try:
            return b"".join([chunk async for chunk in response.chunks])
        finally:
            await response.aclose()
    finally:
        assert upstream._pool.open <= 1
        await upstream.aclose()


@pytest.mark.parametrize("stream", [False, True])
async def test_a_gzip_bomb_stays_small_in_memory(bomb: bytes, stream: bool) -> None:
    """R8: 512 MiB of decoded zeros is refused at the 32 MiB default, never held whole."""
    async with FaultUpstream(reply(encoded(bomb, b"gzip", chunked=stream))) as up:
        tracemalloc.start()
        try:
            with pytest.raises(UpstreamTooLarge, match="max_response_bytes") as raised:
                await request(up, stream=stream)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert raised.value.status == 502
    assert peak < 96 << 20, f"peak {peak >> 20} MiB"


@pytest.mark.parametrize("stream", [False, True])
async def test_limits_apply_on_the_wire_and_after_decoding(stream: bool) -> None:
    limit = 64 << 10
    plain = b"a" * (limit + 1)
    for raw in (
        encoded(plain, b"identity", chunked=stream),
        encoded(gzip.compress(plain), b"gzip", chunked=stream),
        encoded(zlib.compress(plain), b"deflate", chunked=stream),
    ):
        async with FaultUpstream(reply(raw)) as up:
            with pytest.raises(UpstreamTooLarge):
                await request(up, stream=stream, max_response_bytes=limit)
    fits = b"b" * limit
    async with FaultUpstream(reply(encoded(gzip.compress(fits), b"gzip", chunked=stream))) as up:
        assert await request(up, stream=stream, max_response_bytes=limit) == fits


async def test_content_length_over_the_limit_is_refused_before_the_body() -> None:
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 999999999\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)  # the body never comes: the head alone is enough
        return False

    async with FaultUpstream(answer) as up:
        async with asyncio.timeout(0.5):
            with pytest.raises(UpstreamTooLarge):
                await request(up, stream=False)


@pytest.mark.parametrize("coding", [b"br", b"zstd", b"compress", b"gzip, br"])
async def test_unknown_content_encodings_are_a_clear_502(coding: bytes) -> None:
    async with FaultUpstream(reply(encoded(b"\x1b\x00garbage", coding))) as up:
        with pytest.raises(UpstreamProtocolError, match="content-encoding") as raised:
            await request(up, stream=False)
    assert raised.value.status == 502


@pytest.mark.parametrize("stream", [False, True])
async def test_gzip_is_decoded_and_a_truncated_one_is_an_error(stream: bool) -> None:
    """Through guardwire's decode path (the old test exercised zlib itself)."""
    body = gzip.compress(b'{"ok": true}')
    async with FaultUpstream(reply(encoded(body, b"gzip", chunked=stream))) as up:
        assert await request(up, stream=stream) == b'{"ok": true}'
    async with FaultUpstream(reply(encoded(body[:-6], b"gzip", chunked=stream))) as up:
        with pytest.raises(UpstreamError, match="truncated"):
            await request(up, stream=stream)


@pytest.mark.parametrize("stream", [False, True])
async def test_every_member_of_a_multi_member_gzip_body_is_decoded(stream: bool) -> None:
    body = gzip.compress(b'{"part": ') + gzip.compress(b"1}")
    async with FaultUpstream(reply(encoded(body, b"gzip", chunked=stream))) as up:
        assert await request(up, stream=stream) == b'{"part": 1}'
    trailing = zlib.compress(b"{}") + b"garbage"
    async with FaultUpstream(reply(encoded(trailing, b"deflate", chunked=stream))) as up:
        with pytest.raises(UpstreamProtocolError, match="corrupt"):
            await request(up, stream=stream)
