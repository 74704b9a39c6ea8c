"""Tool calls checked as they complete in progressive streams (issues 20 and 23), through
the proxy with the openai SDK (streamed tool calling) and the anthropic SDK (streamed
tool_use), and through the transport: a bad tool call in the middle of a stream ends it
with the API's error event and none of its argument bytes reach the client; good ones
pass byte-identical; any upstream chunking gives the buffered result."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks.base import Capabilities
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

#: Progressive streams (the default): no ``whole_reply: buffer`` anywhere.
POLICY = """\
name: streamtools
input:
  - check: agent
    tools_denied: [send_email]
    arguments:
      - {tool: run_shell, pointer: /command, deny_regex: '\\brm\\s+-rf\\b'}
output:
  - check: schema
    action: reask
    from_request: true
"""


def tool(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return {"type": "function", "function": {"name": name, "parameters": schema}}


STRING = {"type": "string"}
TOOLS: Any = [tool("search", {"q": STRING}), tool("run_shell", {"command": STRING}),
              tool("get_weather", {"city": STRING}), tool("send_email", {"to": STRING})]  # fmt: skip
ANTHROPIC_TOOLS: Any = [{"name": t["function"]["name"], "input_schema": t["function"]["parameters"]}
                        for t in TOOLS]  # fmt: skip
MESSAGES: Any = [{"role": "user", "content": "what is the weather?"}]
SEARCH = ("search", {"q": "weather in Oslo"})
WEATHER = ("get_weather", {"city": "Bergen"})
#: The refused call's arguments carry a marker that must never reach the client.
RM_RF = ("run_shell", {"command": "rm -rf /srv/MARKER-9f3a"})
MARKER = b"MARKER-9f3a"


def raw_stream(base: str, body: dict[str, Any], path: str = "/v1/chat/completions") -> bytes:
    headers = {"authorization": "Bearer k", "x-api-key": "k", "anthropic-version": "2023-06-01"}
    with httpx.stream("POST", base + path, json=body, headers=headers, timeout=10) as response:
        assert response.status_code == 200
        return b"".join(response.iter_raw())


def openai_body(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": MESSAGES, "tools": TOOLS, "stream": True, **extra}


def sdk_tool_calls(client: openai.OpenAI) -> tuple[str, dict[int, list[str]]]:
    """Text and tool calls (index -> [name, arguments]) as an SDK user accumulates them."""
    text, calls = "", dict[int, list[str]]()
    events = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=True
    )
    for chunk in events:
        delta = chunk.choices[0].delta if chunk.choices else None
        text += (delta.content or "") if delta else ""
        for call in (delta.tool_calls or []) if delta else []:
            entry = calls.setdefault(call.index, ["", ""])
            entry[0] += (call.function.name or "") if call.function else ""
            entry[1] += (call.function.arguments or "") if call.function else ""
    return text, calls


def normalised(data: bytes) -> bytes:
    """Stream bytes without the per-response ids the fake upstream numbers, and without
    its ``created`` seconds (two requests may straddle a second on a loaded machine)."""
    return re.sub(rb'"created":\d+', b'"created":0', re.sub(rb"fake\d+", b"fake", data))


def test_openai_bad_tool_call_mid_stream_ends_it_before_its_bytes_leave(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = proxy_of(POLICY)
    bad = Script(text="Checking.", tool_calls=[SEARCH, RM_RF, WEATHER])
    fake_upstream.enqueue(bad, bad)
    received = raw_stream(proxy.url, openai_body())
    assert MARKER not in received and b"rm -rf" not in received
    assert b'"name":"run_shell"' not in received  # (the error names the policy's rule)
    assert b"Bergen" not in received  # nothing after the refused call either
    events = [json.loads(line[6:]) for line in received.split(b"\n") if line.startswith(b"data: {")]
    assert events[-1]["error"]["code"] == "agent_arguments" and b"[DONE]" not in received
    assert any(b'"name":"search"' in line for line in received.split(b"\n"))
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIError) as refused:
        sdk_tool_calls(client)
    assert refused.value.code == "agent_arguments" and "rm" not in refused.value.message


def test_openai_good_tool_calls_pass_byte_identical(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = proxy_of(POLICY)
    good = Script(text="Checking the weather.", tool_calls=[SEARCH, WEATHER])
    fake_upstream.enqueue(good, good)
    direct = raw_stream(fake_upstream.url, openai_body())
    through = raw_stream(proxy.url, openai_body())
    assert normalised(through) == normalised(direct)


def test_openai_schema_violation_in_tool_arguments_ends_the_stream(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = proxy_of(POLICY)
    wrong = Script(tool_calls=[SEARCH, ("get_weather", {"city": 987654321})])
    undeclared = Script(tool_calls=[("delete_everything", {"path": "/MARKER-9f3a"})])
    fake_upstream.enqueue(wrong, undeclared)
    received = raw_stream(proxy.url, openai_body())
    assert b"987654321" not in received and b'"name":"get_weather"' not in received
    assert b"/city" in received and b"[DONE]" not in received  # the pointer, not the value
    received = raw_stream(proxy.url, openai_body())
    assert MARKER not in received and b"delete_everything" not in received
    assert b"not declared" in received


@pytest.mark.parametrize("seed", range(4))
def test_any_chunking_gives_the_buffered_result(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream, seed: int
) -> None:
    progressive = proxy_of(POLICY)
    buffered = proxy_of(POLICY.replace("name: streamtools", "name: b\nstream: {mode: buffer}"))
    size = random.Random(seed).randint(1, 13)
    script = Script(text="Let me check both.", tool_calls=[SEARCH, WEATHER], chunk_size=size)
    fake_upstream.enqueue(script, script)
    results = [
        sdk_tool_calls(openai.OpenAI(base_url=p.url + "/v1", api_key="k", max_retries=0))
        for p in (progressive, buffered)
    ]
    assert results[0] == results[1]
    assert results[0][1] == {0: ["search", json.dumps(SEARCH[1])],
                             1: ["get_weather", json.dumps(WEATHER[1])]}  # fmt: skip


def test_anthropic_denied_tool_use_mid_stream_never_reaches_the_client(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = proxy_of(POLICY)
    denied = Script(
        text="On it.", tool_calls=[WEATHER, ("send_email", {"to": "MARKER-9f3a@x.org"})]
    )
    fake_upstream.enqueue(denied, denied)
    body = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": MESSAGES,
            "tools": ANTHROPIC_TOOLS, "stream": True}  # fmt: skip
    received = raw_stream(proxy.url, body, "/v1/messages")
    assert MARKER not in received and b"message_stop" not in received
    assert b'"name":"get_weather"' in received and b"event: error" in received
    client = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)
    names: list[str] = []
    with pytest.raises(anthropic.APIError) as refused:
        arguments: Any = {key: value for key, value in body.items() if key != "stream"}
        with client.messages.stream(**arguments) as events:
            for event in events:
                if event.type == "content_block_start" and event.content_block.type == "tool_use":
                    names.append(event.content_block.name)
    assert names == ["get_weather"]
    assert "a tool the policy does not allow" in str(refused.value)


def test_anthropic_good_tool_use_passes_byte_identical(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = proxy_of(POLICY)
    good = Script(text="On it.", tool_calls=[WEATHER, SEARCH])
    fake_upstream.enqueue(good, good)
    body = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": MESSAGES,
            "tools": ANTHROPIC_TOOLS, "stream": True}  # fmt: skip
    direct = raw_stream(fake_upstream.url, body, "/v1/messages")
    through = raw_stream(proxy.url, body, "/v1/messages")
    assert normalised(through) == normalised(direct)
    client = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)
    fake_upstream.enqueue(good)
    arguments: Any = {key: value for key, value in body.items() if key != "stream"}
    with client.messages.stream(**arguments) as events:
        message = events.get_final_message()
    assert [b.name for b in message.content if b.type == "tool_use"] == ["get_weather", "search"]


def test_through_the_transport(fake_upstream: FakeUpstream) -> None:
    engine = guard.Guard(guard.Policy.from_yaml(POLICY), registry=CollectorRegistry())
    http = httpx.Client(transport=engine.transport())
    client = openai.OpenAI(base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
                           http_client=http)  # fmt: skip
    bad = Script(text="Checking.", tool_calls=[SEARCH, RM_RF, WEATHER])
    good = Script(text="Checking.", tool_calls=[SEARCH, WEATHER])
    fake_upstream.enqueue(bad, bad, good)
    with http.stream("POST", fake_upstream.url + "/v1/chat/completions", json=openai_body(),
                     headers={"authorization": "Bearer k"}) as response:  # fmt: skip
        received = b"".join(response.iter_raw())
    assert MARKER not in received and b"agent_arguments" in received
    with pytest.raises(openai.APIError) as refused:
        sdk_tool_calls(client)
    assert refused.value.code == "agent_arguments"
    assert sdk_tool_calls(client)[1] == {0: ["search", json.dumps(SEARCH[1])],
                                         1: ["get_weather", json.dumps(WEATHER[1])]}  # fmt: skip


class StripShell:
    """Removes ``run_shell`` tool calls (the seam's ``REDACT``: ``action: strip``)."""

    name, shadow = "strip_shell", False
    capabilities = Capabilities(tool_calls=True)

    def input(self, call: Any, ctx: Any) -> guard.Verdict:
        return guard.Verdict(self.name, guard.Action.ALLOW)

    def output(self, call: Any, reply: Any, ctx: Any) -> guard.Verdict:
        return guard.Verdict(self.name, guard.Action.ALLOW)

    def tool_call(self, call: Any, tool_call: Any, ctx: Any) -> guard.Verdict:
        action = guard.Action.REDACT if tool_call.name == "run_shell" else guard.Action.ALLOW
        return guard.Verdict(self.name, action)


def test_stripped_tool_call_leaves_sdk_accumulators_consistent(fake_upstream: FakeUpstream) -> None:
    engine = guard.Guard(guard.Policy.from_dict({"name": "strip"}), registry=CollectorRegistry())
    engine.add_check("output", StripShell())
    script = Script(text="Checking.", tool_calls=[SEARCH, RM_RF, WEATHER])
    fake_upstream.enqueue(script, script)
    client = openai.OpenAI(base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
                           http_client=httpx.Client(transport=engine.transport()))  # fmt: skip
    # The SDK's own accumulator addresses tool calls by index: a gap would break it.
    with client.chat.completions.stream(
        model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS
    ) as events:
        completion = events.get_final_completion()
    calls = completion.choices[0].message.tool_calls or []
    assert [(c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("search", json.dumps(SEARCH[1])), ("get_weather", json.dumps(WEATHER[1]))
    ]  # fmt: skip
    assert completion.choices[0].message.content == "Checking."
    claude = anthropic.Anthropic(base_url=fake_upstream.url, api_key="k", max_retries=0,
                                 http_client=httpx2.Client(transport=engine.transport()))  # fmt: skip
    arguments: Any = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": MESSAGES,
                      "tools": ANTHROPIC_TOOLS}  # fmt: skip
    with claude.messages.stream(**arguments) as stream:
        message = stream.get_final_message()
    blocks = [(b.type, getattr(b, "name", None)) for b in message.content]
    assert blocks == [("text", None), ("tool_use", "search"), ("tool_use", "get_weather")]
    assert "MARKER" not in message.model_dump_json()


APPROVAL_POLICY = """\
name: approvals
input:
  - check: agent
    approval:
      - {tools: [send_email], ttl: 900}
"""


def test_streamed_tool_call_waiting_for_approval(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy = tmp_path / "approvals.yaml"
    policy.write_text(APPROVAL_POLICY)
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=str(policy), store=f"sqlite://{tmp_path / 'a.db'}",
        keys=[{"key": "sk-agent", "tenant": "team"},
              {"key": "sk-operator", "tenant": "ops", "operator": True}],
    )  # fmt: skip
    email = Script(text="Sending.", tool_calls=[("send_email", {"to": "MARKER-9f3a@x.org"})])
    fake_upstream.enqueue(email, email, email)
    client = openai.OpenAI(
        base_url=proxy.url + "/v1", api_key="sk-agent", max_retries=0,
        default_headers={"x-guardwire-session": "mail-1"},
    )  # fmt: skip
    with pytest.raises(openai.APIError) as stopped:
        sdk_tool_calls(client)
    assert stopped.value.code == "approval_required" and "MARKER" not in stopped.value.message
    approval = stopped.value.message.split("approval id ")[1][:16]
    url = f"{proxy.url}/guardwire/v1/approvals/{approval}"
    assert httpx.post(url, headers={"x-api-key": "sk-operator"}).status_code == 200
    text, calls = sdk_tool_calls(client)  # the same call passes once
    assert text == "Sending." and calls[0][0] == "send_email"
    with pytest.raises(openai.APIError) as again:
        sdk_tool_calls(client)
    assert again.value.code == "approval_required"


def test_anthropic_and_transport_schema_violation_in_streamed_tool_input(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = proxy_of(POLICY)
    wrong = Script(text="On it.", tool_calls=[WEATHER, ("search", {"q": 987654321})])
    fake_upstream.enqueue(wrong, wrong)
    body = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": MESSAGES,
            "tools": ANTHROPIC_TOOLS, "stream": True}  # fmt: skip
    received = raw_stream(proxy.url, body, "/v1/messages")
    assert b"987654321" not in received and b'"name":"search"' not in received
    assert b'"name":"get_weather"' in received and b"/q" in received
    assert b"event: error" in received and b"message_stop" not in received
    engine = guard.Guard(guard.Policy.from_yaml(POLICY), registry=CollectorRegistry())
    claude = anthropic.Anthropic(base_url=fake_upstream.url, api_key="k", max_retries=0,
                                 http_client=httpx2.Client(transport=engine.transport()))  # fmt: skip
    arguments: Any = {key: value for key, value in body.items() if key != "stream"}
    with (
        pytest.raises(anthropic.APIError) as refused,
        claude.messages.stream(**arguments) as events,
    ):
        events.get_final_message()
    assert "/q" in str(refused.value) and "987654321" not in str(refused.value)
