"""The agent check through the proxy with the openai SDK (tool calling) and the anthropic
SDK (tool use), streamed and not: a loop of identical tool calls is stopped at the
configured count, a denied tool is refused, an ``rm -rf`` argument is refused and a
session over its step cap gets the error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

POLICY = """\
name: agents
stream: {whole_reply: buffer}
input:
  - check: agent
    tools_allowed: [search, get_weather, run_shell, "db_read_*"]
    arguments:
      - {tool: run_shell, pointer: /command, deny_regex: '\\brm\\s+-rf\\b'}
    max_steps: 6
    repeat: {window: 6, max_same: 2, action: block}
"""

TOOLS: Any = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
         for n in ("search", "get_weather", "run_shell", "send_email")]  # fmt: skip
ANTHROPIC_TOOLS: Any = [{"name": n, "input_schema": {"type": "object"}}
                   for n in ("search", "get_weather", "run_shell", "send_email")]  # fmt: skip
MESSAGES: Any = [{"role": "user", "content": "what is the weather?"}]


@pytest.fixture
def proxy(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> ProxyServer:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    return start_proxy(
        upstream=fake_upstream.url, policy=str(policy), store=f"sqlite://{tmp_path / 's.db'}"
    )


def openai_client(proxy: ProxyServer, session: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=proxy.url + "/v1", api_key="k", max_retries=0,
        default_headers={"x-guardwire-session": session},
    )  # fmt: skip


def anthropic_client(proxy: ProxyServer, session: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=proxy.url, api_key="k", max_retries=0,
        default_headers={"x-guardwire-session": session},
    )  # fmt: skip


def ask_openai(client: openai.OpenAI, stream: bool) -> list[tuple[str, str]]:
    """One model call; the tool calls of the reply as (name, arguments)."""
    if not stream:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
        return [(c.function.name, c.function.arguments)  # type: ignore[union-attr]
                for c in reply.choices[0].message.tool_calls or []]  # fmt: skip
    calls: dict[int, list[str]] = {}
    events = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        tools=TOOLS,
        stream=True,
    )
    for chunk in events:
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            entry = calls.setdefault(delta.index, ["", ""])
            entry[0] += (delta.function.name or "") if delta.function else ""
            entry[1] += (delta.function.arguments or "") if delta.function else ""
    return [(name, arguments) for name, arguments in calls.values()]


def ask_anthropic(client: anthropic.Anthropic, stream: bool) -> list[str]:
    """One model call; the names of the reply's tool_use blocks."""
    arguments: Any = {"model": "claude-haiku-4-5", "max_tokens": 100,
                      "messages": MESSAGES, "tools": ANTHROPIC_TOOLS}  # fmt: skip
    if not stream:
        reply = client.messages.create(**arguments)
    else:
        with client.messages.stream(**arguments) as events:
            reply = events.get_final_message()
    return [block.name for block in reply.content if block.type == "tool_use"]


@pytest.mark.parametrize("stream", [False, True])
def test_openai_loop_is_stopped_at_the_configured_count(
    proxy: ProxyServer, fake_upstream: FakeUpstream, stream: bool
) -> None:
    same = Script(tool_calls=[("search", {"q": "weather in Paris"})])
    fake_upstream.enqueue(*[same] * 3)
    client = openai_client(proxy, f"loop-{stream}")
    assert ask_openai(client, stream) == [("search", '{"q": "weather in Paris"}')]
    assert ask_openai(client, stream)[0][0] == "search"
    with pytest.raises(openai.APIError) as stopped:
        ask_openai(client, stream)
    assert stopped.value.code == "agent_loop"
    assert "Paris" not in stopped.value.message and "'search'" in stopped.value.message
    metrics = httpx.get(proxy.url + "/metrics").text
    assert 'guardwire_agent_findings_total{action="block",check="agent",kind="agent.loop"}' in (
        metrics
    )


