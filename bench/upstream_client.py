"""Upstream client: guardwire's HTTP/1.1 pool against httpcore's, request by request.

The fake upstream (``tests/fake_upstream.py``, its own process, 1 KB JSON reply) and,
in the benchmark process on one event loop (uvloop when installed, as in production):

- ``upstream.guardwire.cN``: :class:`guard.proxy.http1.ConnectionPool` (exchange, read
  the body, release);
- ``upstream.httpcore.cN``: ``httpcore.AsyncConnectionPool.request`` (the client under
  httpx, built on h11), same request and headers.

At concurrency 1 and 16 (N tasks each sending requests back to back). The two clients
alternate in four rounds (ABAB...) so a noisy neighbour hurts both alike. Rows carry
the median/p99 latency per request and ``rps``.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from collections.abc import Awaitable, Callable

from bench._load import fake_upstream, request_body
from bench._runner import Result, percentile
from bench.texts import prose

CONCURRENCY = (1, 16)
ROUNDS = 4
PATH = "/v1/chat/completions"
HEADERS = [(b"content-type", b"application/json"), (b"accept-encoding", b"identity")]

Send = Callable[[], Awaitable[bytes]]


async def _guardwire(url: str) -> tuple[Send, Callable[[], Awaitable[None]]]:
    from guard.proxy.http1 import ConnectionPool

    pool = ConnectionPool("bench", url, connect_timeout=10, read_timeout=60, max_connections=64)
    body = request_body(prose(1024), stream=False)

    async def send() -> bytes:
        connection = await pool.exchange("POST", PATH, HEADERS, body)
        try:
            return await connection.body()
        finally:
            pool.release(connection)

    return send, pool.close


async def _httpcore(url: str) -> tuple[Send, Callable[[], Awaitable[None]]]:
    import httpcore

    # TCP_NODELAY as guardwire's asyncio transports have it: h11 writes the head and the
    # body separately, and without it Nagle + delayed ACK stall the body ~40 ms.
    nodelay = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pool = httpcore.AsyncConnectionPool(max_connections=64, socket_options=[nodelay])
    body = request_body(prose(1024), stream=False)
    headers = [*HEADERS, (b"host", url.split("//", 1)[1].encode())]

    async def send() -> bytes:
        response = await pool.request("POST", url + PATH, headers=headers, content=body)
        return response.content

    return send, pool.aclose


async def _round(send: Send, concurrency: int, seconds: float) -> tuple[list[float], int]:
    samples: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        clock = time.perf_counter
        while clock() < deadline:
            started = clock()
            await send()
            samples.append(clock() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples, round(len(samples) / (time.perf_counter() - started))


async def _run(url: str, seconds: float) -> list[Result]:
    clients = {"guardwire": await _guardwire(url), "httpcore": await _httpcore(url)}
    for send, _ in clients.values():  # warm up: connections open, code paths hot
        await asyncio.gather(*(send() for _ in range(32)))
    results = []
    for concurrency in CONCURRENCY:
        samples: dict[str, list[float]] = {name: [] for name in clients}
        rates: dict[str, list[int]] = {name: [] for name in clients}
        for _ in range(ROUNDS):
            for name, (send, _) in clients.items():
                got, rps = await _round(send, concurrency, seconds / ROUNDS)
                samples[name] += got
                rates[name].append(rps)
        for name, values in samples.items():
            ms = [s * 1000 for s in values]
            results.append(
                Result(
                    f"upstream.{name}.c{concurrency}",
                    len(ms),
                    statistics.median(ms),
                    percentile(ms, 0.99),
                    statistics.fmean(ms),
                    {"rps": round(statistics.median(rates[name]))},
                )
            )
    for _, close in clients.values():
        await close()
    return results


def run(seconds: float) -> list[Result]:
    """Both clients at each concurrency, ``seconds`` per client and point."""
    try:
        from uvloop import new_event_loop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        new_event_loop = asyncio.new_event_loop
    with fake_upstream(1024) as upstream, asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(_run(upstream.url, seconds))


if __name__ == "__main__":
    for result in run(4.0):
        print(result.line())
