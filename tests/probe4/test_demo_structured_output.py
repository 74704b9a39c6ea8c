"""The README's structured-output example against the offline demo model.

A developer's first try of ``client.chat.completions.parse(..., response_format=Answer)``
(and ``beta.chat.completions.parse``, ``responses.parse``) runs against the demo model,
through the proxy or the transport. The demo answered prose, so the SDK raised a pydantic
``ValidationError`` ("Invalid JSON") and the schema check could only block: the example
could not run as the README shows it. The demo now answers a request that asks for JSON
with a document that fits the request's schema.
"""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel

import guard
from guard.demo import DemoTransport
from tests.e2e.fixtures import ProxyServer

SCHEMA_POLICY = """\
name: structured
stream: {whole_reply: buffer}
max_reasks: 1
output:
  - check: schema
    action: reask
    from_request: true
"""


class Inner(BaseModel):
    """A nested model: pydantic writes it as a ``$ref`` into ``$defs``."""

    label: str


class Answer(BaseModel):
    """The README's example model, with an optional and a nested field."""

    answer: str
    score: int
    note: str | None = None
    inner: Inner
    tags: list[str]


def _transport_client(policy: str | None) -> openai.OpenAI:
    engine = guard.Guard(guard.Policy.from_yaml(policy) if policy else None)
    return openai.OpenAI(
        api_key="sk-demo",
        http_client=httpx2.Client(
            transport=guard.transport(guard=engine, transport=DemoTransport())
        ),
    )


@pytest.mark.parametrize("policy", [None, SCHEMA_POLICY], ids=["default", "schema"])
def test_parse_through_the_transport(policy: str | None) -> None:
    client = _transport_client(policy)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "rate this"}]
    parsed = (
        client.chat.completions.parse(
            model="gpt-4o-mini",
            messages=messages,
            response_format=Answer,
        )
        .choices[0]
        .message.parsed
    )
    assert isinstance(parsed, Answer)
    beta = (
        client.beta.chat.completions.parse(
            model="gpt-4o-mini",
            messages=messages,
            response_format=Answer,
        )
        .choices[0]
        .message.parsed
    )
    assert isinstance(beta, Answer)
    response = client.responses.parse(model="gpt-4o-mini", input="rate this", text_format=Answer)
    assert isinstance(response.output_parsed, Answer)


def test_parse_streamed_and_json_object() -> None:
    client = _transport_client(SCHEMA_POLICY)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "rate this"}]
    with client.chat.completions.stream(
        model="gpt-4o-mini",
        messages=messages,
        response_format=Answer,
    ) as stream:
        final = stream.get_final_completion()
    assert isinstance(final.choices[0].message.parsed, Answer)
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages,
        response_format={"type": "json_object"},
    )
    assert reply.choices[0].message.content is not None
    assert reply.choices[0].message.content.startswith("{")


def test_parse_through_the_proxy(start_proxy: Callable[..., ProxyServer], tmp_path: object) -> None:
    from pathlib import Path

    policy = Path(str(tmp_path)) / "structured.yaml"
    policy.write_text(SCHEMA_POLICY)
    server = start_proxy(policy=str(policy))
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused-with-the-demo")
    completion = client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "rate this"}],
        response_format=Answer,
    )
    assert isinstance(completion.choices[0].message.parsed, Answer)


def test_anthropic_output_format_through_the_transport() -> None:
    engine = guard.Guard(guard.Policy.from_yaml(SCHEMA_POLICY))
    client = anthropic.Anthropic(
        api_key="unused",
        http_client=httpx2.Client(
            transport=guard.transport(guard=engine, transport=DemoTransport())
        ),
    )
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    message = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=200,
        messages=[{"role": "user", "content": "rate this"}],
        extra_body={"output_config": {"format": {"type": "json_schema", "schema": schema}}},
    )
    block = message.content[0]
    assert block.type == "text"
    assert block.text.startswith("{")
