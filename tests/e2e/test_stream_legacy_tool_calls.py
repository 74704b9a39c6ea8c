"""Legacy OpenAI ``function_call`` deltas and Responses ``custom_tool_call`` items in
streams, through the proxy with the openai SDK: each is held until complete and checked
like a tool call (the agent's tool lists and argument rules), in progressive and buffer
modes, so a refused call's bytes never reach the client; a good one passes unchanged."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

POLICY = """\
name: legacytools
input:
  - check: agent
    tools_denied: [send_email]
    arguments:
      - {tool: run_shell, pointer: /command, deny_regex: '\\brm\\s+-rf\\b'}
      - {tool: shell, pointer: "", deny_regex: '\\brm\\s+-rf\\b'}
"""
BUFFERED = POLICY + "stream:\n  mode: buffer\n"
MODES = {"progressive": POLICY, "buffer": BUFFERED}

#: The refused call's arguments carry a marker that must never reach the client.
MARKER = b"MARKER-5d1c"
RM_RF = ("run_shell", json.dumps({"command": "rm -rf /srv/MARKER-5d1c"}))
DENIED = ("send_email", json.dumps({"to": "MARKER-5d1c@example.com"}))
GOOD = ("run_shell", json.dumps({"command": "ls -la /srv/data"}))

FUNCTIONS: Any = [
    {"name": name, "parameters": {"type": "object"}} for name in ("run_shell", "send_email")
]
MESSAGES: Any = [{"role": "user", "content": "tidy the server"}]


def pieces(text: str, size: int = 7) -> Iterator[str]:
    return (text[at : at + size] for at in range(0, len(text), size))


def raw_stream(base: str, path: str, body: dict[str, Any]) -> bytes:
    headers = {"authorization": "Bearer k"}
    with httpx.stream("POST", base + path, json=body, headers=headers, timeout=10) as response:
        assert response.status_code == 200
        return b"".join(response.iter_raw())


# -- OpenAI chat: the deprecated single function_call ----------------------------------------


def legacy_events(name: str, arguments: str) -> list[bytes]:
    head = {"id": "chatcmpl-legacy", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o-mini"}  # fmt: skip

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + json.dumps({**head, "choices": [choice]}).encode() + b"\n\n"

    events = [chunk({"role": "assistant", "content": None})]
    events.append(chunk({"function_call": {"name": name, "arguments": ""}}))
    events += [chunk({"function_call": {"arguments": piece}}) for piece in pieces(arguments)]
    events.append(chunk({}, "function_call"))
    return [*events, b"data: [DONE]\n\n"]


def legacy_call(proxy: ProxyServer) -> list[str]:
    """[name, arguments] of the streamed function_call as an SDK user accumulates it."""
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    found = ["", ""]
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, functions=FUNCTIONS, stream=True
    ):
        delta = chunk.choices[0].delta if chunk.choices else None
        if delta is not None and delta.function_call is not None:
            found[0] += delta.function_call.name or ""
            found[1] += delta.function_call.arguments or ""
    return found


CHAT = "/v1/chat/completions"
CHAT_BODY = {"model": "gpt-4o-mini", "messages": MESSAGES, "functions": FUNCTIONS, "stream": True}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("refused", "code"), [(RM_RF, "agent_arguments"), (DENIED, "agent_tool_denied")]
)
def test_refused_legacy_function_call_never_reaches_the_client(
    proxy_of: Callable[[str], ProxyServer],
    fake_upstream: FakeUpstream,
    mode: str,
    refused: tuple[str, str],
    code: str,
) -> None:
    proxy = proxy_of(MODES[mode])
    script = Script(events=legacy_events(*refused))
    fake_upstream.enqueue(script, script)
    received = raw_stream(proxy.url, CHAT, CHAT_BODY)
    assert MARKER not in received and b"[DONE]" not in received
    last = json.loads(received.strip().split(b"\n")[-1][6:])
    assert last["error"]["code"] == code
    with pytest.raises(openai.APIError) as error:
        legacy_call(proxy)
    assert error.value.code == code and "MARKER" not in error.value.message


@pytest.mark.parametrize("mode", MODES)
def test_good_legacy_function_call_passes(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream, mode: str
) -> None:
    proxy = proxy_of(MODES[mode])
    events = legacy_events(*GOOD)
    fake_upstream.enqueue(Script(events=events), Script(events=events))
    received = raw_stream(proxy.url, CHAT, CHAT_BODY)
    if mode == "progressive":
        assert received == b"".join(events)  # held, checked, then released unchanged
    assert legacy_call(proxy) == list(GOOD)


# -- Responses: custom tool calls (free-text input) ------------------------------------------


def custom_events(name: str, source: str) -> list[bytes]:
    sequence = iter(range(1000))

    def event(kind: str, **data: Any) -> bytes:
        payload = {"type": kind, "sequence_number": next(sequence), **data}
        return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()

    head = {"id": "resp_1", "object": "response", "created_at": 1, "status": "in_progress",
            "model": "gpt-4o-mini", "output": []}  # fmt: skip
    item = {"type": "custom_tool_call", "id": "ctc_0", "call_id": "call_0", "name": name,
            "input": "", "status": "in_progress"}  # fmt: skip
    events = [event("response.created", response=head)]
    events.append(event("response.output_item.added", output_index=0, item=item))
    for piece in pieces(source):
        events.append(event("response.custom_tool_call_input.delta", output_index=0,
                            item_id="ctc_0", delta=piece))  # fmt: skip
    events.append(event("response.custom_tool_call_input.done", output_index=0,
                        item_id="ctc_0", input=source))  # fmt: skip
    done = {**item, "input": source, "status": "completed"}
    events.append(event("response.output_item.done", output_index=0, item=done))
    usage = {"input_tokens": 12, "output_tokens": 9, "total_tokens": 21}
    full = {**head, "status": "completed", "output": [done], "usage": usage}
    return [*events, event("response.completed", response=full)]


RESPONSES = "/v1/responses"
CUSTOM_TOOLS: Any = [{"type": "custom", "name": "shell"}]
RESPONSES_BODY = {"model": "gpt-4o-mini", "input": "tidy", "tools": CUSTOM_TOOLS, "stream": True}


def custom_input(proxy: ProxyServer) -> str:
    """The custom tool call's input as an SDK user reads it from the deltas."""
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    found = ""
    for event in client.responses.create(
        model="gpt-4o-mini", input="tidy", tools=CUSTOM_TOOLS, stream=True
    ):
        if event.type == "response.custom_tool_call_input.delta":
            found += event.delta
    return found