@pytest.mark.parametrize("stream", [False, True])
def test_openai_denied_tool_and_rm_rf_argument_are_refused(
    proxy: ProxyServer, fake_upstream: FakeUpstream, stream: bool
) -> None:
    fake_upstream.enqueue(
        Script(tool_calls=[("send_email", {"to": "a@example.com"})]),
        Script(tool_calls=[("run_shell", {"command": "rm -rf /"})]),
    )
    client = openai_client(proxy, f"deny-{stream}")
    with pytest.raises(openai.APIError) as denied:
        ask_openai(client, stream)
    assert denied.value.code == "agent_tool_denied"
    with pytest.raises(openai.APIError) as arguments:
        ask_openai(client, stream)
    assert arguments.value.code == "agent_arguments" and "rm" not in arguments.value.message
    assert "'run_shell'" in arguments.value.message


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_tool_use_denied_and_looping(
    proxy: ProxyServer, fake_upstream: FakeUpstream, stream: bool
) -> None:
    weather = Script(tool_calls=[("get_weather", {"city": "Oslo"})])
    fake_upstream.enqueue(
        Script(tool_calls=[("send_email", {"to": "x"})]), weather, weather, weather
    )
    client = anthropic_client(proxy, f"anthropic-{stream}")
    with pytest.raises(anthropic.APIError) as denied:
        ask_anthropic(client, stream)
    assert "a tool the policy does not allow" in str(denied.value)
    assert error_code(denied.value) == "agent_tool_denied"
    assert ask_anthropic(client, stream) == ["get_weather"]
    assert ask_anthropic(client, stream) == ["get_weather"]
    with pytest.raises(anthropic.APIError) as looped:
        ask_anthropic(client, stream)
    assert "repeated the same tool call" in str(looped.value) and "Oslo" not in str(looped.value)
    assert error_code(looped.value) == "agent_loop"


def error_code(error: anthropic.APIError) -> object:
    """The code as a client reads it without parsing the message: the SDK's
    ``error_code``, read from the body's ``error.details.error_code``."""
    assert isinstance(error, anthropic.APIStatusError)
    body: Any = error.body
    assert body["error"]["details"]["error_code"] == getattr(error, "error_code", None)
    return getattr(error, "error_code", None)


@pytest.mark.parametrize("stream", [False, True])
def test_a_session_over_its_step_cap_gets_the_error(
    proxy: ProxyServer, fake_upstream: FakeUpstream, stream: bool
) -> None:
    client = openai_client(proxy, f"steps-{stream}")
    for _ in range(6):
        ask_openai(client, stream)  # the default reply: text, no tool calls
    sent = len(fake_upstream.requests)
    with pytest.raises(openai.APIError) as capped:
        ask_openai(client, stream)
    assert capped.value.code == "agent_step_cap"
    assert len(fake_upstream.requests) == sent  # refused before the upstream
    with pytest.raises(anthropic.APIError) as anthropic_capped:
        ask_anthropic(anthropic_client(proxy, f"steps-{stream}"), stream)
    assert error_code(anthropic_capped.value) == "agent_step_cap"
    ask_openai(openai_client(proxy, "another-session"), stream)


APPROVAL_POLICY = """\
name: approvals
stream: {whole_reply: buffer}
input:
  - check: agent
    name: mail-agent   # metrics name the entry (approval decisions too), not "agent"
    approval:
      - {tools: [send_email], ttl: 900}
"""


