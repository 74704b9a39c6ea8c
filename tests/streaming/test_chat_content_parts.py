"""Chat ``content`` streamed as a list of parts (some OpenAI-compatible servers; the
OpenAI API itself streams ``content`` as a string) is read as one text per choice: the
text parts of one chunk, and of successive chunks, continue each other, as a complete
reply's parts are read (guard.checks._text_parts). What goes out, joined, is the
redacted text; a blocked value ends the stream with the error chunk.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from guard.formats.openai import FORMAT


@pytest.fixture(scope="module")
def default() -> Guard:
    return Guard(registry=CollectorRegistry())


def _chunks(*contents: list[str], finish: bool = True) -> bytes:
    head = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    choices: list[dict[str, Any]] = [
        {"index": 0, "delta": {"content": [{"type": "text", "text": t} for t in texts]}}
        for texts in contents
    ]
    if finish:
        choices.append({"index": 0, "delta": {}, "finish_reason": "stop"})
    events = [f"data: {json.dumps(head | {'choices': [c]})}\n\n".encode() for c in choices]
    return b"".join(events) + b"data: [DONE]\n\n"


def _said(out: bytes) -> tuple[str, list[dict[str, Any]]]:
    payloads = [json.loads(line[6:]) for line in out.split(b"\n") if line.startswith(b"data: {")]
    text = "".join(
        part.get("text", "")
        for payload in payloads
        for choice in payload.get("choices", ())
        for part in (choice["delta"].get("content") or [])
        if isinstance(part, dict)
    )
    return text, payloads


def _run(guard: Guard, data: bytes) -> tuple[Any, bytes]:
    body = b'{"model": "m", "stream": true, "messages": [{"role": "user", "content": "q"}]}'
    stream = FORMAT.stream_filter(FORMAT.parse_request(body), guard)
    out = b"".join(stream.feed(data[at : at + 50]) for at in range(0, len(data), 50))
    return stream, out + stream.close()


@pytest.mark.parametrize(
    "contents",
    [
        [["use sk-proj-abcdefghij", "klmnopqrstuvwxyz0123 now"]],
        [["use sk-proj-abc", "defghij"], ["klmnopqrstuvwxyz0123", " now"]],
        [["use sk-proj-abcdefghij"], ["klmnopqrstuv", "wxyz0123 now"]],
    ],
)
def test_a_key_cut_across_content_parts_is_redacted(
    default: Guard, contents: list[list[str]]
) -> None:
    _, out = _run(default, _chunks(*contents))
    said, _ = _said(out)
    assert said == "use [API_KEY] now"


def test_a_private_key_cut_across_the_parts_of_one_chunk_ends_the_stream(default: Guard) -> None:
    stream, out = _run(default, _chunks(["here -----BEGIN PRIV", "ATE KEY-----\nMII"]))
    said, payloads = _said(out)
    assert "PRIV" not in said and "private-key" in payloads[-1]["error"]["message"]
    assert stream.decision.blocked
