"""The connection pool under cancellation and exhaustion (D11, R6 of the core review)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from guard.errors import UpstreamBusy
from guard.proxy.http1 import ConnectionPool
from tests.proxy.faults import FaultUpstream, ok, reply


def one_slot(url: str, **options: float) -> ConnectionPool:
    return ConnectionPool(
        "test", url, connect_timeout=1, read_timeout=5, max_connections=1, **options
    )  # type: ignore[arg-type]


async def call(p: ConnectionPool) -> bytes:
    connection = await p.exchange("POST", "/v1/x", [], b"{}")
    try:
        return await connection.body()
    finally:
        p.release(connection)


async def test_cancelled_exchange_returns_its_slot() -> None:
    """R6: cancel while the model thinks; the slot is free again and the socket closed."""
    async with FaultUpstream(reply(ok(b"late"), delay=0.3)) as up:
        p = one_slot(up.url)
        task = asyncio.create_task(p.exchange("POST", "/v1/x", [], b"{}"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert p.open == 0
        async with asyncio.timeout(2):
            assert await call(p) == b"late"
        await asyncio.sleep(0.05)
        assert up.connections == 2 and up.open == 1  # the cancelled one was closed
        await p.close()


@pytest.mark.parametrize("phase", ["body", "stream"])
async def test_cancelled_body_read_returns_its_slot(phase: str) -> None:
    from guard.proxy.config import UpstreamConfig
    from guard.proxy.upstream import HttpUpstream

    partial = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"
    async with FaultUpstream(reply(partial)) as up:
        upstream = HttpUpstream(
            "u", UpstreamConfig(url=up.url, max_connections=1), forward_client_auth=False
        )

        async def read() -> None:
            response = await upstream.request("POST", "/v1/x", [], b"{}", stream=phase == "stream")
            try:
                assert response.chunks is not None
                async for _ in response.chunks:
                    pass
            finally:
                await response.aclose()

        task = asyncio.create_task(read())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert upstream._pool.open == 0
        await upstream.aclose()


async def test_a_cancelled_waiter_passes_its_wake_up_on() -> None:
    async with FaultUpstream(reply(ok(b"x"), delay=0.1)) as up:
        p = one_slot(up.url)
        busy = asyncio.create_task(call(p))
        await asyncio.sleep(0.02)
        first = asyncio.create_task(call(p))
        second = asyncio.create_task(call(p))
        await asyncio.sleep(0.02)
        # The slot frees; the first waiter is woken but cancelled before it runs.
        await busy
        first.cancel()
        async with asyncio.timeout(2):
            assert await second == b"x"
        assert first.cancelled()
        assert p.open == 1
        await p.close()


async def test_waiting_for_a_slot_is_bounded() -> None:
    async with FaultUpstream(reply(ok(), delay=1.0)) as up:
        p = one_slot(up.url, pool_timeout=0.1)
        busy = asyncio.create_task(call(p))
        await asyncio.sleep(0.02)
        with pytest.raises(UpstreamBusy, match="max_connections") as raised:
            await call(p)
        assert raised.value.status == 503
        busy.cancel()
        await asyncio.gather(busy, return_exceptions=True)
        assert p.open == 0 and not p._waiters


@pytest.mark.skipif(not hasattr(socket, "TCP_USER_TIMEOUT"), reason="Linux only")
async def test_an_unacknowledged_request_is_cut_at_the_connect_timeout() -> None:
    """The burst fix: until the first answer, sent bytes must be acknowledged within what is
    left of the connect timeout (a listener whose accept queue overflowed drops them);
    after it, within a whole connect timeout."""
    async with FaultUpstream(reply(ok())) as up:
        p = ConnectionPool("t", up.url, connect_timeout=2, read_timeout=5, max_connections=1)
        fresh = await p.connect()
        sock = fresh.transport.get_extra_info("socket")  # type: ignore[union-attr]
        assert 500 <= sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) < 2000
        fresh.close()
        connection = await p.exchange("POST", "/v1/x", [], b"{}")
        sock = connection.transport.get_extra_info("socket")  # type: ignore[union-attr]
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 2000
        await connection.body()
        p.release(connection)
        await p.close()


async def test_cancelled_connect_returns_its_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancelled while the tunnel is being set up (an egress proxy that never answers)."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        await asyncio.sleep(5)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with server:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        p = one_slot("http://api.example.com")
        task = asyncio.create_task(call(p))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert p.open == 0 and not p._waiters
        server.close()