def test_approval_through_the_proxy_with_an_operator_key(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy = tmp_path / "approvals.yaml"
    policy.write_text(APPROVAL_POLICY)
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=str(policy), store=f"sqlite://{tmp_path / 'a.db'}",
        keys=[{"key": "sk-agent", "tenant": "team"},
              {"key": "sk-operator", "tenant": "ops", "operator": True}],
    )  # fmt: skip
    email = Script(tool_calls=[("send_email", {"to": "boss@example.com"})])
    fake_upstream.enqueue(email, email, email)
    client = openai.OpenAI(
        base_url=proxy.url + "/v1", api_key="sk-agent", max_retries=0,
        default_headers={"x-guardwire-session": "mail-1"},
    )  # fmt: skip
    with pytest.raises(openai.PermissionDeniedError) as stopped:
        ask_openai(client, False)
    assert stopped.value.code == "approval_required" and "boss" not in stopped.value.message
    approval = stopped.value.message.split("approval id ")[1][:16]

    url = f"{proxy.url}/guardwire/v1/approvals/{approval}"
    refused = httpx.post(url, headers={"authorization": "Bearer sk-agent"})
    assert refused.status_code == 403  # an agent's own key cannot approve
    assert httpx.post(url, headers={"x-api-key": "sk-operator"}).status_code == 200
    assert httpx.post(url, headers={"x-api-key": "sk-operator"}).status_code == 404

    assert ask_openai(client, False)[0][0] == "send_email"  # passes once
    with pytest.raises(openai.PermissionDeniedError):
        ask_openai(client, False)
    metrics = httpx.get(proxy.url + "/metrics").text
    assert 'guardwire_agent_approvals_total{check="mail-agent",event="approved"} 1.0' in metrics
    assert 'guardwire_agent_approvals_total{check="mail-agent",event="requested"}' in metrics
    assert 'check="agent"' not in metrics


def test_pending_approvals_are_listed_and_decided_through_the_cli_and_the_proxy(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from guard.cli import main

    policy = tmp_path / "approvals.yaml"
    policy.write_text(APPROVAL_POLICY)
    audit = tmp_path / "audit.jsonl"
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=str(policy), store=f"sqlite://{tmp_path / 'a.db'}",
        audit_log=str(audit),
        keys=[{"key": "sk-agent", "tenant": "team"},
              {"key": "sk-operator", "tenant": "ops", "operator": True}],
    )  # fmt: skip
    email = Script(tool_calls=[("send_email", {"to": "boss@example.com"})])
    fake_upstream.enqueue(email, email)
    client = openai.OpenAI(
        base_url=proxy.url + "/v1", api_key="sk-agent", max_retries=0,
        default_headers={"x-guardwire-session": "mail-1"},
    )  # fmt: skip
    with pytest.raises(openai.PermissionDeniedError) as stopped:
        ask_openai(client, False)
    approval = stopped.value.message.split("approval id ")[1][:16]

    url = proxy.url + "/guardwire/v1/approvals"
    assert httpx.get(url, headers={"authorization": "Bearer sk-agent"}).status_code == 403
    listed = httpx.get(url, headers={"x-api-key": "sk-operator"})
    assert listed.status_code == 200 and "boss" not in listed.text
    (pending,) = listed.json()["approvals"]
    assert pending["id"] == approval and pending["tool"] == "send_email"
    assert pending["tenant"] == "team" and pending["arguments_hash"].startswith("sha256:")
    assert pending["expires"] - pending["created"] == pytest.approx(900, abs=0.01)
    assert httpx.get(url + "?limit=0", headers={"x-api-key": "sk-operator"}).status_code == 400

    monkeypatch.setenv("GUARDWIRE_OPERATOR_KEY", "sk-operator")
    assert main(["approve", "--list", "--proxy", proxy.url]) == 0
    assert main(["approve", approval, "--proxy", proxy.url]) == 0  # counted by the proxy
    assert main(["approve", approval, "--proxy", proxy.url]) == 1
    assert httpx.get(url, headers={"x-api-key": "sk-operator"}).json() == {"approvals": []}
    assert ask_openai(client, False)[0][0] == "send_email"  # passes once
    metrics = httpx.get(proxy.url + "/metrics").text
    assert 'guardwire_agent_approvals_total{check="mail-agent",event="approved"} 1.0' in metrics
    assert 'guardwire_agent_approvals_total{check="mail-agent",event="requested"}' in metrics
    assert 'check="agent"' not in metrics

    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    text = audit.read_text()
    assert "boss" not in text and all("dropped" not in line for line in lines)
    (decision,) = [line for line in lines if line.get("event") == "approval"]
    assert decision["approval_id"] == approval and decision["tool"] == "send_email"
    assert decision["arguments_hash"] == pending["arguments_hash"]
    assert decision["key_id"] and decision["session"] == pending["session"]
    refused = next(line for line in lines if line.get("outcome") == "blocked")
    (finding,) = refused["output"]["checks"][0]["findings"]
    assert (finding["tool"], finding["arguments_hash"]) == ("send_email", pending["arguments_hash"])


