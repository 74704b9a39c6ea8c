"""Consecutive text blocks of a streamed Anthropic message are read as one text.

The stream filter's result is compared with the complete reply's (which reads a message's
text blocks as one: guard.checks._text_parts) over block layouts and random byte splits;
the event grammar stays valid; a block's stop event waits only as long as the checks hold
its text back; thinking and tool_use blocks are never joined to text.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy
from guard.formats.anthropic import FORMAT

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
PII_OUTPUT = """\
output:
  - check: pii
    action: redact
    entities: [EMAIL_ADDRESS, CREDIT_CARD]
"""

Block = tuple[str, str]  # (type, text): "text", "thinking" or "tool_use" (its input JSON)


@pytest.fixture(scope="module")
def default() -> Guard:
    return Guard(registry=CollectorRegistry())


@pytest.fixture(scope="module")
def pii() -> Guard:
    return Guard(Policy.from_yaml(PII_OUTPUT), registry=CollectorRegistry())


def _event(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


def _message(blocks: list[Block], size: int = 5, ping: bool = True, cite: bool = False) -> bytes:
    """An upstream event stream of ``blocks``, text cut every ``size`` characters."""
    start = {"id": "m", "type": "message", "role": "assistant", "model": "claude-x",
             "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
    events = [_event({"type": "message_start", "message": start})]
    fields = {"text": ("text_delta", "text"), "thinking": ("thinking_delta", "thinking"),
              "tool_use": ("input_json_delta", "partial_json")}  # fmt: skip
    for index, (kind, text) in enumerate(blocks):
        opening: dict[str, Any] = {"type": kind, kind if kind != "tool_use" else "input": ""}
        if kind == "tool_use":
            opening = {"type": "tool_use", "id": f"t{index}", "name": "f", "input": {}}
        events.append(_event({"type": "content_block_start", "index": index,
                              "content_block": opening}))  # fmt: skip
        if cite and kind == "text" and index:
            citation = {"type": "char_location", "cited_text": "a source", "document_index": 0,
                        "document_title": "doc", "start_char_index": 0, "end_char_index": 8}  # fmt: skip
            delta = {"type": "citations_delta", "citation": citation}
            events.append(_event({"type": "content_block_delta", "index": index, "delta": delta}))
        delta_type, field = fields[kind]
        for i in range(0, len(text), size):
            delta = {"type": delta_type, field: text[i : i + size]}
            events.append(_event({"type": "content_block_delta", "index": index, "delta": delta}))
        if kind == "thinking":
            delta = {"type": "signature_delta", "signature": "sig"}
            events.append(_event({"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(_event({"type": "content_block_stop", "index": index}))
        if ping:
            events.append(b'event: ping\ndata: {"type": "ping"}\n\n')
    stop = {"stop_reason": "end_turn", "stop_sequence": None}
    events.append(_event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 9}}))
    return b"".join(events) + _event({"type": "message_stop"})


def _complete(guard: Guard, blocks: list[Block]) -> list[str]:
    """Each block's text (a tool call's input JSON) after the complete reply's checks."""
    content: list[dict[str, Any]] = []
    for index, (kind, text) in enumerate(blocks):
        if kind == "tool_use":
            content.append({"type": "tool_use", "id": f"t{index}", "name": "f",
                            "input": json.loads(text)})  # fmt: skip
        else:
            content.append(
                {"type": kind, kind: text} | ({"signature": "s"} if kind == "thinking" else {})
            )
    body = {"id": "m", "type": "message", "role": "assistant", "model": "claude-x",
            "content": content, "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
    call = FORMAT.parse_request(_request())
    reply = FORMAT.parse_reply(call, json.dumps(body).encode())
    guard.after(call, reply)
    sent = json.loads(FORMAT.reply_body(reply))["content"]
    return [json.dumps(b["input"]) if b["type"] == "tool_use" else b[b["type"]] for b in sent]


def _request() -> bytes:
    body = {"model": "claude-x", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    return json.dumps(body | {"stream": True}).encode()


def _splits(data: bytes, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), min(30, len(data) - 1)))
    for a, b in itertools.pairwise([0, *cuts, len(data)]):
        yield data[a:b]


def _stream(guard: Guard, data: bytes, seed: int) -> tuple[Any, bytes]:
    stream = FORMAT.stream_filter(FORMAT.parse_request(_request()), guard)
    out = b"".join(stream.feed(piece) for piece in _splits(data, seed))
    return stream, out + stream.close()


def _payloads(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in out.split(b"\n") if line.startswith(b"data: ")]


def _blocks_received(out: bytes) -> list[str]:
    """Each block's text as the client assembles it; asserts the event grammar: starts
    in index order, each delta inside its open block, one block open at a time."""
    texts: list[str] = []
    open_block: int | None = None
    for payload in _payloads(out):
        kind = payload["type"]
        if kind == "content_block_start":
            assert open_block is None and payload["index"] == len(texts)
            open_block = payload["index"]
            texts.append("")
        elif kind == "content_block_stop":
            assert payload["index"] == open_block
            open_block = None
        elif kind == "content_block_delta":
            assert payload["index"] == open_block, "a delta outside its block"
            delta = payload["delta"]
            texts[-1] += delta.get("text", delta.get("thinking", delta.get("partial_json", "")))
        elif kind in ("message_delta", "message_stop"):
            assert open_block is None
    return texts


