"""An error event guardwire itself ends a Responses stream with follows the last event.

The stream filter numbers the events it sends and its own error events
(``_responses_sequence``). An error raised outside the filter once the stream has begun
is sent by the proxy's middleware, and a buffered reply whose reask the upstream refuses
ends in the call handler: those events must count on from the last one sent too (the
openai SDK's ``sequence_number`` is how a client orders and resumes events).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard.checks.base import CheckContext
from guard.formats._responses_sequence import NumberedEvents, last_number, numbered_after
from guard.types import Action, Call, Reply, Verdict
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe.test_sdk_shapes import sse_events

BODY = {"model": "m", "input": "q", "stream": True}


def _numbers(response: httpx.Response) -> tuple[list[int], list[str | None]]:
    events = sse_events(response.text)
    return [json.loads(data)["sequence_number"] for _, data in events], [n for n, _ in events]


def test_an_error_after_some_events_is_numbered_after_them(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = NumberedEvents.feed
    calls = 0

    def failing_feed(self: NumberedEvents, data: bytes) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 3:  # events have gone out by now
            raise RuntimeError("a fault inside the proxy")
        return feed(self, data)

    monkeypatch.setattr(NumberedEvents, "feed", failing_feed)
    fake_upstream.enqueue(Script(text="a plain answer", chunk_size=4, stream_delay=0.005))
    response = httpx.post(upstream_proxy.url + "/v1/responses", json=BODY, timeout=10)
    numbers, names = _numbers(response)
    assert names[-1] == "error" and len(names) > 1, names
    assert numbers == list(range(len(numbers)))


class Reasker:
    """Asks for a reask of every reply."""

    name = "reasker"
    shadow = False

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.REASK, feedback="say it again")


def test_a_refused_reask_of_a_buffered_stream_is_one_numbered_error(
    start_proxy: Any, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy = tmp_path / "buffer.yaml"
    policy.write_text("name: buffered\nstream: {mode: buffer}\nmax_reasks: 2\n")
    proxy: ProxyServer = start_proxy(upstream=fake_upstream.url, policy=str(policy))
    proxy.app.policies.default_guard.output_checks.append(Reasker())
    fake_upstream.enqueue(Script(text="first answer"), Script(status=500))
    response = httpx.post(proxy.url + "/v1/responses", json=BODY, timeout=10)
    numbers, names = _numbers(response)
    assert names == ["error"] and numbers == [0]
    assert "reask" in json.loads(sse_events(response.text)[0][1])["message"]


def test_the_last_number_is_the_last_events_key_not_a_text_that_names_it() -> None:
    delta = {"type": "response.output_text.delta", "delta": 'say "sequence_number": 99'}
    sent = b"".join(
        b"event: %s\ndata: %s\n\n" % (kind.encode(), json.dumps(payload).encode())
        for kind, payload in (
            ("response.created", {"type": "response.created", "sequence_number": 0}),
            ("response.output_text.delta", {**delta, "sequence_number": 7}),
        )
    )
    assert last_number(sent) == 7
    assert last_number(b": keep-alive\n\n") is None
    error = b'data: {"type":"error","sequence_number":0}\n\n'
    assert numbered_after(error, 7) == b'data: {"type":"error","sequence_number":8}\n\n'
    assert numbered_after(error, None) == error
