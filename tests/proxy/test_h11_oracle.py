"""Table-driven response parsing, with h11 (the state machine under httpcore) as the oracle.

Each response is fed to one :class:`~guard.proxy.connection.Connection` split at random
points, then the connection ends (EOF). Where h11 yields a final response, ours must
yield the same status, headers and body; where h11 reports a protocol error, ours must
raise. Bytes after the final message must never be delivered, and the connection must
then not be reused. One deliberate difference: llhttp refuses bare-LF line ends, which
h11 tolerates; refusing is the safer reading for a proxy (no framing ambiguity).
"""

from __future__ import annotations

import random
from typing import Any

import h11
import pytest

from guard.errors import UpstreamError
from guard.proxy.connection import Connection

CL = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"
CASES = {
    "content-length": CL,
    "chunked": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "chunked-extensions-trailers": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nx-t: 1\r\n\r\n",
    "close-delimited": b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end",
    "no-content": b"HTTP/1.1 204 No Content\r\n\r\n",
    "not-modified": b"HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n",
    "error-status": b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 2\r\n\r\n{}",
    "interim-100": b"HTTP/1.1 100 Continue\r\n\r\n" + CL,
    "interim-103-twice": b"HTTP/1.1 103 Early Hints\r\nlink: a\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n"
    + CL,
    "http-1.0": b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
    "surplus-bytes": CL + b"EXTRA",
    "surplus-response": CL + CL,
    "truncated-content-length": b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello",
    "truncated-chunked": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n",
    "truncated-head": b"HTTP/1.1 200 OK\r\ncontent-le",
    "empty": b"",
    "not-http": b"SSH-2.0-OpenSSH_9.6\r\n",
    "bad-content-length": b"HTTP/1.1 200 OK\r\ncontent-length: 5x\r\n\r\nhello",
    "bad-chunk-size": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "space-before-colon": b"HTTP/1.1 200 OK\r\ncontent-length : 5\r\n\r\nhello",
}


def oracle(raw: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """h11's reading: the final response, or ``None`` for a protocol error."""
    client = h11.Connection(h11.CLIENT)
    client.send(
        h11.Request(method="POST", target="/", headers=[("host", "x"), ("content-length", "0")])
    )
    client.send(h11.EndOfMessage())
    client.receive_data(raw)
    client.receive_data(b"")
    status, headers, body = 0, [], b""
    try:
        while True:
            event = client.next_event()
            if isinstance(event, h11.Response):
                status, headers = event.status_code, [(n, v) for n, v in event.headers]
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return status, headers, body
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return None
    except h11.RemoteProtocolError:
        return None


class _Transport:
    def __init__(self) -> None:
        self.aborted = False

    def write(self, data: bytes) -> None: ...
    def abort(self) -> None:
        self.aborted = True

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def get_extra_info(self, name: str) -> Any:
        return None


async def ours(
    raw: bytes, cuts: list[int]
) -> tuple[tuple[int, list[tuple[bytes, bytes]], bytes] | None, bool]:
    connection = Connection("oracle", read_timeout=5, max_body=1 << 20)
    transport = _Transport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    connection.send(b"POST / HTTP/1.1\r\n\r\n", b"")
    start = 0
    for end in [*cuts, len(raw)]:
        if raw[start:end] and not transport.aborted:
            connection.data_received(raw[start:end])
        start = end
    connection.connection_lost(None)
    try:
        await connection.response_head()
        body = await connection.body()
    except UpstreamError:
        return None, False
    headers = [(name.lower(), value) for name, value in connection.headers]
    return (connection.status, headers, body), connection.reusable()


STRICTER = {"lf-only-line-ends": b"HTTP/1.1 200 OK\ncontent-length: 2\n\nok"}


@pytest.mark.parametrize("name", CASES)
async def test_responses_read_as_h11_reads_them(name: str) -> None:
    raw = CASES[name]
    expected = oracle(raw)
    chooser = random.Random(name)
    for _ in range(4):
        cuts = sorted(chooser.sample(range(1, max(2, len(raw))), k=min(3, max(0, len(raw) - 1))))
        got, reusable = await ours(raw, cuts)
        if expected is None:
            assert got is None, (name, cuts, got)
        else:
            assert got == expected, (name, cuts)
        assert not reusable  # the connection ended (EOF) in every case


@pytest.mark.parametrize("name", STRICTER)
async def test_stricter_than_h11_where_it_is_safer(name: str) -> None:
    assert oracle(STRICTER[name]) is not None
    assert (await ours(STRICTER[name], []))[0] is None