@pytest.mark.parametrize("mode", MODES)
def test_refused_custom_tool_call_never_reaches_the_client(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream, mode: str
) -> None:
    proxy = proxy_of(MODES[mode])
    script = Script(events=custom_events("shell", "cd /srv && rm -rf MARKER-5d1c"))
    fake_upstream.enqueue(script, script)
    received = raw_stream(proxy.url, RESPONSES, RESPONSES_BODY)
    assert MARKER not in received and b"response.completed" not in received
    assert re.search(rb'"code": ?"agent_arguments"', received)
    with pytest.raises(openai.APIError) as error:
        custom_input(proxy)
    assert error.value.code == "agent_arguments" and "MARKER" not in error.value.message


@pytest.mark.parametrize("mode", MODES)
def test_good_custom_tool_call_passes(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream, mode: str
) -> None:
    proxy = proxy_of(MODES[mode])
    events = custom_events("shell", "ls -la /srv/data")
    fake_upstream.enqueue(Script(events=events), Script(events=events))
    received = raw_stream(proxy.url, RESPONSES, RESPONSES_BODY)
    if mode == "progressive":
        assert received == b"".join(events)
    assert custom_input(proxy) == "ls -la /srv/data"


def test_complete_reply_with_a_refused_legacy_function_call_is_refused(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    message = {"role": "assistant", "content": None,
               "function_call": {"name": RM_RF[0], "arguments": RM_RF[1]}}  # fmt: skip
    body = {"id": "chatcmpl-legacy", "object": "chat.completion", "created": 1,
            "model": "gpt-4o-mini", "usage": {"prompt_tokens": 5, "completion_tokens": 9},
            "choices": [{"index": 0, "message": message, "finish_reason": "function_call"}]}  # fmt: skip
    fake_upstream.enqueue(Script(body=body))
    client = openai.OpenAI(base_url=proxy_of(POLICY).url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as error:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, functions=FUNCTIONS)
    assert error.value.code == "agent_arguments" and "MARKER" not in error.value.message