LAYOUTS: list[list[Block]] = [
    [("text", "use sk-proj-abcdefghij"), ("text", "klmnopqrstuvwxyz0123 now")],
    [("text", "key sk-proj-abc"), ("text", "defghijklmno"), ("text", "pqrstuvwxyz0 ok")],
    [("text", "mail maria.lopez@"), ("text", "example.org or "), ("text", "4111 1111 1111 1111")],
    [("text", "first " + KEY), ("text", " and " + KEY + " again")],
    [("text", "use sk-proj-abcdefghij"), ("tool_use", '{"a": "b"}'),
     ("text", "klmnopqrstuvwxyz0123 now")],
    [("thinking", "think sk-proj-abcdefghij"), ("text", "klmnopqrstuvwxyz0123 now")],
    [("text", "use sk-proj-abcdefghij"), ("thinking", "klmnopqrstuvwxyz0123 hm"),
     ("text", "done")],
    [("text", "plain words only, "), ("text", "nothing to find here.")],
    [("text", "use sk-proj-abcdefghij"), ("text", ""), ("text", "klmnopqrstuvwxyz0123 now")],
]  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("layout", range(len(LAYOUTS)))
@pytest.mark.parametrize("policy", ["default", "pii"])
def test_a_streamed_messages_blocks_read_as_its_complete_reply_does(
    policy: str, layout: int, seed: int, default: Guard, pii: Guard
) -> None:
    guard = default if policy == "default" else pii
    blocks = LAYOUTS[layout]
    size = random.Random(seed).randint(1, 9)
    stream, out = _stream(guard, _message(blocks, size, cite=seed % 2 == 1), seed)
    expected = _complete(guard, blocks)
    assert _blocks_received(out) == expected
    assert stream.decision is not None and not stream.decision.blocked
    assert [c.text for c in stream.reply.choices if c.text] == [
        t for (kind, _), t in zip(blocks, expected, strict=True) if kind == "text" and t
    ]


def test_the_two_block_key_is_redacted_in_the_block_where_it_starts(default: Guard) -> None:
    _, out = _stream(default, _message(LAYOUTS[0]), seed=0)
    assert _blocks_received(out) == ["use [API_KEY]", " now"]


@pytest.mark.parametrize("seed", range(6))
def test_a_private_key_cut_across_blocks_ends_the_stream_with_the_error_event(
    default: Guard, seed: int
) -> None:
    before = "A preamble long enough to be released before the key arrives. " * 3
    blocks: list[Block] = [("text", before + "-----BEGIN PRIV"), ("text", "ATE KEY-----\nMII")]
    stream, out = _stream(default, _message(blocks, size=4), seed)
    payloads = _payloads(out)
    assert payloads[-1]["type"] == "error" and "private-key" in payloads[-1]["error"]["message"]
    assert "PRIV" not in "".join(_blocks_received(out.rpartition(b"event: error")[0]))
    assert stream.decision.blocked


def test_a_blocks_stop_waits_only_for_the_text_its_checks_hold(default: Guard) -> None:
    # Block 0 ends in what could start a key: its stop event waits for block 1's text,
    # as long as the api-key rule holds such a tail back within one block (its
    # max_length, 210), and goes out long before block 1 (503 characters) ends.
    blocks: list[Block] = [("text", "the prefix is sk-proj-"), ("text", "x, " + "word " * 100)]
    data = _message(blocks, size=3, ping=False)
    stream = FORMAT.stream_filter(FORMAT.parse_request(_request()), default)
    events = [e + b"\n\n" for e in data.split(b"\n\n") if e]
    fed_of_block_1 = 0
    stop_after: int | None = None
    for raw in events:
        payload = json.loads(raw.split(b"data: ", 1)[1])
        if payload["type"] == "content_block_delta" and payload["index"] == 1:
            fed_of_block_1 += len(payload["delta"]["text"])
        out = stream.feed(raw)
        stops = [p for p in _payloads(out) if p["type"] == "content_block_stop"]
        if stop_after is None and stops:
            assert stops[0]["index"] == 0
            stop_after = fed_of_block_1
    assert stop_after is not None and 0 < stop_after <= 210
    stream.close()
    assert stream.reply.choices[0].text == "the prefix is sk-proj-"


def test_a_block_with_no_text_between_two_is_part_of_the_text(default: Guard) -> None:
    blocks: list[Block] = [("text", "use sk-proj-abcdefghij"), ("text", ""),
                           ("text", "klmnopqrstuvwxyz0123 now")]  # fmt: skip
    _, out = _stream(default, _message(blocks), seed=1)
    assert _blocks_received(out) == ["use [API_KEY]", "", " now"]


def test_a_blocks_stop_with_nothing_held_goes_out_at_once(default: Guard) -> None:
    data = _message([("text", "nothing pending here."), ("text", "more")], ping=False)
    stream = FORMAT.stream_filter(FORMAT.parse_request(_request()), default)
    head, stop, _ = data.partition(
        b'event: content_block_stop\ndata: {"type": "content_block_stop", "index": 0}\n\n'
    )
    assert stop
    out = stream.feed(head) + stream.feed(stop)
    assert out.endswith(stop)
