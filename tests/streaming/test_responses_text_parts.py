"""The ``output_text`` parts of one streamed Responses message are read as one text.

The stream filter's result is compared with the complete reply's (which reads a
message's parts as one: guard.checks._text_parts) over part layouts and random byte
splits, with and without delta events; the events that repeat a part's text
(``output_text.done``, ``content_part.done``, ``output_item.done``, the terminal event)
carry what the client was sent; the official SDK's stream helper accepts the result.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy
from guard.formats.openai_responses import FORMAT

PII_OUTPUT = """\
output:
  - check: pii
    action: redact
    entities: [EMAIL_ADDRESS, CREDIT_CARD]
"""
KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"


@pytest.fixture(scope="module")
def default() -> Guard:
    return Guard(registry=CollectorRegistry())


@pytest.fixture(scope="module")
def pii() -> Guard:
    return Guard(Policy.from_yaml(PII_OUTPUT), registry=CollectorRegistry())


def _request() -> bytes:
    return json.dumps({"model": "gpt-4o", "input": "hi", "stream": True}).encode()


def _body(parts: list[tuple[str, str]]) -> dict[str, Any]:
    """A response with one message of ``parts`` ((type, text): output_text or refusal)."""
    content = [
        {"type": kind, "refusal": text}
        if kind == "refusal"
        else {"type": kind, "text": text, "annotations": []}
        for kind, text in parts
    ]
    message = {"id": "msg", "type": "message", "role": "assistant", "status": "completed",
               "content": content}  # fmt: skip
    return {"id": "r", "object": "response", "created_at": 1, "status": "completed",
            "model": "gpt-4o", "output": [message],
            "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}  # fmt: skip


def _upstream(body: dict[str, Any], deltas: bool) -> bytes:
    call = FORMAT.parse_request(_request())
    events = FORMAT.render_stream(call, FORMAT.reply_from_raw(json.loads(json.dumps(body))))
    return b"".join(e for e in events if deltas or b".delta\n" not in e)


def _complete(guard: Guard, body: dict[str, Any]) -> list[str]:
    call = FORMAT.parse_request(_request())
    reply = FORMAT.parse_reply(call, json.dumps(body).encode())
    guard.after(call, reply)
    content = json.loads(FORMAT.reply_body(reply))["output"][0]["content"]
    return [part.get("text", part.get("refusal")) for part in content]


def _splits(data: bytes, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), 30))
    for a, b in itertools.pairwise([0, *cuts, len(data)]):
        yield data[a:b]


def _payloads(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in out.split(b"\n") if line.startswith(b"data: ")]


def _received(out: bytes, count: int) -> list[str]:
    """Each part's delta text; asserts every event repeating a part's text agrees and
    that a part's deltas come between its ``content_part.added`` and ``.done``."""
    payloads = _payloads(out)
    texts = [""] * count
    opened: set[int] = set()
    for p in payloads:
        kind, number = p["type"], p.get("content_index")
        if kind == "response.content_part.added":
            opened.add(number)
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            assert number in opened, "a delta outside its part"
            texts[number] += p["delta"]
        elif kind == "response.output_text.done":
            assert p["text"] == texts[number]
        elif kind == "response.content_part.done":
            opened.remove(number)
            part = p["part"]
            assert part.get("text", part.get("refusal")) == texts[number]
    final = payloads[-1]["response"]["output"][0]["content"]
    assert [part.get("text", part.get("refusal")) for part in final] == texts
    return texts


LAYOUTS: list[list[tuple[str, str]]] = [
    [("output_text", "use sk-proj-abcdefghij"), ("output_text", "klmnopqrstuvwxyz0123 now")],
    [("output_text", "key sk-proj-abc"), ("output_text", "defghijklmno"),
     ("output_text", "pqrstuvwxyz0 ok")],
    [("output_text", "mail maria.lopez@"), ("output_text", "example.org or "),
     ("output_text", "4111 1111 1111 1111")],
    [("output_text", "first " + KEY), ("output_text", " and " + KEY + " again")],
    [("output_text", "use sk-proj-abcdefghij"), ("refusal", "klmnopqrstuvwxyz0123 no")],
    [("output_text", "plain words only, "), ("output_text", "nothing to find here.")],
    [("output_text", "use sk-proj-abcdefghij"), ("output_text", ""),
     ("output_text", "klmnopqrstuvwxyz0123 now")],
]  # fmt: skip


@pytest.mark.parametrize("deltas", [True, False])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("layout", range(len(LAYOUTS)))
@pytest.mark.parametrize("policy", ["default", "pii"])
def test_a_streamed_messages_parts_read_as_its_complete_reply_does(
    policy: str, layout: int, seed: int, deltas: bool, default: Guard, pii: Guard
) -> None:
    guard = default if policy == "default" else pii
    body = _body(LAYOUTS[layout])
    stream = FORMAT.stream_filter(FORMAT.parse_request(_request()), guard)
    out = b"".join(stream.feed(piece) for piece in _splits(_upstream(body, deltas), seed))
    out += stream.close()
    expected = _complete(guard, body)
    if deltas:
        assert _received(out, len(expected)) == expected
    final = _payloads(out)[-1]["response"]["output"][0]["content"]
    assert [part.get("text", part.get("refusal")) for part in final] == expected
    assert not stream.decision.blocked


def test_the_sdk_reads_the_parts_redacted_as_one(default: Guard) -> None:
    stream = FORMAT.stream_filter(FORMAT.parse_request(_request()), default)
    out = stream.feed(_upstream(_body(LAYOUTS[0]), True)) + stream.close()

    def respond(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=out, headers={"content-type": "text/event-stream"})

    client = openai.OpenAI(
        api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(respond))
    )
    with client.responses.stream(model="m", input="hi") as events:
        list(events)
        final = events.get_final_response()
    assert [part.text for part in final.output[0].content] == [  # type: ignore[union-attr]
        "use [API_KEY]",
        " now",
    ]


@pytest.mark.parametrize("seed", range(4))
def test_a_private_key_cut_across_parts_ends_the_stream_with_the_error_event(
    default: Guard, seed: int
) -> None:
    before = "A preamble long enough to be released before the key arrives. " * 3
    body = _body([("output_text", before + "-----BEGIN PRIV"), ("output_text", "ATE KEY-----")])
    stream = FORMAT.stream_filter(FORMAT.parse_request(_request()), default)
    out = b"".join(stream.feed(piece) for piece in _splits(_upstream(body, True), seed))
    out += stream.close()
    payloads = _payloads(out)
    assert payloads[-1]["type"] == "error" and "private-key" in payloads[-1]["error"]["message"]
    assert b"PRIV" not in out and stream.decision.blocked
