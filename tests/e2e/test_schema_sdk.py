"""The schema check under the official SDKs: proxy (complete and buffered streams), the
sync and async transports, OpenAI structured output and tool calls, Anthropic tool use.
The fake upstream scripts the sequence of replies (a broken one, then a valid one)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anthropic
import httpx
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

import guard
from guard.policy import Policy
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

POLICY = """\
name: structured
stream: {mode: buffer}
max_reasks: 1
output:
  - check: schema
    action: reask
    from_request: true
"""
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
ANTHROPIC_TOOLS = [
    {
        "name": "get_weather",
        "description": "w",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]


class Answer(BaseModel):
    answer: str
    score: int


VALID = '{"answer": "yes", "score": 3}'
BROKEN = '{"answer": "yes", "score": "three"}'
MESSAGES = [{"role": "user", "content": "rate it"}]


@pytest.fixture
def schema_proxy(
    tmp_path: Path, start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> ProxyServer:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return start_proxy(upstream=fake_upstream.url, policy=str(path))


def openai_client(server: ProxyServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)


def feedback_of(up: FakeUpstream) -> str:
    last = up.requests[-1].json["messages"][-1]
    return last["content"] if isinstance(last["content"], str) else json.dumps(last["content"])


# -- proxy -------------------------------------------------------------------------------------


def test_parse_reasks_a_broken_reply_and_returns_the_valid_one(
    schema_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(text=BROKEN), Script(text=VALID))
    completion = openai_client(schema_proxy).chat.completions.parse(
        model="m",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format=Answer,
    )
    assert completion.choices[0].message.parsed == Answer(answer="yes", score=3)
    assert len(fake_upstream.requests) == 2
    assert "/score: expected integer" in feedback_of(fake_upstream)
    assert "three" not in feedback_of(fake_upstream).split("Your previous reply")[-1]


def test_buffered_stream_reasks_upstream(
    schema_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(text=BROKEN, chunk_size=5))
    stream = openai_client(schema_proxy).chat.completions.create(
        model="m",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format={"type": "json_object"},
        stream=True,
    )
    # json_object: any object passes, so the first reply is returned as is.
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert json.loads(text) == json.loads(BROKEN)
    fake_upstream.enqueue(Script(text="not json", chunk_size=5), Script(text=VALID, chunk_size=5))
    with openai_client(schema_proxy).chat.completions.stream(
        model="m",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format=Answer,
    ) as parsed_stream:
        final = parsed_stream.get_final_completion()
    assert final.choices[0].message.parsed == Answer(answer="yes", score=3)
    assert len(fake_upstream.requests) == 3


def test_out_of_attempts_is_an_error_listing_what_was_wrong(
    schema_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(text=BROKEN), Script(text='{"answer": "yes"}'))
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(schema_proxy).chat.completions.parse(
            model="m",
            messages=MESSAGES,  # type: ignore[arg-type]
            response_format=Answer,
        )
    assert "missing required property 'score'" in str(caught.value)
    assert "no reask left" in str(caught.value)


def test_tool_call_breaking_its_schema_is_caught(
    schema_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(
        Script(tool_calls=[("get_weather", {"town": "Paris"})]),
        Script(tool_calls=[("get_weather", {"city": "Paris"})]),
    )
    completion = openai_client(schema_proxy).chat.completions.create(
        model="m",
        messages=MESSAGES,  # type: ignore[arg-type]
        tools=TOOLS,  # type: ignore[arg-type]
    )
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert "tool call 'get_weather' arguments (root): missing required property 'city'" in (
        feedback_of(fake_upstream)
    )
    fake_upstream.enqueue(
        Script(tool_calls=[("drop_tables", {})]), Script(tool_calls=[("drop_tables", {})])
    )
    with pytest.raises(
        openai.BadRequestError, match="a tool call names a tool that was not declared"
    ):
        openai_client(schema_proxy).chat.completions.create(
            model="m",
            messages=MESSAGES,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
        )


def test_invalid_request_schema_is_a_400_and_never_sent(
    schema_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    bad = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "nope"}}}
    with pytest.raises(openai.BadRequestError, match="schema is invalid"):
        openai_client(schema_proxy).chat.completions.create(
            model="m",
            messages=MESSAGES,  # type: ignore[arg-type]
            response_format=bad,  # type: ignore[arg-type]
        )
    assert fake_upstream.requests == []


def test_anthropic_tool_use_is_reasked(
    schema_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(
        Script(tool_calls=[("get_weather", {"city": 7})]),
        Script(tool_calls=[("get_weather", {"city": "Oslo"})]),
    )
    client = anthropic.Anthropic(base_url=schema_proxy.url, api_key="k", max_retries=0)
    message = client.messages.create(
        model="c",
        max_tokens=50,
        tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    block = next(b for b in message.content if b.type == "tool_use")
    assert block.input == {"city": "Oslo"}  # type: ignore[union-attr]
    assert "/city: expected string" in feedback_of(fake_upstream)


# -- in-process transports -----------------------------------------------------------------------


@pytest.fixture
def engine() -> guard.Guard:
    return guard.Guard(Policy.from_yaml(POLICY), registry=CollectorRegistry())


def test_sync_transport_reasks_and_catches_tool_calls(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.Client(transport=engine.transport()),
    )
    fake_upstream.enqueue(Script(text="```json\n" + BROKEN + "\n```"), Script(text=VALID))
    completion = client.chat.completions.parse(
        model="m",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format=Answer,
    )
    assert completion.choices[0].message.parsed == Answer(answer="yes", score=3)
    fake_upstream.enqueue(Script(text=BROKEN, chunk_size=4), Script(text=VALID, chunk_size=4))
    with client.chat.completions.stream(
        model="m",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format=Answer,
    ) as stream:
        assert stream.get_final_completion().choices[0].message.parsed == Answer(
            answer="yes", score=3
        )
    fake_upstream.enqueue(
        Script(tool_calls=[("get_weather", {"city": 1})]),
        Script(tool_calls=[("get_weather", {"city": 2})]),
    )
    with pytest.raises(openai.BadRequestError, match="/city: expected string"):
        client.chat.completions.create(
            model="m",
            messages=MESSAGES,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
        )
    failures = engine.telemetry.registry.get_sample_value(
        "guardwire_schema_failures_total", {"check": "schema", "kind": "schema.type"}
    )
    assert failures == 4


async def test_async_transport_with_anthropic_tool_use(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    client = anthropic.AsyncAnthropic(
        base_url=fake_upstream.url,
        api_key="k",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=engine.async_transport()),
    )
    fake_upstream.enqueue(
        Script(tool_calls=[("get_weather", {})]),
        Script(tool_calls=[("get_weather", {"city": "Rome"})]),
    )
    message = await client.messages.create(
        model="c",
        max_tokens=50,
        tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    block = next(b for b in message.content if b.type == "tool_use")
    assert block.input == {"city": "Rome"}  # type: ignore[union-attr]
    assert "missing required property 'city'" in feedback_of(fake_upstream)
