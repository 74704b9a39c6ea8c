"""The incremental SSE parser and the encoder (guard/formats/sse.py)."""

from __future__ import annotations

import random

import pytest

from guard.formats.sse import Event, SSEParser, encode, encode_json

# Every line-ending style, a comment, a multi-line data field, an event name, an id, a
# field without a colon, a value without the optional space, and multibyte UTF-8.
STREAM = (
    b": keep-alive\n\n"
    b"event: content_block_delta\r\n"
    b"id: 7\r\n"
    b'data: {"text": "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x8e\x89"}\r\n'
    b"\r\n"
    b"data: line one\rdata:line two\r\r"
    b"data\n"
    b"retry: 10\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    Event(None, "", None, b": keep-alive\n\n"),
    Event('{"text": "héllo 世界 🎉"}', "content_block_delta", "7"),
    Event("line one\nline two", "", "7"),
    Event("", "", "7"),
    Event("[DONE]", "", "7"),
]


def parse(chunks: list[bytes]) -> list[Event]:
    parser = SSEParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return events + parser.close()


def semantic(events: list[Event]) -> list[tuple[str | None, str, str | None]]:
    return [(e.data, e.event, e.id) for e in events]


def test_parses_every_field_and_line_ending() -> None:
    events = parse([STREAM])
    assert semantic(events) == semantic(EXPECTED)
    assert events[0].raw == b": keep-alive\n\n"


def test_raw_bytes_of_events_reassemble_the_stream() -> None:
    assert b"".join(e.raw for e in parse([STREAM])) == STREAM


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_any_single_split_gives_the_same_events(cut: int) -> None:
    events = parse([STREAM[:cut], STREAM[cut:]])
    assert semantic(events) == semantic(EXPECTED)
    assert b"".join(e.raw for e in events) == STREAM


@pytest.mark.parametrize("seed", range(20))
def test_byte_at_a_time_and_random_splits(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(STREAM)), rng.randint(2, 30)))
    chunks = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
    assert semantic(parse(chunks)) == semantic(EXPECTED)
    assert semantic(parse([bytes([b]) for b in STREAM])) == semantic(EXPECTED)


def test_a_trailing_carriage_return_waits_for_a_possible_line_feed() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r\n\r") == []  # "\r" may be the start of "\r\n"
    [event] = parser.feed(b"\n")
    assert (event.data, event.raw) == ("a", b"data: a\r\n\r\n")
    assert parser.feed(b"data: b\r\r") == []
    [event] = parser.feed(b"data: c")  # any next byte settles the held "\r"
    assert event.data == "b"
    assert parser.feed(b"\r\r") == []
    [event] = parser.close()  # at the end, a lone "\r" ends the line
    assert event.data == "c"


def test_an_unterminated_event_is_dropped_at_the_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: complete\n\ndata: cut off") == [
        Event("complete", raw=b"data: complete\n\n")
    ]
    assert parser.close() == []


def test_a_leading_byte_order_mark_is_ignored() -> None:
    [event] = parse([b"\xef\xbb", b"\xbfdata: x\n\n"])
    assert event.data == "x"


def test_encode_round_trips_multiline_data() -> None:
    raw = encode("first\nsecond\r\nthird", "note")
    assert raw == b"event: note\ndata: first\ndata: second\ndata: third\n\n"
    [event] = parse([raw])
    assert (event.data, event.event) == ("first\nsecond\nthird", "note")


def test_encode_json_is_compact_and_keeps_unicode() -> None:
    assert encode_json({"a": "é\n"}) == b'data: {"a":"\xc3\xa9\\n"}\n\n'
    assert encode_json({"type": "ping"}, "ping") == b'event: ping\ndata: {"type":"ping"}\n\n'


# What servers send: "\n" line ends, whole events. Fed one event per read, the parser
# takes its fast path for the usual shapes; byte at a time it cannot.
LF_EVENTS = [
    b'data: {"a": 1}\n\n',
    b'event: content_block_delta\ndata: {"b": "\xc3\xa9"}\n\n',
    b": keep-alive\n\n",
    b"id: 9\ndata: x\n\n",
    b"data: two\ndata: lines\n\n",
    b"event: ping\n\n",
    b"event: e\ndata:no-space\n\n",
    b"data: \n\n",
    b"\n",  # a stray blank line
    b"data: after the stray line\n\n",
    b"data: [DONE]\n\n",
]


@pytest.mark.parametrize("grouping", ["one event per chunk", "all at once", "pairs"])
def test_whole_events_parse_as_they_do_byte_at_a_time(grouping: str) -> None:
    stream = b"".join(LF_EVENTS)
    if grouping == "one event per chunk":
        chunks = LF_EVENTS
    elif grouping == "all at once":
        chunks = [stream]
    else:
        chunks = [b"".join(LF_EVENTS[i : i + 2]) for i in range(0, len(LF_EVENTS), 2)]
    slow = parse([bytes([b]) for b in stream])
    fast = parse(chunks)
    assert [(e.data, e.event, e.id, e.raw) for e in fast] == [
        (e.data, e.event, e.id, e.raw) for e in slow
    ]
    assert b"".join(e.raw for e in fast) == stream


def test_an_unfinished_line_or_event_is_bounded() -> None:
    """D12: an upstream that never ends a line (or an event) cannot grow the parser."""
    from guard.errors import UpstreamError

    parser = SSEParser(max_line=1024, max_event=4096)
    parser.feed(b"data: " + b"x" * 1000)
    with pytest.raises(UpstreamError, match="a line longer than 1024 bytes") as raised:
        parser.feed(b"x" * 100)
    assert raised.value.code == "upstream_too_large"
    parser = SSEParser(max_line=1024, max_event=4096)
    with pytest.raises(UpstreamError, match="a line longer"):
        parser.feed(b"data: ok\n" + b"y" * 2000)  # an unfinished line after a complete one
    parser = SSEParser(max_line=1024, max_event=4096)
    with pytest.raises(UpstreamError, match="an event longer than 4096 bytes"):
        for _ in range(10):
            parser.feed(b"data: " + b"z" * 500 + b"\n")  # lines, but never a blank one
    parser = SSEParser(max_line=1024, max_event=4096)
    for _ in range(100):  # many complete events: nothing accumulates
        assert len(parser.feed(b"data: " + b"w" * 900 + b"\n\n")) == 1


def test_default_bounds_allow_large_real_events() -> None:
    parser = SSEParser()
    big = b"data: " + b"a" * (900 << 10) + b"\n"
    events = [event for piece in (big[:1000], big[1000:], b"\n") for event in parser.feed(piece)]
    assert len(events) == 1 and len(events[0].data or "") == 900 << 10
