"""Grounding end to end: the openai SDK through the proxy and through the transport; an
answer that invents a figure is blocked (or reasked, the grounded second answer returned)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

POLICY = """\
name: grounded
stream: {{mode: buffer}}
max_reasks: 1
output:
  - check: grounding
    action: {action}
"""
CONTEXT: Any = {
    "context": [
        {"id": "q3", "text": "Revenue in the third quarter was 4.2 million euros, up 8 percent."},
        {"id": "staff", "text": "The company employs 120 people in Bergen."},
    ]
}
MESSAGES: Any = [{"role": "user", "content": "How did the third quarter go?"}]
GROUNDED = "Revenue in the third quarter was 4.2 million euros [q3]. That is up 8 percent."
INVENTED = "Revenue in the third quarter was 4.2 million euros. Profit reached 3.1 million euros."


def _policy(tmp_path: Path, action: str) -> str:
    path = tmp_path / "grounded.yaml"
    path.write_text(textwrap.dedent(POLICY.format(action=action)))
    return str(path)


def _client(base: str, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key="k", max_retries=0, **kwargs)


@pytest.mark.parametrize("stream", [False, True])
def test_proxy_blocks_an_invented_figure_naming_the_claim(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    stream: bool,
) -> None:
    proxy = start_proxy(upstream=fake_upstream.url, policy=_policy(tmp_path, "block"))
    fake_upstream.enqueue(Script(text=INVENTED))
    client = _client(proxy.url)
    # A buffered stream ends with the API's error event (an APIError in the SDK).
    with pytest.raises(openai.APIError) as caught:
        reply = client.chat.completions.create(
            model="m", messages=MESSAGES, extra_body={"guardwire": CONTEXT}, stream=stream
        )
        if stream:
            list(reply)
    message = str(caught.value)
    assert "claim 2" in message and "a figure that is not in the passages" in message
    assert "3.1" not in message and "Profit" not in message
    # The extension never reaches the upstream.
    assert "guardwire" not in fake_upstream.requests[-1].json


def test_proxy_lets_a_grounded_answer_through(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    proxy = start_proxy(upstream=fake_upstream.url, policy=_policy(tmp_path, "block"))
    fake_upstream.enqueue(Script(text=GROUNDED))
    reply = _client(proxy.url).chat.completions.create(
        model="m", messages=MESSAGES, extra_body={"guardwire": CONTEXT}
    )
    assert reply.choices[0].message.content == GROUNDED


def test_proxy_reask_returns_the_grounded_second_answer(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    proxy = start_proxy(upstream=fake_upstream.url, policy=_policy(tmp_path, "reask"))
    fake_upstream.enqueue(Script(text=INVENTED), Script(text=GROUNDED))
    reply = _client(proxy.url).chat.completions.create(
        model="m", messages=MESSAGES, extra_body={"guardwire": CONTEXT}
    )
    assert reply.choices[0].message.content == GROUNDED
    second = fake_upstream.requests[-1].json
    feedback = json.dumps(second["messages"][-1])
    assert "claim 2" in feedback and "3.1" not in feedback


def test_transport_blocks_then_reasks(fake_upstream: FakeUpstream, tmp_path: Path) -> None:
    engine = guard.Guard(_policy(tmp_path, "block"), registry=CollectorRegistry())
    client = _client(fake_upstream.url, http_client=httpx.Client(transport=engine.transport()))
    fake_upstream.enqueue(Script(text=INVENTED))
    with pytest.raises(openai.BadRequestError, match="claim 2"):
        client.chat.completions.create(
            model="m", messages=MESSAGES, extra_body={"guardwire": CONTEXT}
        )
    asking = guard.Guard(_policy(tmp_path, "reask"), registry=CollectorRegistry())
    client = _client(fake_upstream.url, http_client=httpx.Client(transport=asking.transport()))
    fake_upstream.enqueue(Script(text=INVENTED), Script(text=GROUNDED))
    reply = client.chat.completions.create(
        model="m", messages=MESSAGES, extra_body={"guardwire": CONTEXT}
    )
    assert reply.choices[0].message.content == GROUNDED


def test_proxy_annotate_adds_header_and_body_object(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    proxy = start_proxy(upstream=fake_upstream.url, policy=_policy(tmp_path, "annotate"))
    fake_upstream.enqueue(Script(text=INVENTED))
    raw = _client(proxy.url).chat.completions.with_raw_response.create(
        model="m", messages=MESSAGES, extra_body={"guardwire": CONTEXT}
    )
    body = json.loads(raw.http_response.content)
    grounding = body["guardwire"]["grounding"]
    assert raw.headers["x-guardwire-grounding"] == f"{grounding['score']:.3f}"
    assert grounding["score"] < 0.5 and [c["reasons"] for c in grounding["claims"]] == [
        [],
        ["number_mismatch"],
    ]
    assert raw.parse().choices[0].message.content == INVENTED


PROGRESSIVE = """\
name: grounded-progressive
stream: {mode: progressive, whole_reply: end}
output:
  - check: grounding
    action: block
"""


def test_progressive_stream_ends_with_the_error_event_naming_the_claim(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    # Progressive: the text goes out as it arrives; grounding runs when the upstream's
    # stream ends and its block is the API's error event instead of the end of stream.
    path = tmp_path / "progressive.yaml"
    path.write_text(PROGRESSIVE)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(path))
    fake_upstream.enqueue(Script(text=INVENTED))
    stream = _client(proxy.url).chat.completions.create(
        model="m", messages=MESSAGES, extra_body={"guardwire": CONTEXT}, stream=True
    )
    received: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert "".join(received) == INVENTED  # already sent when the stream ended
    message = str(caught.value)
    assert "claim 2" in message and "a figure that is not in the passages" in message
    assert "3.1" not in message and "Profit" not in message


def test_progressive_stream_lets_a_grounded_answer_end_normally(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    path = tmp_path / "progressive.yaml"
    path.write_text(PROGRESSIVE)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(path))
    fake_upstream.enqueue(Script(text=GROUNDED))
    stream = _client(proxy.url).chat.completions.create(
        model="m", messages=MESSAGES, extra_body={"guardwire": CONTEXT}, stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == GROUNDED
