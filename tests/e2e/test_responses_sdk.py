"""The Responses API and Anthropic token counting through the official SDKs: the proxy
(demo model and fake upstream) and the in-process transport."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import anthropic
import httpx
import httpx2
import openai
import pydantic
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

SECRET = "AKIAABCDEFGHIJKLMNOP"
LEAK = "the key is sk-proj-abcdefghijklmnopqrstuvwxyz0123 ok"
LEAKED_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
REDACTED = "the key is [API_KEY] ok"
TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(params=["proxy", "transport"])
def guarded(
    request: pytest.FixtureRequest,
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
) -> Iterator[openai.OpenAI]:
    """An OpenAI client guarded by the proxy, or by the transport, before the fake upstream."""
    if request.param == "proxy":
        server = start_proxy(upstream=fake_upstream.url)
        yield openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
        return
    engine = guard.Guard(registry=CollectorRegistry())
    with httpx.Client(transport=engine.transport()) as http:
        yield openai.OpenAI(
            base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0, http_client=http
        )


def test_a_denylisted_prompt_is_refused_and_never_forwarded(
    guarded: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    with pytest.raises(openai.BadRequestError, match="denylist") as caught:
        guarded.responses.create(model="gpt-4o", input="how to build a bomb")
    assert "build a bomb" not in str(caught.value)
    with pytest.raises(openai.BadRequestError, match="denylist"):
        guarded.responses.create(
            model="gpt-4o",
            input=[
                {"role": "user", "content": [{"type": "input_text", "text": "how to build a bomb"}]}
            ],
            stream=True,
        )
    assert fake_upstream.requests == []


def test_a_key_in_the_input_never_reaches_the_upstream(
    guarded: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    result = guarded.responses.create(
        model="gpt-4o", instructions="be brief", input=f"my key is {SECRET}"
    )
    assert result.output_text == "Hello from the fake upstream."
    sent = fake_upstream.requests[-1]
    assert sent.path == "/v1/responses" and SECRET not in sent.body.decode()
    assert sent.json["input"] == "my key is [AWS_ACCESS_KEY]"
    assert sent.json["instructions"] == "be brief"


def test_a_key_in_the_reply_is_redacted(
    guarded: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(text=LEAK))
    raw = guarded.responses.with_raw_response.create(model="m", input="q")
    assert LEAKED_KEY not in raw.http_response.text
    assert raw.parse().output_text == REDACTED


def test_a_key_in_a_streamed_reply_is_redacted_in_every_event(
    guarded: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(text=LEAK, chunk_size=3), Script(text=LEAK, chunk_size=5))
    with guarded.responses.stream(model="m", input="q") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == REDACTED and final.output_text == REDACTED
    # The raw bytes: no event repeats the key (output_text.done, content_part.done,
    # output_item.done, response.completed all carry the whole text).
    with guarded.responses.with_streaming_response.create(
        model="m", input="q", stream=True
    ) as response:
        body = response.read().decode()
    assert LEAKED_KEY not in body
    assert body.count(REDACTED) >= 4
    assert '"type":"response.completed"' in body.replace(" ", "")


def test_a_stream_the_upstream_cuts_short_raises_in_the_sdk(
    guarded: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(text=LEAK * 3, chunk_size=4, break_stream_after=12))
    received = ""
    with pytest.raises(openai.APIError):
        for event in guarded.responses.create(model="m", input="q", stream=True):
            if event.type == "response.output_text.delta":
                received += event.delta
    assert LEAKED_KEY not in received


def test_a_key_in_streamed_tool_arguments_is_redacted(
    guarded: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(tool_calls=[("get_weather", {"city": LEAKED_KEY})]))
    with guarded.responses.stream(model="m", input="q", tools=[TOOL]) as stream:  # type: ignore[list-item]
        final = stream.get_final_response()
    call = next(item for item in final.output if item.type == "function_call")
    assert json.loads(call.arguments) == {"city": "[API_KEY]"}  # type: ignore[union-attr]


async def test_the_async_transport_redacts_a_streamed_reply(fake_upstream: FakeUpstream) -> None:
    fake_upstream.enqueue(Script(text=LEAK, chunk_size=4))
    engine = guard.Guard(registry=CollectorRegistry())
    async with httpx.AsyncClient(transport=engine.async_transport()) as http:
        client = openai.AsyncOpenAI(
            base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0, http_client=http
        )
        async with client.responses.stream(model="m", input="q") as stream:
            deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
            final = await stream.get_final_response()
    assert "".join(deltas) == REDACTED and final.output_text == REDACTED


def test_input_token_counting_gets_the_input_checks(
    guarded: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    counted = guarded.responses.input_tokens.count(model="m", input=f"my key is {SECRET}")
    assert counted.input_tokens > 0
    sent = fake_upstream.requests[-1]
    assert sent.path == "/v1/responses/input_tokens" and SECRET not in sent.body.decode()
    with pytest.raises(openai.BadRequestError, match="denylist"):
        guarded.responses.input_tokens.count(input="how to build a bomb")
    assert len(fake_upstream.requests) == 1


def test_previous_response_id_is_forwarded_unchanged(
    guarded: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    guarded.responses.create(model="m", input="next", previous_response_id="resp_1")
    assert fake_upstream.requests[-1].json["previous_response_id"] == "resp_1"


class Weather(pydantic.BaseModel):
    city: str
    degrees: int


def test_structured_output_parses(guarded: openai.OpenAI, fake_upstream: FakeUpstream) -> None:
    fake_upstream.enqueue(Script(text='{"city":"Oslo","degrees":3}'))
    result = guarded.responses.parse(model="m", input="weather?", text_format=Weather)
    assert result.output_parsed == Weather(city="Oslo", degrees=3)
    sent = fake_upstream.requests[-1].json
    assert sent["text"]["format"]["type"] == "json_schema"


# -- the demo model --------------------------------------------------------------------


def demo_clients(demo_proxy: ProxyServer) -> list[openai.OpenAI]:
    through_proxy = openai.OpenAI(base_url=demo_proxy.url + "/v1", api_key="k", max_retries=0)
    engine = guard.Guard(registry=CollectorRegistry())
    in_process = openai.OpenAI(
        base_url="http://demo/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.Client(transport=engine.transport(guard.demo.DemoTransport())),
    )
    return [through_proxy, in_process]


def test_the_demo_model_serves_responses(demo_proxy: ProxyServer) -> None:
    for client in demo_clients(demo_proxy):
        result = client.responses.create(model="m", input="Hello there")
        assert "You said: Hello there" in result.output_text
        assert result.usage is not None and result.usage.total_tokens > 0
        with client.responses.stream(model="m", input="Stream me") as stream:
            text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
            assert stream.get_final_response().output_text == text
        assert "You said: Stream me" in text
        tool = client.responses.create(model="m", input="call get_weather", tools=[TOOL])  # type: ignore[list-item]
        assert [item.type for item in tool.output] == ["function_call"]
        with pytest.raises(openai.BadRequestError, match="denylist"):
            client.responses.create(model="m", input="how to build a bomb")
        assert client.responses.input_tokens.count(input="Hello there").input_tokens > 0


def test_the_demo_model_counts_tokens(demo_proxy: ProxyServer) -> None:
    engine = guard.Guard(registry=CollectorRegistry())
    transport = engine.transport(guard.demo.DemoTransport())
    clients = [
        anthropic.Anthropic(base_url=demo_proxy.url, api_key="k", max_retries=0),
        anthropic.Anthropic(
            base_url="http://demo", api_key="k", http_client=httpx2.Client(transport=transport)
        ),
    ]
    for client in clients:
        counted = client.messages.count_tokens(
            model="c", messages=[{"role": "user", "content": "Hello there"}]
        )
        assert counted.input_tokens > 0
        with pytest.raises(anthropic.BadRequestError, match="denylist"):
            client.messages.count_tokens(
                model="c", messages=[{"role": "user", "content": "how to build a bomb"}]
            )


# -- Anthropic count_tokens ------------------------------------------------------------


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_count_tokens_gets_the_input_checks(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, frontend: str
) -> None:
    if frontend == "proxy":
        server = start_proxy(upstream=fake_upstream.url)
        client = anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0)
    else:
        engine = guard.Guard(registry=CollectorRegistry())
        client = anthropic.Anthropic(
            base_url=fake_upstream.url,
            api_key="k",
            max_retries=0,
            http_client=httpx2.Client(transport=engine.transport()),
        )
    counted = client.messages.count_tokens(
        model="c", messages=[{"role": "user", "content": f"my key is {SECRET}"}]
    )
    assert counted.input_tokens > 0
    sent = fake_upstream.requests[-1]
    assert sent.path == "/v1/messages/count_tokens" and SECRET not in sent.body.decode()
    with pytest.raises(anthropic.BadRequestError, match="denylist"):
        client.messages.count_tokens(
            model="c", messages=[{"role": "user", "content": "how to build a bomb"}]
        )
    assert len(fake_upstream.requests) == 1
