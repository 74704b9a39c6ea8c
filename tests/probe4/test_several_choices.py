"""``n > 1`` through the official OpenAI SDK: every choice is checked, complete and
streamed (chunks of the two choices interleaved, a secret cut across chunks of the
second), through the proxy and the in-process transport. Nothing in the suite sent a
reply with a second choice before this probe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import openai
import pytest

import guard
from guard.demo import DemoTransport
from tests.e2e.fixtures import ProxyServer
from tests.proxy.faults import FaultUpstream, Request

SECRET = "AKIAABCDEFGHIJKLMNOP"
TEXTS = ["first choice is plain", f"second choice leaks {SECRET} here"]


def _complete() -> bytes:
    choices = [
        {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
        for i, t in enumerate(TEXTS)
    ]
    body = {
        "id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": choices, "usage": {"prompt_tokens": 5, "completion_tokens": 20, "total_tokens": 25},
    }  # fmt: skip
    return json.dumps(body).encode()


def _chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
    chunk = {
        "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }  # fmt: skip
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _streamed() -> bytes:
    events = [_chunk(0, {"role": "assistant", "content": ""}), _chunk(1, {"role": "assistant"})]
    pieces = [TEXTS[0][:8], TEXTS[0][8:]], [TEXTS[1][:24], TEXTS[1][24:30], TEXTS[1][30:]]
    for step in range(3):
        for index, parts in enumerate(pieces):
            if step < len(parts):
                events.append(_chunk(index, {"content": parts[step]}))
    events += [_chunk(0, {}, "stop"), _chunk(1, {}, "stop"), b"data: [DONE]\n\n"]
    return b"".join(events)


async def _answer(request: Request, writer: Any) -> bool:
    stream = json.loads(request.body).get("stream", False)
    body, kind = (
        (_streamed(), b"text/event-stream") if stream else (_complete(), b"application/json")
    )
    head = b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n" % (kind, len(body))
    writer.write(head + body)
    await writer.drain()
    return True


@pytest.fixture
def upstream() -> Iterator[FaultUpstream]:
    with FaultUpstream(_answer).threaded() as up:
        yield up


def _client(
    frontend: str, upstream: FaultUpstream, start_proxy: Callable[..., ProxyServer]
) -> openai.OpenAI:
    if frontend == "proxy":
        server = start_proxy(upstream=upstream.url)
        return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    transport = guard.transport(transport=httpx2.HTTPTransport())
    return openai.OpenAI(
        base_url=f"{upstream.url}/v1", api_key="sk-test", max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )  # fmt: skip


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_every_choice_is_checked(
    frontend: str, upstream: FaultUpstream, start_proxy: Callable[..., ProxyServer]
) -> None:
    client = _client(frontend, upstream, start_proxy)
    messages: Any = [{"role": "user", "content": "two please"}]
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, n=2)
    texts = [c.message.content for c in reply.choices]
    assert texts == [TEXTS[0], "second choice leaks [AWS_ACCESS_KEY] here"]
    streamed = ["", ""]
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, n=2, stream=True
    ):
        for choice in chunk.choices:
            streamed[choice.index] += choice.delta.content or ""
    assert streamed == texts


def test_the_demo_model_answers_n_choices() -> None:
    """The demo answered one choice whatever ``n`` asked, so ``n > 1`` could not be tried
    offline; it now answers ``n`` alike choices (at most 8), each checked."""
    client = openai.OpenAI(
        api_key="sk-demo",
        http_client=httpx2.Client(transport=guard.transport(transport=DemoTransport())),
    )
    messages: Any = [{"role": "user", "content": f"my key is {SECRET}"}]
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, n=3)
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert all((c.message.content or "").endswith("[AWS_ACCESS_KEY]") for c in reply.choices)
    streamed: dict[int, str] = {}
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, n=2, stream=True
    ):
        for choice in chunk.choices:
            streamed[choice.index] = streamed.get(choice.index, "") + (choice.delta.content or "")
    assert sorted(streamed) == [0, 1]
    assert all(text.endswith("[AWS_ACCESS_KEY]") for text in streamed.values())
