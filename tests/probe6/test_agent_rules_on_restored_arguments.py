"""The agent's argument rules judge the tool call the application will run: with its
pseudonyms restored.

A policy that pseudonymises personal data and limits tool arguments (README: PII
``pseudonymise``; Agent limits ``arguments``) sends ``<EMAIL_ADDRESS_1>`` upstream, and
the model writes that placeholder into its tool call; guardwire then restores the address
for the application. Before, the argument rules read the placeholder: a ``deny_regex``
on the address (``@competitor\\.com$``) never matched, so ``send_email`` to the denied
domain reached the agent; an ``allow_hosts`` rule refused every URL the user had typed,
allowed host or not (``<URL_1>`` names no host). Complete and streamed, proxy and
transport.
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
    entities: [EMAIL_ADDRESS, URL]
  - check: agent
    arguments:
      - {tool: send_email, pointer: /to, deny_regex: '@competitor\\.com$'}
      - {tool: fetch_url, pointer: /url, allow_hosts: [docs.example.com]}
"""
CHAT_TOOLS: Any = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("send_email", "fetch_url")
]
ANTHROPIC_TOOLS: Any = [
    {"name": name, "input_schema": {"type": "object"}} for name in ("send_email", "fetch_url")
]

#: (prompt, the model's tool call, what the application gets or the refusal's code)
CASES: dict[str, tuple[str, tuple[str, dict[str, Any]], Any]] = {
    "denied address": (
        "write to bob@competitor.com about the offer",
        ("send_email", {"to": "<EMAIL_ADDRESS_1>"}),
        "agent_arguments",
    ),
    "allowed address": (
        "write to ann@example.org about the offer",
        ("send_email", {"to": "<EMAIL_ADDRESS_1>"}),
        {"to": "ann@example.org"},
    ),
    "allowed host": (
        "read https://docs.example.com/guide for me",
        ("fetch_url", {"url": "<URL_1>"}),
        {"url": "https://docs.example.com/guide"},
    ),
    "other host": (
        "read https://evil.example.net/guide for me",
        ("fetch_url", {"url": "<URL_1>"}),
        "agent_arguments",
    ),
}


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


def chat_call(client: openai.OpenAI, prompt: str, stream: bool) -> Any:
    messages: Any = [{"role": "user", "content": prompt}]
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
    (tool_call,) = reply.choices[0].message.tool_calls
    return json.loads(tool_call.function.arguments)


def anthropic_call(client: anthropic.Anthropic, prompt: str, stream: bool) -> Any:
    request: Any = {"model": "claude-x", "max_tokens": 100, "tools": ANTHROPIC_TOOLS,
                    "messages": [{"role": "user", "content": prompt}]}  # fmt: skip
    if stream:
        with client.messages.stream(**request) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**request)
    (block,) = [block for block in message.content if block.type == "tool_use"]
    return block.input


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "streamed"])
@pytest.mark.parametrize("api", ["chat", "anthropic"])
@pytest.mark.parametrize("case", CASES)
def test_argument_rules_read_the_restored_arguments(
    clients: tuple[openai.OpenAI, anthropic.Anthropic],
    fake_upstream: FakeUpstream,
    case: str,
    api: str,
    stream: bool,
) -> None:
    prompt, tool_call, expected = CASES[case]
    fake_upstream.enqueue(Script(tool_calls=[tool_call]))
    chat, messages = clients
    try:
        received = (
            chat_call(chat, prompt, stream)
            if api == "chat"
            else anthropic_call(messages, prompt, stream)
        )
    except (openai.APIError, anthropic.APIError) as refused:
        body: Any = getattr(refused, "body", None)
        code = (
            refused.code
            if isinstance(refused, openai.APIError)
            else body["error"]["details"]["error_code"]
        )
        assert "competitor" not in str(refused) and "evil" not in str(refused)
        received = code
    sent = fake_upstream.requests[-1].body.decode()
    assert "@" not in sent and "https://" not in sent  # the model saw placeholders only
    assert received == expected
