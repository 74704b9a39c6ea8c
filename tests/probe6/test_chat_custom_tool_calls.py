"""Chat completions' custom tool calls are tool calls too.

OpenAI chat completions offer free-form tools (``tools: [{"type": "custom", "custom":
{"name": ...}}]``); the model calls them with ``tool_calls: [{"type": "custom",
"custom": {"name", "input"}}]`` (the openai SDK's ``ChatCompletionMessageCustomToolCall``).
Before, guardwire read only ``function`` tool calls of a chat message: a complete reply's
custom tool call passed the agent's allowlist and argument rules unread (``run_shell``
with ``rm -rf`` reached the application under ``tools_allowed: [search]``), its input
was never checked as text, and a custom tool call in the request's history carried text
to the model unchecked. In a stream, an allowed custom tool call was refused as a tool
"the policy does not allow" (its name was never read).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

POLICY = """\
name: customtools
input:
  - check: agent
    tools_allowed: [search, apply_patch]
  - check: rules
    name: secrets
    rules: [{name: keys, secrets: all, action: redact}]
output:
  - check: rules
    name: secrets
    rules: [{name: keys, secrets: all, action: redact}]
"""
MARKER = "MARKER-51aa"
SECRET = "AKIAABCDEFGHIJKLMNOP"
TOOLS: Any = [
    {"type": "custom", "custom": {"name": "apply_patch"}},
    {"type": "custom", "custom": {"name": "run_shell"}},
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}},
]
MESSAGES: Any = [{"role": "user", "content": "fix the build"}]
HEAD = {"id": "chatcmpl-custom", "created": 1, "model": "gpt-4o-mini"}
USAGE = {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}


def reply(name: str, text: str) -> dict[str, Any]:
    call = {"id": "call_1", "type": "custom", "custom": {"name": name, "input": text}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    choice = {"index": 0, "finish_reason": "tool_calls", "message": message}
    return {**HEAD, "object": "chat.completion", "choices": [choice], "usage": USAGE}


def events(name: str, text: str) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        body = {**HEAD, "object": "chat.completion.chunk", "choices": [choice]}
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    start = {"index": 0, "id": "call_1", "type": "custom", "custom": {"name": name, "input": ""}}
    pieces = [text[at : at + 6] for at in range(0, len(text), 6)]
    return [
        chunk({"role": "assistant", "content": None}),
        chunk({"tool_calls": [start]}),
        *(chunk({"tool_calls": [{"index": 0, "custom": {"input": p}}]}) for p in pieces),
        chunk({}, "tool_calls"),
        b"data: [DONE]\n\n",
    ]


@pytest.fixture
def client(proxy_of: Callable[[str], ProxyServer]) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy_of(POLICY).url + "/v1", api_key="k", max_retries=0)


def test_a_denied_custom_tool_call_is_refused(
    client: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(body=reply("run_shell", f"rm -rf /srv/{MARKER}")))
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
    assert refused.value.code == "agent_tool_denied"
    assert MARKER not in str(refused.value)


def test_an_allowed_custom_tool_call_passes_and_its_input_is_checked(
    client: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(body=reply("apply_patch", f"*** key {SECRET} ***")))
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
    (call,) = completion.choices[0].message.tool_calls or []
    assert call.type == "custom"
    assert (call.custom.name, call.custom.input) == ("apply_patch", "*** key [AWS_ACCESS_KEY] ***")


def test_a_custom_tool_call_in_the_history_is_checked_before_it_leaves(
    client: openai.OpenAI, fake_upstream: FakeUpstream
) -> None:
    history: Any = [
        *MESSAGES,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_0", "type": "custom",
             "custom": {"name": "apply_patch", "input": f"set key {SECRET}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": "done"},
    ]  # fmt: skip
    client.chat.completions.create(model="gpt-4o-mini", messages=history, tools=TOOLS)
    sent = fake_upstream.requests[-1].json
    assert SECRET not in json.dumps(sent)
    assert sent["messages"][1]["tool_calls"][0]["custom"]["input"] == "set key [AWS_ACCESS_KEY]"


def streamed(proxy_url: str) -> bytes:
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "tools": TOOLS, "stream": True}
    headers = {"authorization": "Bearer k"}
    with httpx.stream("POST", proxy_url + "/v1/chat/completions", json=body, headers=headers,
                      timeout=10) as response:  # fmt: skip
        return b"".join(response.iter_raw())


def custom_call(url: str) -> list[str]:
    """[name, input] of the streamed custom tool call, as an SDK user joins the deltas
    (the SDK's stream helper does not know custom tool calls)."""
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    found = ["", ""]
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=True
    ):
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            custom: Any = getattr(delta, "custom", None) or (delta.model_extra or {}).get("custom")
            if isinstance(custom, dict):
                found[0] += custom.get("name") or ""
                found[1] += custom.get("input") or ""
    return found


def test_streamed_custom_tool_calls_are_judged_by_their_name(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    url = proxy_of(POLICY).url
    fake_upstream.enqueue(Script(events=events("run_shell", f"rm -rf /srv/{MARKER}")))
    received = streamed(url)
    assert MARKER.encode() not in received and b"agent_tool_denied" in received
    fake_upstream.enqueue(Script(events=events("apply_patch", "*** patch ***")))
    assert custom_call(url) == ["apply_patch", "*** patch ***"]


@pytest.mark.parametrize("mode", ["progressive", "buffer"])
def test_a_streamed_custom_tool_calls_input_is_checked_as_text(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream, mode: str
) -> None:
    url = proxy_of(POLICY + f"stream:\n  mode: {mode}\n").url
    fake_upstream.enqueue(Script(events=events("apply_patch", f"*** key {SECRET} ***")))
    assert custom_call(url) == ["apply_patch", "*** key [AWS_ACCESS_KEY] ***"]
