"""Pseudonymised values come back in the tool calls an agent receives, streamed or not.

README (PII): "``pseudonymise`` sends ``<EMAIL_ADDRESS_1>`` upstream and restores the
original in the reply, streams included". An agent asks the model to e-mail the person
the user named: the model writes the placeholder into the tool call's arguments, and
the application must get the address back to call its tool. Complete replies were
restored; streamed chat and Anthropic tool calls were not when the policy's only text
check was the input ``pii`` entry (no output text check): their arguments were then
passed on unread, so the agent e-mailed ``<EMAIL_ADDRESS_1>``.

Placeholders must also never be restored across sessions: with ``scope: session`` a
placeholder issued in one session is left as it is in another session's reply, and in
another tenant's with the same session id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

POLICY = """\
name: agentpii
input:
  - check: pii
    action: pseudonymise
    entities: [EMAIL_ADDRESS, PERSON]
"""
EMAIL = "jane.doe@example.com"
PROMPT = f"Mail {EMAIL} from John Smith that the order shipped."
#: What the model writes: placeholders in the tool call's arguments.
ARGUMENTS = {"to": "<EMAIL_ADDRESS_1>", "body": "Dear <PERSON_1>, it shipped."}
RESTORED = {"to": EMAIL, "body": "Dear John Smith, it shipped."}
SCRIPT = Script(text=None, tool_calls=[("send_email", ARGUMENTS)], chunk_size=5)
CHAT_TOOLS: Any = [
    {"type": "function", "function": {"name": "send_email", "parameters": {"type": "object"}}}
]
ANTHROPIC_TOOLS: Any = [{"name": "send_email", "input_schema": {"type": "object"}}]
RESPONSES_TOOLS: Any = [
    {"type": "function", "name": "send_email", "parameters": {"type": "object"}}
]
MESSAGES: Any = [{"role": "user", "content": PROMPT}]


def chat_arguments(client: openai.OpenAI, stream: bool, messages: Any = MESSAGES) -> Any:
    reply: Any
    if stream:
        with client.chat.completions.stream(
            model="gpt-4o-mini", messages=messages, tools=CHAT_TOOLS
        ) as events:
            reply = events.get_final_completion()
    else:
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, tools=CHAT_TOOLS
        )
    calls = reply.choices[0].message.tool_calls or []
    return [json.loads(c.function.arguments) for c in calls if c.type == "function"]


def anthropic_arguments(client: anthropic.Anthropic, stream: bool) -> Any:
    request: Any = {"model": "claude-x", "max_tokens": 200, "messages": MESSAGES,
                    "tools": ANTHROPIC_TOOLS}  # fmt: skip
    if stream:
        with client.messages.stream(**request) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**request)
    return [block.input for block in message.content if block.type == "tool_use"]


def responses_arguments(client: openai.OpenAI, stream: bool) -> Any:
    request: Any = {"model": "gpt-4o-mini", "input": PROMPT, "tools": RESPONSES_TOOLS}
    if stream:
        with client.responses.stream(**request) as events:
            response = events.get_final_response()
    else:
        response = client.responses.create(**request)
    return [json.loads(o.arguments) for o in response.output if o.type == "function_call"]


@pytest.fixture(params=["proxy", "transport"])
def clients(
    request: pytest.FixtureRequest,
    proxy_of: Callable[[str], ProxyServer],
    fake_upstream: FakeUpstream,
) -> Iterator[tuple[openai.OpenAI, anthropic.Anthropic]]:
    if request.param == "proxy":
        url = proxy_of(POLICY).url
        yield (
            openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0),
            anthropic.Anthropic(base_url=url, api_key="k", max_retries=0),
        )
        return
    engine = guard.Guard(guard.Policy.from_yaml(POLICY), registry=CollectorRegistry())
    http = httpx2.Client(transport=engine.transport())
    yield (
        openai.OpenAI(base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
                      http_client=http),
        anthropic.Anthropic(base_url=fake_upstream.url, api_key="k", max_retries=0,
                            http_client=http),
    )  # fmt: skip
    http.close()


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "streamed"])
@pytest.mark.parametrize("api", ["chat", "anthropic", "responses"])
def test_placeholders_in_tool_call_arguments_are_restored_for_the_agent(
    clients: tuple[openai.OpenAI, anthropic.Anthropic],
    fake_upstream: FakeUpstream,
    api: str,
    stream: bool,
) -> None:
    chat, messages = clients
    fake_upstream.enqueue(SCRIPT)
    if api == "chat":
        received = chat_arguments(chat, stream)
    elif api == "anthropic":
        received = anthropic_arguments(messages, stream)
    else:
        received = responses_arguments(chat, stream)
    sent = fake_upstream.requests[-1].body.decode()
    assert EMAIL not in sent and "John Smith" not in sent
    assert received == [RESTORED]


SESSION_POLICY = POLICY + "    scope: session\n"


def test_session_placeholders_are_never_restored_in_another_session_or_tenant(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    url = proxy_of(SESSION_POLICY).url + "/v1"

    def client(session: str, tenant: str) -> openai.OpenAI:
        headers = {"x-guardwire-session": session, "x-guardwire-tenant": tenant}
        return openai.OpenAI(base_url=url, api_key="k", max_retries=0, default_headers=headers)

    owner = client("s-1", "team-a")
    fake_upstream.enqueue(SCRIPT)
    assert chat_arguments(owner, stream=True) == [RESTORED]
    quiet: Any = [{"role": "user", "content": "send the usual note"}]
    for other in (client("s-2", "team-a"), client("s-1", "team-b")):
        for stream in (False, True):
            fake_upstream.enqueue(SCRIPT)
            assert chat_arguments(other, stream, quiet) == [ARGUMENTS]
    # The owner's session still restores its placeholders in a later call.
    fake_upstream.enqueue(SCRIPT)
    assert chat_arguments(owner, stream=False, messages=quiet) == [RESTORED]
