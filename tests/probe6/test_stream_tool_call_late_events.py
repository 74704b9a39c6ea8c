"""A streamed tool call is checked once it looks complete; what the upstream sends of it
afterwards must not reach the client unchecked.

An agent's stream is gated per tool call (README, Agent limits: "each tool call is held
back until its arguments are complete, checked, then released ... a refused tool call
never reaches the client"). A chat tool call counts as complete when the next index
begins, an Anthropic ``tool_use`` block at its ``content_block_stop``. Before, events
the upstream sent for a call after that point (an OpenAI-compatible server interleaving
parallel calls' argument deltas, a late ``input_json_delta``) went to the client as
they were, never checked: ``{"command": "ls `` was checked and allowed, then ``; rm -rf
/srv/..."}`` followed, and the SDK joined them into the refused command. A Responses
``function_call`` item the upstream closed (``output_item.done``) without announcing it
(``output_item.added``) was sent before it was checked, denied tool name included.

Now such events end the stream with the API's error event, and an unannounced
Responses tool item is held and checked like an announced one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard import formats
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

POLICY = """\
name: latetools
input:
  - check: agent
    tools_allowed: [search, run_shell]
    arguments:
      - {tool: run_shell, pointer: /command, deny_regex: '\\brm\\s+-rf\\b'}
