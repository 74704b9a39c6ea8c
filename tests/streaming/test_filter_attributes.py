"""A stream filter object keeps under CPython 3.11's 30 shared-key instance attributes.

Past them an instance's attributes move to a plain dict and every attribute and method
lookup on the filter gets slower: 30 attributes cost a streamed Anthropic reply +4 %
instructions, 31 a Responses reply +7.9 % (callgrind, 1 KB in 128 deltas). New state
belongs in a holder object or a class default (see guard.formats._stream_runs).
"""

from __future__ import annotations

import json

import pytest
from prometheus_client import CollectorRegistry

from bench import streaming
from guard import Guard
from guard.formats import get
from guard.formats.openai_responses import FORMAT as RESPONSES

LIMIT = 29


def _responses_events(text: str) -> list[bytes]:
    part = {"type": "output_text", "text": text, "annotations": []}
    message = {"id": "msg", "type": "message", "role": "assistant", "status": "completed",
               "content": [part, part]}  # fmt: skip
    body = {"id": "r", "object": "response", "created_at": 1, "status": "completed",
            "model": "m", "output": [message],
            "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}  # fmt: skip
    call = RESPONSES.parse_request(b'{"model": "m", "input": "hi", "stream": true}')
    return list(
        RESPONSES.render_stream(call, RESPONSES.reply_from_raw(json.loads(json.dumps(body))))
    )


@pytest.mark.parametrize("name", ["openai.chat", "anthropic.messages", "openai.responses"])
def test_a_stream_filter_stays_under_the_shared_key_limit(name: str) -> None:
    guard = Guard(registry=CollectorRegistry())
    text = streaming.texts()["secrets"]
    events = {
        "openai.chat": streaming.openai_events,
        "anthropic.messages": streaming.anthropic_events,
        "openai.responses": _responses_events,
    }[name](text)
    stream = get(name).stream_filter(streaming._call(name), guard)
    for event in events:
        stream.feed(event)
    stream.close()
    assert len(vars(stream)) <= LIMIT, sorted(vars(stream))
