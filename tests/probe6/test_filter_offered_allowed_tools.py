"""``filter_offered`` also cleans an ``allowed_tools`` tool choice.

README (Agent limits): ``filter_offered: true`` drops the tools the policy does not allow
from the request's ``tools``; a ``tool_choice`` that forces a dropped tool goes with it.
OpenAI's ``tool_choice: {"type": "allowed_tools", ...}`` (chat and Responses) lists the
subset of the offered tools the model may use. Before, it was forwarded as sent, still
naming the dropped tools, which are no longer in ``tools`` (a request the API refuses).
Now the dropped tools leave that list too, and a list left empty takes the choice away.
"""

from __future__ import annotations

from typing import Any

import httpx2
import openai
from prometheus_client import CollectorRegistry

import guard
from tests.fake_upstream import FakeUpstream

POLICY = """\
name: filtered
input:
  - check: agent
    tools_allowed: [search, get_weather]
    filter_offered: true
"""


def client(fake_upstream: FakeUpstream) -> openai.OpenAI:
    engine = guard.Guard(guard.Policy.from_yaml(POLICY), registry=CollectorRegistry())
    http = httpx2.Client(transport=engine.transport())
    return openai.OpenAI(base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
                         http_client=http)  # fmt: skip


def chat_tool(name: str) -> Any:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}


def test_chat_allowed_tools_choice_keeps_only_offered_tools(fake_upstream: FakeUpstream) -> None:
    tools = [chat_tool(n) for n in ("search", "run_shell", "get_weather")]
    choice: Any = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "required", "tools": [
            {"type": "function", "function": {"name": "run_shell"}},
            {"type": "function", "function": {"name": "search"}}]},
    }  # fmt: skip
    client(fake_upstream).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], tools=tools,
        tool_choice=choice,
    )  # fmt: skip
    sent = fake_upstream.requests[-1].json
    assert [t["function"]["name"] for t in sent["tools"]] == ["search", "get_weather"]
    assert sent["tool_choice"] == {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "required",
                          "tools": [{"type": "function", "function": {"name": "search"}}]},
    }  # fmt: skip


def test_responses_allowed_tools_choice_naming_only_dropped_tools_is_removed(
    fake_upstream: FakeUpstream,
) -> None:
    tools: Any = [
        {"type": "function", "name": n, "parameters": {"type": "object"}}
        for n in ("search", "run_shell")
    ]
    choice: Any = {"type": "allowed_tools", "mode": "required",
                   "tools": [{"type": "function", "name": "run_shell"}]}  # fmt: skip
    client(fake_upstream).responses.create(
        model="gpt-4o-mini", input="hi", tools=tools, tool_choice=choice
    )
    sent = fake_upstream.requests[-1].json
    assert [t["name"] for t in sent["tools"]] == ["search"]
    assert "tool_choice" not in sent
