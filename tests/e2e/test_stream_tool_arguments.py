"""Long streamed tool calls through the proxy with the openai SDK: a tool call is held
until its arguments are complete under ``stream.max_tool_arguments`` (262,144 characters
by default), not the text hold-back ``stream.max_holdback`` (4,096), so a 20 KB
``write_file`` call passes with default stream settings; past the tool-call cap
``on_holdback_overflow`` decides."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

#: An agent entry makes the proxy hold each streamed tool call; no ``stream:`` section.
POLICY = """\
name: longtools
input:
  - check: agent
    tools_allowed: [write_file]
"""

WRITE_FILE: Any = [
    {
        "type": "function",
        "function": {
            "name": "write_file",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            },
        },
    }
]
#: About 20 KB of arguments.
LONG_CALL = ("write_file", {"path": "notes.md", "content": "a line of the notes\n" * 1000})


def streamed_calls(proxy: ProxyServer) -> dict[int, list[str]]:
    """Tool calls (index -> [name, arguments]) as an SDK user accumulates them."""
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    calls: dict[int, list[str]] = {}
    messages: Any = [{"role": "user", "content": "write the notes"}]
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=WRITE_FILE, stream=True
    ):
        delta = chunk.choices[0].delta if chunk.choices else None
        for call in (delta.tool_calls or []) if delta else []:
            entry = calls.setdefault(call.index, ["", ""])
            entry[0] += (call.function.name or "") if call.function else ""
            entry[1] += (call.function.arguments or "") if call.function else ""
    return calls


def test_a_20kb_tool_call_passes_with_default_stream_settings(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    arguments = json.dumps(LONG_CALL[1])
    assert len(arguments) > 20_000
    fake_upstream.enqueue(Script(tool_calls=[LONG_CALL], chunk_size=200))
    assert streamed_calls(proxy_of(POLICY)) == {0: ["write_file", arguments]}


def test_past_max_tool_arguments_the_overflow_setting_decides(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    capped = POLICY + "stream:\n  max_tool_arguments: 8192\n"
    fake_upstream.enqueue(Script(tool_calls=[LONG_CALL], chunk_size=200))
    with pytest.raises(openai.APIError) as refused:
        streamed_calls(proxy_of(capped))
    assert refused.value.code == "content_blocked"
    assert "max_tool_arguments" in refused.value.message
    assert "notes" not in refused.value.message
    # release: the call goes out unheld (and is checked with the whole reply at the end).
    released = capped + "  on_holdback_overflow: release\n"
    fake_upstream.enqueue(Script(tool_calls=[LONG_CALL], chunk_size=200))
    assert streamed_calls(proxy_of(released)) == {0: ["write_file", json.dumps(LONG_CALL[1])]}
