"""A stream request the upstream answers with one complete JSON reply (no events).

Some OpenAI-compatible servers ignore ``stream: true``. The reply is then checked whole
(like a buffered stream's), the client gets it as the stream it asked for, and the budget
settles with the usage the JSON reports; before, the stream filter found no events, ended
the stream with an error and the budget charged the call's whole reservation.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import guard
from guard.checks._windows import counter_key, scope_value, window_bounds
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe.test_sdk_shapes import sse_events

AWS = "AKIAABCDEFGHIJKLMNOP"
POLICY = """\
name: budgets
extends: default
budgets:
  - name: team-daily
    scope: tenant
    window: day
    limit_usd: 10
"""
BODY = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "q"}],
    "max_tokens": 4000,
}


def _spent(proxy: ProxyServer) -> tuple[int, int]:
    """(settled, still reserved) of the day's budget, nano-USD."""
    window, _ = window_bounds("day", time.time(), None)
    key = counter_key("team-daily", scope_value(None), window, "usd")
    store = proxy.app.state.store
    return asyncio.run(store.get(key)), asyncio.run(store.reserved(key))


def _streamed_text(response: httpx.Response) -> str:
    parts = []
    for _, data in sse_events(response.text):
        if data != "[DONE]":
            payload = json.loads(data)
            assert "error" not in payload, payload
            parts += [c["delta"].get("content") or "" for c in payload["choices"]]
    return "".join(parts)


@pytest.mark.parametrize("mode", ["progressive", "buffer"])
def test_a_stream_answered_with_json_is_checked_sent_and_settled_by_its_usage(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    mode: str,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY + f"stream: {{mode: {mode}}}\n")
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    fake_upstream.enqueue(Script(text=f"the key is {AWS}", usage=(12, 30)))
    complete = httpx.post(proxy.url + "/v1/chat/completions", json=BODY, timeout=10)
    assert complete.status_code == 200
    one_call, held = _spent(proxy)
    assert one_call > 0 and held == 0

    whole = complete.json()  # the same reply and usage, its key not redacted yet
    whole["choices"][0]["message"]["content"] = f"the key is {AWS}"
    assert whole["usage"]["completion_tokens"] == 30
    fake_upstream.enqueue(Script(body=whole))
    streamed = httpx.post(
        proxy.url + "/v1/chat/completions", json=BODY | {"stream": True}, timeout=10
    )
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert _streamed_text(streamed) == "the key is [AWS_ACCESS_KEY]"
    assert sse_events(streamed.text)[-1] == (None, "[DONE]")
    assert _spent(proxy) == (2 * one_call, 0)


def test_the_transport_streams_a_json_answer_checked() -> None:
    engine = guard.Guard()

    def upstream(request: httpx.Request) -> httpx.Response:
        message = {"role": "assistant", "content": f"the key is {AWS}"}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        body: dict[str, Any] = {"id": "c", "object": "chat.completion", "created": 0}
        return httpx.Response(200, json={**body, "model": "m", "choices": [choice]})

    client = httpx.Client(transport=engine.transport(httpx.MockTransport(upstream)))
    with (
        client,
        client.stream(
            "POST", "http://model.test/v1/chat/completions", json=BODY | {"stream": True}
        ) as response,
    ):
        response.read()
    assert _streamed_text(response) == "the key is [AWS_ACCESS_KEY]"


def test_a_stream_answered_with_broken_json_ends_with_an_error_event(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(body=b'{"choices": [{"message": '))
    streamed = httpx.post(
        upstream_proxy.url + "/v1/chat/completions", json=BODY | {"stream": True}, timeout=10
    )
    [(_, data)] = sse_events(streamed.text)
    assert json.loads(data)["error"]["code"] == "upstream_error"
    assert "neither events nor a reply" in data


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/responses"])
def test_other_apis_streams_answered_with_json_are_sent_as_their_events(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, path: str
) -> None:
    request: dict[str, Any] = {"model": "m", "max_tokens": 100}
    if path == "/v1/messages":
        request["messages"] = [{"role": "user", "content": "q"}]
    else:
        request["input"] = "q"
    fake_upstream.reply_text = f"the key is {AWS}"
    whole = httpx.post(upstream_proxy.url + path, json=request, timeout=10).json()
    # The upstream's own reply, its key not redacted yet (the proxy redacted it above).
    upstream_reply = json.loads(json.dumps(whole).replace("[AWS_ACCESS_KEY]", AWS))
    fake_upstream.enqueue(Script(body=upstream_reply))
    streamed = httpx.post(upstream_proxy.url + path, json=request | {"stream": True}, timeout=10)
    names = [name for name, _ in sse_events(streamed.text)]
    assert names[-1] == ("message_stop" if path == "/v1/messages" else "response.completed")
    assert AWS not in streamed.text and "[AWS_ACCESS_KEY]" in streamed.text
