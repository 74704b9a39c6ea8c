"""D16: an error after the response started ends the stream with the API's error event."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import openai
import pytest

from guard import formats
from guard.formats._responses_sequence import last_number
from guard.proxy import middleware
from guard.proxy.middleware import ApiErrorMiddleware, RequestContext
from guard.proxy.routing import Kind, Route
from tests.e2e.fixtures import ProxyServer
from tests.proxy.raw_upstream import RawRequest, RawUpstream

GOOD_EVENT = {
    "id": "c",
    "object": "chat.completion.chunk",
    "created": 0,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "hello "}, "finish_reason": None}],
}


def deeply_nested_after_one_event(request: RawRequest) -> bytes:
    """R16: one good event, then an event the JSON parser cannot survive."""
    data = b"data: %s\n\n" % json.dumps(GOOD_EVENT).encode() + b"data: " + b"[" * 100_000 + b"\n\n"
    return b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n\r\n%s" % (
        len(data),
        data,
    )


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def server_log_records() -> Iterator[Records]:
    """Records of uvicorn's error log (attach after uvicorn configured its logging)."""
    records = Records()
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "guardwire.proxy")]
    for logger in loggers:
        logger.addHandler(records)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(records)


def test_error_mid_stream_ends_with_an_error_event_not_a_second_start(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    upstream = RawUpstream(deeply_nested_after_one_event).start()
    try:
        server = start_proxy(upstream=upstream.url)
        with server_log_records() as server_log:
            client = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
            stream = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            with pytest.raises(openai.APIError):
                for _ in stream:
                    pass
            assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    finally:
        upstream.stop()
    messages = [record.getMessage() for record in server_log.records]
    assert not any("Expected ASGI message" in message for message in messages), messages
    assert not any(
        record.exc_info for record in server_log.records if record.name == "uvicorn.error"
    )


async def test_error_before_the_start_is_a_complete_api_error() -> None:
    async def failing(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("boom")

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [], "state": {"guardwire": RequestContext("r1", 0.0)}}
    await ApiErrorMiddleware(failing, policy=b"p")(scope, None, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 500
    body = json.loads(sent[1]["body"])  # type: ignore[arg-type]
    assert body["error"]["code"] == "internal_error" and "boom" not in json.dumps(body)


async def test_error_after_a_stream_started_sends_one_error_event_and_ends() -> None:
    async def failing_stream(scope: object, receive: object, send: Callable[..., object]) -> None:
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream; charset=utf-8")],
        }
        await send(start)  # type: ignore[misc]
        await send({"type": "http.response.body", "body": b"data: {}\n\n", "more_body": True})  # type: ignore[misc]
        raise RecursionError

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [], "state": {"guardwire": RequestContext("r2", 0.0)}}
    await ApiErrorMiddleware(failing_stream, policy=b"p")(scope, None, send)  # type: ignore[arg-type]
    assert [m["type"] for m in sent].count("http.response.start") == 1
    assert b"internal error in guardwire" in sent[2]["body"]  # type: ignore[operator]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.parametrize(
    ("api", "read"),
    [("openai.chat", False), ("anthropic.messages", False), ("openai.responses", True)],
)
async def test_only_a_responses_stream_is_read_for_its_last_sequence_number(
    monkeypatch: pytest.MonkeyPatch, api: str, read: bool
) -> None:
    """Reading every chunk for a ``sequence_number`` is the Responses API's cost only."""
    reads: list[bytes] = []

    def counted_last_number(sent: bytes) -> int | None:
        reads.append(sent)
        return last_number(sent)

    monkeypatch.setattr(middleware, "last_number", counted_last_number)
    event = b'event: response.created\ndata: {"type":"response.created","sequence_number":4}\n\n'

    async def failing_stream(scope: object, receive: object, send: Callable[..., object]) -> None:
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream; charset=utf-8")],
        }
        await send(start)  # type: ignore[misc]
        for _ in range(3):
            await send({"type": "http.response.body", "body": event, "more_body": True})  # type: ignore[misc]
        raise RecursionError

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    context = RequestContext("r3", 0.0, route=Route(Kind.MODEL_CALL, api, formats.get(api)))
    scope = {"type": "http", "headers": [], "state": {"guardwire": context}}
    await ApiErrorMiddleware(failing_stream, policy=b"p")(scope, None, send)  # type: ignore[arg-type]
    assert len(reads) == (3 if read else 0)
    error = sent[-2]["body"]
    assert b"internal error in guardwire" in error
    assert (b'"sequence_number":5' in error) is read
