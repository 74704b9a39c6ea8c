"""Stream-filter CPU per streamed reply: the session alone and each wire format's filter.

A 1 KB reply (``bench.texts.prose``) arrives in 8-character deltas (128 events), the
shape the fake upstream and most model APIs send. Rows (default policy unless the name
says ``no_output_checks``: the floor, parsing and forwarding only):

- ``streaming.session.*``: :class:`~guard.streaming.StreamSession` fed the deltas,
  flushed and closed (the decision is taken and counted). ``clean`` is the prose,
  ``secrets`` the prose with an AWS key and an API key in it (both redacted), ``unicode``
  prose with accented letters, CJK and symbols (the slower folding path).
- ``streaming.openai.*`` / ``streaming.anthropic.*``: the format's stream filter
  (``guard.formats.get(name).stream_filter(call, guard)``) fed the upstream's SSE bytes
  one event per ``feed``, then closed. ``*.tool_arguments``: the same 1 KB as the
  ``content`` of a streamed tool call's JSON arguments (8-character deltas), checked
  leaf by leaf.

``extra``: ``events`` per stream and ``per_event_us`` (the median per stream / events).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from bench._runner import Result, measure
from bench.texts import prose
from guard import Guard, Policy
from guard.engine import text_call
from guard.formats import get
from guard.types import Call

REPLY_SIZE = 1024
DELTA = 8
AWS = "AKIAABCDEFGHIJKLMNOP"
API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz1234"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _deltas(text: str) -> list[str]:
    return [text[i : i + DELTA] for i in range(0, len(text), DELTA)]


def texts() -> dict[str, str]:
    """The replies, 1 KB each: clean prose, prose with two secrets, non-ASCII prose."""
    clean = prose(REPLY_SIZE)
    third = REPLY_SIZE // 3
    secrets = f"{clean[:third]} {AWS} {clean[third : 2 * third]} {API_KEY} {clean[2 * third :]}"
    words = clean.split(" ")
    foreign = ("Grüße", "東京", "café", "naïve", "✓", "Zürich", "—", "déjà")
    unicode = " ".join(w if i % 4 else foreign[i % len(foreign)] for i, w in enumerate(words))
    return {
        "clean": clean,
        "secrets": secrets[:REPLY_SIZE],
        "unicode": (unicode + " " + unicode)[:REPLY_SIZE],
    }


def openai_events(text: str) -> list[bytes]:
    """A ``chat.completion.chunk`` stream as the API sends it (with usage), by event."""
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000}
    head |= {"model": "gpt-4o-mini", "system_fingerprint": "fp_bench"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + _dumps({**head, "choices": [choice], "usage": None}) + b"\n\n"

    usage = {"prompt_tokens": 300, "completion_tokens": 256, "total_tokens": 556}
    return [
        chunk({"role": "assistant", "content": "", "refusal": None}),
        *(chunk({"content": piece}) for piece in _deltas(text)),
        chunk({}, "stop"),
        b"data: " + _dumps({**head, "choices": [], "usage": usage}) + b"\n\n",
        b"data: [DONE]\n\n",
    ]


def tool_arguments(text: str) -> str:
    """Tool-call arguments carrying ``text``, as a model writes a file through a tool."""
    return json.dumps({"path": "notes/invoices.md", "mode": "w", "content": text, "n": 3})


def openai_tool_events(text: str) -> list[bytes]:
    """A streamed tool call whose arguments (1 KB of text in JSON) come in 8-character
    deltas, as ``chat.completion.chunk`` events."""
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000}
    head |= {"model": "gpt-4o-mini", "system_fingerprint": "fp_bench"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + _dumps({**head, "choices": [choice]}) + b"\n\n"

    opening = {"index": 0, "id": "call_bench", "type": "function"}
    opening["function"] = {"name": "write_file", "arguments": ""}
    return [
        chunk({"role": "assistant", "content": None, "tool_calls": [opening]}),
        *(
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in _deltas(tool_arguments(text))
        ),
        chunk({}, "tool_calls"),
        b"data: [DONE]\n\n",
    ]


def anthropic_tool_events(text: str) -> list[bytes]:
    """A streamed ``tool_use`` block whose input (1 KB of text in JSON) comes in
    8-character ``input_json_delta`` events."""

    def event(data: dict[str, Any]) -> bytes:
        return b"event: " + str(data["type"]).encode() + b"\ndata: " + _dumps(data) + b"\n\n"

    message: dict[str, Any] = {"id": "msg_bench", "type": "message", "role": "assistant"}
    message |= {"model": "claude-bench", "content": [], "stop_reason": None}
    opening = {"type": "tool_use", "id": "toolu_bench", "name": "write_file", "input": {}}
    stop = {"stop_reason": "tool_use", "stop_sequence": None}
    return [
        event({"type": "message_start", "message": message}),
        event({"type": "content_block_start", "index": 0, "content_block": opening}),
        *(
            event({"type": "content_block_delta", "index": 0, "delta": delta})
            for delta in (
                {"type": "input_json_delta", "partial_json": piece}
                for piece in _deltas(tool_arguments(text))
            )
        ),
        event({"type": "content_block_stop", "index": 0}),
        event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 256}}),
        event({"type": "message_stop"}),
    ]


def anthropic_events(text: str) -> list[bytes]:
    """A messages event stream as the API sends it, by event."""

    def event(data: dict[str, Any]) -> bytes:
        return b"event: " + str(data["type"]).encode() + b"\ndata: " + _dumps(data) + b"\n\n"

    message: dict[str, Any] = {"id": "msg_bench", "type": "message", "role": "assistant"}
    message |= {"model": "claude-bench", "content": [], "stop_reason": None}
    message |= {"stop_sequence": None, "usage": {"input_tokens": 300, "output_tokens": 1}}
    opening = {"type": "text", "text": ""}
    stop = {"stop_reason": "end_turn", "stop_sequence": None}
    return [
        event({"type": "message_start", "message": message}),
        event({"type": "content_block_start", "index": 0, "content_block": opening}),
        event({"type": "ping"}),
        *(
            event({"type": "content_block_delta", "index": 0, "delta": delta})
            for delta in ({"type": "text_delta", "text": piece} for piece in _deltas(text))
        ),
        event({"type": "content_block_stop", "index": 0}),
        event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 256}}),
        event({"type": "message_stop"}),
    ]


def _session_stream(guard: Guard, deltas: list[str]) -> Callable[[], object]:
    def operation() -> object:
        session = guard.stream(text_call("q"))
        for piece in deltas:
            session.feed("text", piece)
        session.flush("text")
        return session.close()

    return operation


def _filter_stream(guard: Guard, name: str, events: list[bytes]) -> Callable[[], object]:
    fmt, call = get(name), _call(name)

    def operation() -> object:
        stream = fmt.stream_filter(call, guard)
        for event in events:
            stream.feed(event)
        return stream.close()

    return operation


def _call(name: str) -> Call:
    body: dict[str, Any] = {"model": "m", "stream": True, "max_tokens": 512}
    body["messages"] = [{"role": "user", "content": "Tell me about invoices."}]
    if name == "openai.chat":
        body["stream_options"] = {"include_usage": True}
    return get(name).parse_request(_dumps(body))


def _check_filter(guard: Guard, name: str, events: list[bytes], expected: str) -> None:
    """The filter sends the reply the full-text check would (sanity, not timed)."""
    stream = get(name).stream_filter(_call(name), guard)
    for event in events:
        stream.feed(event)
    stream.close()
    assert stream.reply.text == expected, f"{name}: the streamed reply differs"


def _row(name: str, operation: Callable[[], object], events: int, seconds: float) -> Result:
    result = measure(name, operation, seconds=seconds, events=events)
    result.extra["per_event_us"] = round(result.median_ms * 1000 / events, 2)
    return result


def run(seconds: float) -> list[Result]:
    guards = {
        "default": Guard("default", registry=CollectorRegistry()),
        "no_output_checks": Guard(
            Policy.from_yaml("name: no-output-checks\n"), registry=CollectorRegistry()
        ),
    }
    results = []
    for kind, text in texts().items():
        deltas = _deltas(text)
        operation = _session_stream(guards["default"], deltas)
        results.append(_row(f"streaming.session.{kind}", operation, len(deltas), seconds))
    clean = texts()["clean"]
    for short, name, render in (
        ("openai", "openai.chat", openai_events),
        ("anthropic", "anthropic.messages", anthropic_events),
    ):
        events = render(clean)
        _check_filter(guards["default"], name, events, clean)
        for policy, guard in guards.items():
            operation = _filter_stream(guard, name, events)
            results.append(_row(f"streaming.{short}.{policy}", operation, len(events), seconds))
    # Tool-call arguments: each string leaf is decoded and checked as its own stream.
    for short, name, render in (
        ("openai", "openai.chat", openai_tool_events),
        ("anthropic", "anthropic.messages", anthropic_tool_events),
    ):
        events = render(clean)
        operation = _filter_stream(guards["default"], name, events)
        results.append(_row(f"streaming.{short}.tool_arguments", operation, len(events), seconds))
    return results
