"""A long streamed reply costs memory close to its text, not millions of small strings
(newuser-trial §3.9: a 30 MB stream took the proxy from 53 MB to 650 MB)."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable

from guard import Guard
from guard.formats import get
from guard.formats._parts import Parts


def test_parts_join_runs_and_keep_the_text() -> None:
    parts = Parts()
    pieces = [f"p{i};" for i in range(10_000)]
    for piece in pieces:
        parts.append(piece)
    assert "".join(parts) == "".join(pieces)
    assert len(parts) < 300  # runs of 256 joined, not 10,000 strings


def test_a_long_stream_costs_memory_close_to_its_text(make_guard: Callable[..., Guard]) -> None:
    fmt = get("openai.chat")
    body = json.dumps(
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]}
    )
    guard = make_guard()
    stream = fmt.stream_filter(fmt.parse_request(body.encode()), guard)
    delta = "abcdefgh"
    count = 250_000  # 2 MB of text in 8-character deltas
    events = [
        b"data: "
        + json.dumps({"id": "c", "choices": [{"index": 0, "delta": {"content": delta}}]}).encode()
        + b"\n\n"
    ] * 1000
    tracemalloc.start()
    try:
        for _ in range(count // 1000):
            stream.feed(b"".join(events))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text_bytes = count * len(delta)
    # Small strings cost ~57 bytes each: holding every delta would peak above 7x the text.
    assert peak < 3 * text_bytes, peak