"""

#: Bytes of the refused part: they must never reach the client.
MARKER = b"MARKER-7c21"
MESSAGES: Any = [{"role": "user", "content": "tidy the server"}]
TOOLS: Any = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("search", "run_shell")
]
HEAD = {"id": "chatcmpl-late", "object": "chat.completion.chunk", "created": 1,
        "model": "gpt-4o-mini"}  # fmt: skip


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return b"data: " + json.dumps({**HEAD, "choices": [choice]}).encode() + b"\n\n"


def tool_delta(index: int, arguments: str, name: str | None = None) -> bytes:
    function: dict[str, Any] = {"arguments": arguments}
    call: dict[str, Any] = {"index": index, "function": function}
    if name is not None:
        function["name"] = name
        call.update(id=f"call_{index}", type="function")
    return chunk({"tool_calls": [call]})


def chat_events(late: bytes) -> list[bytes]:
    """run_shell's arguments start, a search call begins (run_shell looks complete), then
    ``late`` arrives for call 0."""
    return [
        chunk({"role": "assistant", "content": None}),
        tool_delta(0, "", "run_shell"),
        tool_delta(0, '{"command": "ls '),
        tool_delta(1, '{"q": "disk usage"}', "search"),
        late,
        chunk({}, "tool_calls"),
        b"data: [DONE]\n\n",
    ]


#: The rest of run_shell's arguments, after it was checked: the refused command.
LATE_ARGUMENTS = tool_delta(0, '; rm -rf /srv/MARKER-7c21"}')
#: More of run_shell's name after it was checked (the SDKs join name pieces).
LATE_NAME = chunk(
    {"tool_calls": [{"index": 0, "function": {"name": "_MARKER-7c21", "arguments": ""}}]}
)
CASES = {"arguments": LATE_ARGUMENTS, "name": LATE_NAME}
#: The refusal codes of a late piece: checked with its call, or refused for coming late.
REFUSALS = ("content_blocked", "agent_arguments", "agent_tool_denied")


def raw_stream(base: str, path: str, body: dict[str, Any], http: httpx.Client) -> bytes:
    headers = {"authorization": "Bearer k", "x-api-key": "k", "anthropic-version": "2023-06-01"}
    with http.stream("POST", base + path, json=body, headers=headers, timeout=10) as response:
        assert response.status_code == 200
        return b"".join(response.iter_raw())


@pytest.mark.parametrize("late", CASES)
def test_chat_tool_call_pieces_after_its_check_never_reach_the_client_proxy(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream, late: str
) -> None:
    proxy = proxy_of(POLICY)
    fake_upstream.enqueue(Script(events=chat_events(CASES[late])))
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    seen: dict[int, list[str]] = {}
    with pytest.raises(openai.APIError) as refused:
        for part in client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=True
        ):
            for delta in part.choices[0].delta.tool_calls or [] if part.choices else []:
                entry = seen.setdefault(delta.index, ["", ""])
                entry[0] += (delta.function.name or "") if delta.function else ""
                entry[1] += (delta.function.arguments or "") if delta.function else ""
    assert "MARKER" not in json.dumps(seen)
    assert "rm -rf" not in json.dumps(seen)
    assert "MARKER" not in str(refused.value)
    # Read in one go, the late piece joins the call before its check (the rule refuses
    # it); read after the check, the stream ends because the call changed.
    assert refused.value.code in REFUSALS


@pytest.mark.parametrize("late", CASES)
def test_chat_tool_call_pieces_after_its_check_never_reach_the_client_transport(
    fake_upstream: FakeUpstream, late: str
) -> None:
    engine = guard.Guard(guard.Policy.from_yaml(POLICY), registry=CollectorRegistry())
    fake_upstream.enqueue(Script(events=chat_events(CASES[late])))
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "tools": TOOLS, "stream": True}
    with httpx.Client(transport=engine.transport()) as http:
        received = raw_stream(fake_upstream.url, "/v1/chat/completions", body, http)
    assert MARKER not in received
    assert any(code.encode() in received for code in REFUSALS)


def anthropic_event(kind: str, **data: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


USAGE = {"output_tokens": 9}


def anthropic_events() -> list[bytes]:
    """A tool_use block is stopped (and checked), then more of its input arrives."""
    message: dict[str, Any] = {"id": "msg_late", "type": "message", "role": "assistant", "model": "claude-x",
               "content": [], "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": 5, "output_tokens": 1}}  # fmt: skip
    block = {"type": "tool_use", "id": "toolu_1", "name": "run_shell", "input": {}}

    def partial(text: str) -> bytes:
        delta = {"type": "input_json_delta", "partial_json": text}
        return anthropic_event("content_block_delta", index=0, delta=delta)

    return [
        anthropic_event("message_start", message=message),
        anthropic_event("content_block_start", index=0, content_block=block),
        partial('{"command": "ls '),
        anthropic_event("content_block_stop", index=0),
        partial('; rm -rf /srv/MARKER-7c21"}'),
        anthropic_event("message_delta", delta={"stop_reason": "tool_use"}, usage=USAGE),
        anthropic_event("message_stop"),
    ]


def test_anthropic_input_after_its_block_stopped_never_reaches_the_client(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = proxy_of(POLICY)
    fake_upstream.enqueue(Script(events=anthropic_events()))
    body = {"model": "claude-x", "max_tokens": 50, "messages": MESSAGES, "stream": True,
            "tools": [{"name": "run_shell", "input_schema": {"type": "object"}}]}  # fmt: skip
    with httpx.Client() as http:
        received = raw_stream(proxy.url, "/v1/messages", body, http)
    assert MARKER not in received
    assert any(code.encode() in received for code in REFUSALS)
    fake_upstream.enqueue(Script(events=anthropic_events()))
    client = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)
    arguments = {k: v for k, v in body.items() if k != "stream"}
    with (
        pytest.raises(anthropic.APIStatusError) as refused,
        client.messages.stream(**arguments) as events,
    ):
        events.get_final_message()
    assert "MARKER" not in str(refused.value)


def responses_event(kind: str, **data: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


ARGUMENTS_DELTA = "response.function_call_arguments.delta"


def unannounced_item_events() -> list[bytes]:
    """A function_call item closed without its ``output_item.added``."""
    head = {"id": "resp_late", "object": "response", "created_at": 1, "model": "gpt-4o-mini",
            "output": [], "status": "in_progress"}  # fmt: skip
    item = {"type": "function_call", "id": "fc_0", "call_id": "call_0",
            "name": "send_MARKER-7c21", "arguments": '{"to": "x"}', "status": "completed"}  # fmt: skip
    usage = {"input_tokens": 3, "output_tokens": 3, "total_tokens": 6}
    full = {**head, "status": "completed", "output": [item], "usage": usage}
    return [
        responses_event("response.created", response=head),
        responses_event(ARGUMENTS_DELTA, output_index=0, item_id="fc_0", delta='{"to": "x"}'),
        responses_event("response.output_item.done", output_index=0, item=item),
        responses_event("response.completed", response=full),
    ]


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_responses_tool_item_closed_without_being_announced_is_checked_before_it_leaves(
    proxy_of: Callable[[str], ProxyServer], fake_upstream: FakeUpstream, frontend: str
) -> None:
    body = {"model": "gpt-4o-mini", "input": "hi", "stream": True,
            "tools": [{"type": "function", "name": "search", "parameters": {"type": "object"}}]}  # fmt: skip
    fake_upstream.enqueue(Script(events=unannounced_item_events()))
    if frontend == "proxy":
        with httpx.Client() as http:
            received = raw_stream(proxy_of(POLICY).url, "/v1/responses", body, http)
    else:
        engine = guard.Guard(guard.Policy.from_yaml(POLICY), registry=CollectorRegistry())
        with httpx.Client(transport=engine.transport()) as http:
            received = raw_stream(fake_upstream.url, "/v1/responses", body, http)
    assert MARKER not in received
    assert b'"to"' not in received  # not even the arguments of the refused call
    assert b"agent_tool_denied" in received


def test_an_announced_responses_tool_item_still_passes_unchanged(
    fake_upstream: FakeUpstream,
) -> None:
    """The fix must not hold back or refuse the ordinary shape."""
    engine = guard.Guard(guard.Policy.from_yaml(POLICY), registry=CollectorRegistry())
    fake_upstream.enqueue(Script(tool_calls=[("search", {"q": "disk usage"})]))
    http = httpx2.Client(transport=engine.transport())
    client = openai.OpenAI(base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
                           http_client=http)  # fmt: skip
    tools: Any = [{"type": "function", "name": "search", "parameters": {"type": "object"}}]
    with client.responses.stream(model="gpt-4o-mini", input="hi", tools=tools) as events:
        final = events.get_final_response()
    assert [(o.name, o.arguments) for o in final.output if o.type == "function_call"] == [
        ("search", json.dumps({"q": "disk usage"}))
    ]


@pytest.mark.parametrize("fmt_name", ["openai.chat", "anthropic.messages"])
@pytest.mark.parametrize("one_read", [True, False], ids=["one read", "event by event"])
def test_the_gate_refuses_a_late_piece_whichever_way_the_events_are_read(
    fmt_name: str, one_read: bool
) -> None:
    """Event by event, the late piece comes after the call's check (the gate refuses the
    change); in one read it joins the call before the check (the argument rule refuses)."""
    engine = guard.Guard(guard.Policy.from_yaml(POLICY), registry=CollectorRegistry())
    fmt = formats.get(fmt_name)
    body = {"model": "m", "stream": True, "max_tokens": 10, "messages": MESSAGES}
    stream = fmt.stream_filter(fmt.parse_request(json.dumps(body).encode()), engine)
    events = chat_events(LATE_ARGUMENTS) if fmt_name == "openai.chat" else anthropic_events()
    reads = [b"".join(events)] if one_read else events
    received = b"".join(stream.feed(data) for data in reads) + stream.close()
    assert MARKER not in received
    expected = b"agent_arguments" if one_read else b"after it was checked"
    assert expected in received