STRIP_POLICY = """\
name: strip
stream: {whole_reply: buffer}
input:
  - check: agent
    tools_allowed: [search, get_weather]
    action: strip
"""


def openai_reply_calls(client: openai.OpenAI, stream: bool) -> tuple[list[str], str, str]:
    """Tool names, finish reason and content of one OpenAI call."""
    if not stream:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
        choice = reply.choices[0]
        names = [c.function.name for c in choice.message.tool_calls or []]  # type: ignore[union-attr]
        return names, choice.finish_reason, choice.message.content or ""
    names, finish, content = [], "", ""
    events = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=True
    )
    for chunk in events:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            finish = choice.finish_reason or finish
            names += [d.function.name for d in choice.delta.tool_calls or []
                      if d.function and d.function.name]  # fmt: skip
    return names, finish, content


@pytest.mark.parametrize("stream", [False, True])
def test_strip_removes_the_denied_tool_call_with_both_sdks(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    stream: bool,
) -> None:
    policy = tmp_path / "strip.yaml"
    policy.write_text(STRIP_POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy))
    mixed = Script(
        text="Checking.", tool_calls=[("search", {"q": "x"}), ("send_email", {"to": "b"})]
    )
    only_denied = Script(text="Sending.", tool_calls=[("send_email", {"to": "boss"})])
    fake_upstream.enqueue(mixed, only_denied, mixed, only_denied, mixed, only_denied)
    client = openai_client(proxy, f"strip-{stream}")
    assert openai_reply_calls(client, stream) == (["search"], "tool_calls", "Checking.")
    assert openai_reply_calls(client, stream) == ([], "stop", "Sending.")

    arguments: Any = {"model": "claude-haiku-4-5", "max_tokens": 100,
                      "messages": MESSAGES, "tools": ANTHROPIC_TOOLS}  # fmt: skip
    anthropic_api = anthropic_client(proxy, f"strip-{stream}")
    for names, stop in ((["search"], "tool_use"), ([], "end_turn")):
        if stream:
            with anthropic_api.messages.stream(**arguments) as events:
                reply = events.get_final_message()
        else:
            reply = anthropic_api.messages.create(**arguments)
        assert [b.name for b in reply.content if b.type == "tool_use"] == names
        assert reply.stop_reason == stop and reply.content[0].type == "text"
    responses_tools: Any = [{"type": "function", "name": n, "parameters": {"type": "object"}}
                            for n in ("search", "send_email")]  # fmt: skip
    # Streamed, the strip goes through the progressive tool-call gate: the SDK must
    # accept the renumbered events (output_index, sequence_number) and the final output.
    for names in (["search"], []):
        if stream:
            with client.responses.stream(
                model="gpt-4o-mini", input="go", tools=responses_tools
            ) as events:
                response = events.get_final_response()
        else:
            response = client.responses.create(
                model="gpt-4o-mini", input="go", tools=responses_tools
            )
        assert [i.name for i in response.output if i.type == "function_call"] == names
    metrics = httpx.get(proxy.url + "/metrics").text
    assert (
        'guardwire_agent_findings_total{action="redact",check="agent",kind="agent.tool_denied"} '
        + "6.0"
        in metrics
    )
