"""A fault-injecting upstream: raw HTTP/1.1 whose every byte a test scripts.

Each accepted connection runs the test's ``answer`` coroutine once per request read from
it (``answer(request, writer)`` returns whether to keep the connection). The server
records every request and counts connections, so tests can assert "exactly one request
reached the upstream" or "the connection was closed".

Two ways to run it:

- in the test's own event loop (``async with FaultUpstream(answer) as up``) for client
  tests;
- in a thread with its own loop (``with FaultUpstream(answer).threaded() as up``) when a
  proxy under uvicorn runs in another thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

Answer = Callable[["Request", asyncio.StreamWriter], Awaitable[bool]]


@dataclass(frozen=True)
class Request:
    """One request as received (head with its blank line, and the body)."""

    head: bytes
    body: bytes
    #: 0 for the first request on its connection, 1 for the next...
    on_connection: int


async def read_request(reader: asyncio.StreamReader, number: int = 0) -> Request:
    """Read one ``Content-Length`` request."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return Request(head, await reader.readexactly(length), number)


def reply(raw: bytes, *, keep: bool = True, delay: float = 0.0) -> Answer:
    """An answer that writes ``raw`` (after ``delay`` seconds)."""

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        if delay:
            await asyncio.sleep(delay)
        writer.write(raw)
        await writer.drain()
        return keep

    return answer


def ok(body: bytes = b"ok") -> bytes:
    """A complete 200 response with ``Content-Length``."""
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


class FaultUpstream:
    """A scripted raw HTTP/1.1 server on 127.0.0.1."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self.connections = 0
        #: Connections currently open on the server side.
        self.open = 0
        self.url = ""
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> FaultUpstream:
        """Listen on a free port; ``url`` is set."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()

    async def __aenter__(self) -> FaultUpstream:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextmanager
    def threaded(self) -> Iterator[FaultUpstream]:
        """Serve from a thread with its own event loop (for a proxy in another thread)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), loop).result(5)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self._writers.add(writer)
        try:
            number = 0
            while True:
                try:
                    request = await read_request(reader, number)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.requests.append(request)
                number += 1
                if not await self.answer(request, writer):
                    return
        except (ConnectionError, asyncio.CancelledError):
            return  # the test is over: stop quietly
        finally:
            self.open -= 1
            self._writers.discard(writer)
            writer.transport.abort()
