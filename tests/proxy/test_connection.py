"""Response framing on one connection: interim heads, surplus bytes, truncation, timers.

Each test scripts the upstream's bytes with :mod:`tests.proxy.faults` (R7 and the other
D4 cases of the core review).
"""

from __future__ import annotations

import asyncio

import pytest

from guard.errors import UpstreamError
from guard.proxy.http1 import ConnectionPool
from guard.proxy.upstream import HttpUpstream
from tests.proxy.faults import FaultUpstream, Request, ok, reply


def pool(url: str, read_timeout: float = 5.0, max_connections: int = 4) -> ConnectionPool:
    return ConnectionPool(
        "test", url, connect_timeout=2, read_timeout=read_timeout, max_connections=max_connections
    )


async def fetch(p: ConnectionPool, body: bytes = b"{}") -> tuple[int, bytes]:
    connection = await p.exchange("POST", "/v1/x", [], body)
    try:
        return connection.status, await connection.body()
    finally:
        p.release(connection)


async def test_interim_103_then_200_goes_to_its_own_caller() -> None:
    """R7: an Early Hints head is skipped; the next caller never gets this answer."""

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        number = request.on_connection + 1
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(ok(b'{"answer_for_request": %d}' % number))
        await writer.drain()
        return True

    async with FaultUpstream(answer) as up:
        p = pool(up.url)
        assert await fetch(p) == (200, b'{"answer_for_request": 1}')
        assert await fetch(p) == (200, b'{"answer_for_request": 2}')
        assert up.connections == 1  # the 103 did not break keep-alive
        await p.close()


async def test_100_continue_is_skipped_and_101_is_an_error() -> None:
    async with FaultUpstream(reply(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"fine"))) as up:
        p = pool(up.url)
        assert await fetch(p) == (200, b"fine")
        await p.close()
    switching = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\nconnection: upgrade\r\n\r\n"
    async with FaultUpstream(reply(switching)) as up:
        p = pool(up.url)
        with pytest.raises(UpstreamError, match="switched protocols"):
            await fetch(p)
        assert p.open == 0


async def test_bytes_beyond_content_length_close_the_connection() -> None:
    """The surplus never reaches the next caller: the connection is not reused."""

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        number = request.on_connection + 1
        writer.write(ok(b"answer %d" % number) + b"SURPLUS-FOR-NOBODY")
        await writer.drain()
        return True

    async with FaultUpstream(answer) as up:
        p = pool(up.url)
        assert await fetch(p) == (200, b"answer 1")
        assert await fetch(p) == (200, b"answer 1")  # a fresh connection answers again
        assert up.connections == 2
        await p.close()


async def test_a_second_response_in_the_same_read_is_not_delivered() -> None:
    async with FaultUpstream(reply(ok(b"mine") + ok(b"smuggled"))) as up:
        p = pool(up.url)
        assert await fetch(p) == (200, b"mine")
        assert await fetch(p) == (200, b"mine")
        assert up.connections == 2
        await p.close()


async def test_bytes_on_an_idle_connection_close_it() -> None:
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok(b"first"))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(ok(b"unsolicited"))  # while the client holds the connection idle
        await writer.drain()
        return True

    async with FaultUpstream(answer) as up:
        p = pool(up.url)
        assert await fetch(p) == (200, b"first")
        await asyncio.sleep(0.15)
        assert await fetch(p) == (200, b"first")
        assert up.connections == 2
        await p.close()


@pytest.mark.parametrize(
    "partial",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\nhal",
    ],
    ids=["content-length", "chunked-between-chunks", "chunked-inside-a-chunk"],
)
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("reset", [False, True])
async def test_a_body_cut_short_is_an_error(partial: bytes, stream: bool, reset: bool) -> None:
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(partial)
        await writer.drain()
        if reset:
            writer.transport.abort()
        return False  # the server closes (FIN, or RST with reset)

    async with FaultUpstream(answer) as up:
        upstream = HttpUpstream("cut", _config(up.url), forward_client_auth=False)
        with pytest.raises(UpstreamError, match="broke off"):
            response = await upstream.request("POST", "/v1/x", [], b"{}", stream=stream)
            assert response.chunks is not None
            try:
                async for _ in response.chunks:
                    pass
            finally:
                await response.aclose()
        assert upstream._pool.open == 0
        await upstream.aclose()


async def test_a_slow_client_is_not_a_slow_upstream() -> None:
    """The read timer stops while reading is paused because the consumer lags."""
    size = 4 << 20  # well over the 1 MiB high-water mark

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size)
        writer.write(b"x" * size)
        await writer.drain()
        return True

    async with FaultUpstream(answer) as up:
        p = pool(up.url, read_timeout=0.1)
        connection = await p.exchange("POST", "/v1/x", [], b"{}")
        chunks = connection.chunks()
        received = len(await chunks.__anext__())
        await asyncio.sleep(0.3)  # the consumer (a slow client) takes three read timeouts
        received += sum([len(chunk) async for chunk in chunks])
        assert received == size
        p.release(connection)
        await p.close()


def _config(url: str, **fields: object):  # type: ignore[no-untyped-def]
    from guard.proxy.config import UpstreamConfig

    return UpstreamConfig(url=url, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"HTTP/1.1 103 Early Hints\r\n\r\n" * 20 + ok(), "interim responses"),
        (
            b"HTTP/1.1 200 OK\r\n"
            + b"x-pad: "
            + b"p" * 8000
            + b"\r\n" * 1
            + (b"x-pad: " + b"p" * 8000 + b"\r\n") * 40,
            "headers over",
        ),
    ],
    ids=["endless-interim-heads", "endless-headers"],
)
async def test_a_response_head_is_bounded(raw: bytes, fragment: str) -> None:
    async with FaultUpstream(reply(raw)) as up:
        p = pool(up.url)
        with pytest.raises(UpstreamError, match=fragment):
            await fetch(p)
        assert p.open == 0
