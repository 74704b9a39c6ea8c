"""A raw-socket upstream that records the exact bytes it receives.

Each request is split only by ``\\r\\n\\r\\n`` and ``content-length`` (the way a real
HTTP/1.1 server would), so a smuggled second request shows up as a second entry.
The answer is scripted by a function of the request (default: an OpenAI chat reply).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

CHAT_REPLY = {
    "id": "chatcmpl-raw",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hello from raw"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
}


@dataclass
class RawRequest:
    """One request as received: the request line, header lines (lower-cased names), body."""

    line: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)

    @property
    def target(self) -> bytes:
        return self.line.split(b" ")[1]


Reply = Callable[[RawRequest], bytes]


def json_response(body: object, *, status: int = 200, headers: bytes = b"") -> bytes:
    data = json.dumps(body).encode()
    return b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s" % (
        status,
        len(data),
        headers,
        data,
    )


def chat_reply(request: RawRequest) -> bytes:
    return json_response(CHAT_REPLY)


class RawUpstream:
    """Serve on 127.0.0.1 in a thread; ``requests`` and ``received`` record what came in."""

    def __init__(self, reply: Reply = chat_reply) -> None:
        self.reply = reply
        self.requests: list[RawRequest] = []
        self.received = bytearray()
        #: Connections accepted (also those that sent nothing, like readiness probes).
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        # Let the connection handlers finish (closing their sockets) before the loop goes.
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = await reader.read(65536)
                    if not chunk:
                        return
                    self.received += chunk
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                line, *lines = head.split(b"\r\n")
                headers = [
                    (name.strip().lower(), value.strip())
                    for name, _, value in (item.partition(b":") for item in lines)
                ]
                length = int(dict(headers).get(b"content-length", b"0") or 0)
                while len(buffer) < length:
                    chunk = await reader.read(65536)
                    if not chunk:
                        return
                    self.received += chunk
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
                request = RawRequest(line, headers, body)
                self.requests.append(request)
                writer.write(self.reply(request))
                await writer.drain()
        except (ConnectionError, ValueError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    def start(self) -> RawUpstream:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def raw_upstream() -> Iterator[RawUpstream]:
    upstream = RawUpstream().start()
    yield upstream
    upstream.stop()
