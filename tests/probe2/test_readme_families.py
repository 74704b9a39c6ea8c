"""The README's check-family examples, copied as written, do what the README says
through the official SDKs: chat completions, the Responses API and Anthropic messages,
complete and streamed, through the proxy and the in-process transport.

Held on the first run (no fix needed): PII pseudonyms restored in replies and in tool-call
arguments streamed in 1- to 7-character pieces; schema repair and reask with each SDK's
own parse helper; grounding block/reask with context from the extension, tool results
and tagged documents; injection blocked in a tool result and a context document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe2._sdk import APIS, CLAUDE, Clients, ask, clients_for
from tests.probe2.test_readme_policies import readme_policy

EMAIL, PHONE = "maria.lopez@example.org", "+1 415-555-0132"
PROMPT = [{"role": "user", "content": f"Write to {EMAIL} and call {PHONE} about the order."}]
Start = Callable[..., ProxyServer]


@pytest.fixture(params=["proxy", "transport"])
def frontend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _clients(check: str, frontend: str, up: FakeUpstream, start: Start, tmp: Path) -> Clients:
    path = tmp / f"{check}.yaml"
    path.write_text(readme_policy(check))
    return clients_for(frontend, path, up, start)


# -- pii: pseudonymise, restore ---------------------------------------------------------


@pytest.mark.parametrize(("stream", "chunk"), [(False, 8), (True, 1), (True, 7)])
@pytest.mark.parametrize("api", APIS)
def test_pii_pseudonyms_are_restored_in_replies(
    api: str, stream: bool, chunk: int, frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Start, tmp_path: Path,
) -> None:  # fmt: skip
    clients = _clients("pii", frontend, fake_upstream, start_proxy, tmp_path)
    fake_upstream.enqueue(
        Script(text="Hi <EMAIL_ADDRESS_1>, I will call <PHONE_NUMBER_1>.", chunk_size=chunk)
    )
    assert ask(clients, api, PROMPT, stream) == f"Hi {EMAIL}, I will call {PHONE}."
    sent = fake_upstream.requests[-1].body.decode()
    assert EMAIL not in sent and "415-555" not in sent


def _tool_arguments(clients: Clients, api: str, stream: bool) -> Any:
    """The arguments of the reply's one tool call, as the caller's SDK assembled them."""
    oai: Any = clients.openai
    ant: Any = clients.anthropic
    if api == "chat":
        tool = {"type": "function", "function": {"name": "send_email", "parameters": {}}}
        if not stream:
            reply = oai.chat.completions.create(model="gpt-4o", messages=PROMPT, tools=[tool])
            return json.loads(reply.choices[0].message.tool_calls[0].function.arguments)
        chunks = oai.chat.completions.create(
            model="gpt-4o", messages=PROMPT, tools=[tool], stream=True
        )
        return json.loads("".join(
            call.function.arguments or ""
            for chunk in chunks if chunk.choices
            for call in chunk.choices[0].delta.tool_calls or ()
        ))  # fmt: skip
    if api == "responses":
        tool = {"type": "function", "name": "send_email", "parameters": {}}
        if not stream:
            response = oai.responses.create(model="gpt-4o", input=PROMPT, tools=[tool])
            return json.loads(response.output[0].arguments)
        events = oai.responses.create(model="gpt-4o", input=PROMPT, tools=[tool], stream=True)
        done = [e for e in events if e.type == "response.function_call_arguments.done"]
        return json.loads(done[0].arguments)
    tools = [{"name": "send_email", "input_schema": {"type": "object"}}]
    if not stream:
        return (
            ant.messages.create(model=CLAUDE, max_tokens=64, messages=PROMPT, tools=tools)
            .content[0]
            .input
        )
    with ant.messages.stream(model=CLAUDE, max_tokens=64, messages=PROMPT, tools=tools) as events:
        return events.get_final_message().content[0].input


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("api", APIS)
def test_pii_pseudonyms_are_restored_in_tool_call_arguments(
    api: str, stream: bool, frontend: str, fake_upstream: FakeUpstream, start_proxy: Start,
    tmp_path: Path,
) -> None:  # fmt: skip
    clients = _clients("pii", frontend, fake_upstream, start_proxy, tmp_path)
    arguments = {"to": "<EMAIL_ADDRESS_1>", "body": "call <PHONE_NUMBER_1> now"}
    fake_upstream.enqueue(Script(tool_calls=[("send_email", arguments)], chunk_size=3))
    assert _tool_arguments(clients, api, stream) == {"to": EMAIL, "body": f"call {PHONE} now"}


# -- schema: repair, reask ---------------------------------------------------------------


class Answer(BaseModel):
    answer: str
    score: int


def _parsed(clients: Clients, api: str, stream: bool) -> Any:
    oai: Any = clients.openai
    ant: Any = clients.anthropic
    asked = [{"role": "user", "content": "rate it"}]
    if api == "chat" and stream:
        with oai.chat.completions.stream(
            model="gpt-4o", messages=asked, response_format=Answer
        ) as s:
            return s.get_final_completion().choices[0].message.parsed
    if api == "chat":
        return (
            oai.chat.completions.parse(model="gpt-4o", messages=asked, response_format=Answer)
            .choices[0]
            .message.parsed
        )
    if api == "responses" and stream:
        with oai.responses.stream(model="gpt-4o", input=asked, text_format=Answer) as s:
            return s.get_final_response().output_parsed
    if api == "responses":
        return oai.responses.parse(model="gpt-4o", input=asked, text_format=Answer).output_parsed
    if stream:
        with ant.messages.stream(
            model=CLAUDE, max_tokens=64, messages=asked, output_format=Answer
        ) as s:
            return s.get_final_message().parsed_output
    return ant.messages.parse(
        model=CLAUDE, max_tokens=64, messages=asked, output_format=Answer
    ).parsed_output


@pytest.mark.parametrize(
    ("first", "calls"),
    [
        ('{"answer": "yes", "score": "three"}', 2),
        ('```json\n{"answer": "yes", "score": 3}\n```', 1),
    ],
    ids=["reasked", "repaired"],
)
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("api", APIS)
def test_schema_repairs_or_reasks_with_each_sdks_parse_helper(
    api: str, stream: bool, first: str, calls: int, frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Start, tmp_path: Path,
) -> None:  # fmt: skip
    clients = _clients("schema", frontend, fake_upstream, start_proxy, tmp_path)
    fake_upstream.enqueue(
        Script(text=first, chunk_size=5), Script(text='{"answer": "yes", "score": 3}')
    )
    assert _parsed(clients, api, stream) == Answer(answer="yes", score=3)
    assert len(fake_upstream.requests) == calls
