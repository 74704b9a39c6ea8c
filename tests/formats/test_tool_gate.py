"""Tool calls in progressive streams are held until complete, checked, then released
unchanged, ended with the API's error event (block) or dropped (strip) — OpenAI chat,
Anthropic messages and the Responses API, the upstream's bytes split anywhere."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from guard import Guard, Policy
from guard.checks.base import Capabilities, CheckContext, CompleteToolCall
from guard.errors import PolicyError
from guard.formats import get
from guard.types import Action, Call, Finding, Reply, Verdict

#: A marker only the refused tool call's arguments carry.
SECRET_ARGS = "ZZ-REFUSED-ARGUMENTS-ZZ"


class ByName:
    """Refuses tool ``bad``, strips tool ``strip``, lets the rest through."""

    name, shadow = "tools", False
    capabilities = Capabilities(tool_calls=True)

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Any]] = []

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    def tool_call(self, call: Call, tool_call: CompleteToolCall, ctx: CheckContext) -> Verdict:
        self.seen.append((tool_call.id, tool_call.name, tool_call.arguments))
        if tool_call.name == "bad":
            finding = Finding(self.name, "tool.refused", action=Action.BLOCK, rule="bad")
            return Verdict(
                self.name, Action.BLOCK, (finding,), reason="check 'tools': tool refused",
                code="tool_refused",
            )  # fmt: skip
        if tool_call.name == "strip":
            finding = Finding(self.name, "tool.stripped", action=Action.REDACT, rule="strip")
            return Verdict(self.name, Action.REDACT, (finding,))
        return Verdict(self.name, Action.ALLOW)


def make_guard(mode: str = "progressive", **stream: Any) -> tuple[Guard, ByName]:
    policy = Policy.from_dict({"name": "p", "stream": {"mode": mode, **stream}})
    engine = Guard(policy, registry=CollectorRegistry())
    check = ByName()
    engine.add_check("output", check)
    return engine, check


def run(fmt_name: str, engine: Guard, data: bytes, seed: int | None = None) -> tuple[bytes, Any]:
    fmt = get(fmt_name)
    body = {"model": "m", "stream": True, "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    if fmt_name == "openai.responses":
        body = {"model": "m", "stream": True, "input": "hi"}
    call = fmt.parse_request(json.dumps(body).encode())
    stream = fmt.stream_filter(call, engine)
    if seed is None:
        return stream.feed(data) + stream.close(), stream
    rng = random.Random(seed)
    out, at = [], 0
    while at < len(data):
        step = rng.randint(1, 60)
        out.append(stream.feed(data[at : at + step]))
        at += step
    return b"".join(out) + stream.close(), stream


# -- OpenAI chat ---------------------------------------------------------------------------


def fragments(source: str, cuts: list[int] | None) -> list[str]:
    """``source`` in pieces of 7 characters, or cut at ``cuts`` (positions)."""
    if cuts is None:
        return [source[at : at + 7] for at in range(0, len(source), 7)]
    points = sorted({0, len(source), *(c % (len(source) + 1) for c in cuts)})
    return [source[a:b] for a, b in itertools.pairwise(points) if b > a]


def openai_events(
    tools: list[tuple[str, dict[str, Any]]],
    text: str = "Let me look.",
    cuts: list[int] | None = None,
) -> list[bytes]:
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + json.dumps({**head, "choices": [choice]}).encode() + b"\n\n"

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in (text[:5], text[5:])]
    for number, (name, arguments) in enumerate(tools):
        opening = {"index": number, "id": f"call_{number}", "type": "function",
                   "function": {"name": name, "arguments": ""}}  # fmt: skip
        events.append(chunk({"tool_calls": [opening]}))
        for fragment in fragments(json.dumps(arguments), cuts):
            piece = {"index": number, "function": {"arguments": fragment}}
            events.append(chunk({"tool_calls": [piece]}))
    events.append(chunk({}, "tool_calls"))
    return [*events, b"data: [DONE]\n\n"]


def openai_tool_calls(out: bytes) -> dict[int, list[str]]:
    """index -> [id, name, arguments] as an SDK accumulates them."""
    calls: dict[int, list[str]] = {}
    for line in out.split(b"\n"):
        if line.startswith(b"data: {"):
            for choice in json.loads(line[6:]).get("choices", []):
                for tool in choice["delta"].get("tool_calls") or ():
                    entry = calls.setdefault(tool["index"], ["", "", ""])
                    entry[0] += tool.get("id") or ""
                    entry[1] += (tool.get("function") or {}).get("name") or ""
                    entry[2] += (tool.get("function") or {}).get("arguments") or ""
    return calls


GOOD = ("search", {"q": "weather in Oslo"})
GOOD_TOO = ("get_weather", {"city": "Bergen", "days": 3})
BAD = ("bad", {"command": SECRET_ARGS})
STRIP = ("strip", {"command": SECRET_ARGS})


@pytest.mark.parametrize("seed", [None, *range(8)])
def test_openai_good_tool_calls_pass_byte_identical(seed: int | None) -> None:
    engine, check = make_guard()
    data = b"".join(openai_events([GOOD, GOOD_TOO]))
    out, stream = run("openai.chat", engine, data, seed)
    assert out == data
    assert [name for _, name, _ in check.seen] == ["search", "get_weather"]
    assert check.seen[1] == ("call_1", "get_weather", {"city": "Bergen", "days": 3})
    assert stream.decision.action is Action.ALLOW


@pytest.mark.parametrize("seed", [None, *range(8)])
def test_openai_bad_tool_call_ends_the_stream_before_any_of_it_leaves(seed: int | None) -> None:
    engine, _ = make_guard()
    events = openai_events([GOOD, BAD, GOOD_TOO])
    out, stream = run("openai.chat", engine, b"".join(events), seed)
    assert SECRET_ARGS.encode() not in out and b'"bad"' not in out
    # Everything up to the refused call went out unchanged, then the API's error event.
    first_bad = next(i for i, e in enumerate(events) if b'"name": "bad"' in e)
    sent = b"".join(events[:first_bad])
    assert out.startswith(sent)
    error = json.loads(out[len(sent) :].removeprefix(b"data: "))
    assert error["error"]["code"] == "tool_refused" and b"[DONE]" not in out
    assert stream.decision.action is Action.BLOCK
    assert [c.name for c in stream.reply.choices[0].tool_calls] == ["search"]


@pytest.mark.parametrize("seed", [None, *range(8)])
def test_openai_stripped_tool_call_is_dropped_and_later_indices_close_the_gap(
    seed: int | None,
) -> None:
    engine, _ = make_guard()
    out, stream = run("openai.chat", engine, b"".join(openai_events([GOOD, STRIP, GOOD_TOO])), seed)
    assert SECRET_ARGS.encode() not in out and b'"strip"' not in out
    calls = openai_tool_calls(out)
    assert calls == {
        0: ["call_0", "search", json.dumps(GOOD[1])],
        1: ["call_2", "get_weather", json.dumps(GOOD_TOO[1])],
    }
    assert b'"finish_reason": "tool_calls"' in out and out.endswith(b"data: [DONE]\n\n")
    # Equal to the stream without the stripped call, but for the ids the upstream gave.
    expected, _ = run("openai.chat", make_guard()[0], b"".join(openai_events([GOOD, GOOD_TOO])))
    assert openai_tool_calls(expected)[1][1:] == calls[1][1:]
    assert [c.name for c in stream.reply.choices[0].tool_calls] == ["search", "get_weather"]


def test_openai_only_stripped_tool_calls_finish_with_stop() -> None:
    engine, _ = make_guard()
    out, _ = run("openai.chat", engine, b"".join(openai_events([STRIP])))
    assert SECRET_ARGS.encode() not in out
    assert b'"finish_reason":"stop"' in out and b"e look." in out


def legacy_events(name: str, arguments: dict[str, Any]) -> list[bytes]:
    """A stream of the deprecated single ``function_call`` (no id, no index)."""
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + json.dumps({**head, "choices": [choice]}).encode() + b"\n\n"

    events = [chunk({"role": "assistant", "content": "Let me look."})]
    events.append(chunk({"function_call": {"name": name, "arguments": ""}}))
    events += [chunk({"function_call": {"arguments": piece}})
               for piece in fragments(json.dumps(arguments), None)]  # fmt: skip
    return [*events, chunk({}, "function_call"), b"data: [DONE]\n\n"]


@pytest.mark.parametrize("seed", [None, 0, 3])
def test_openai_legacy_function_call_is_held_and_checked(seed: int | None) -> None:
    engine, check = make_guard()
    data = b"".join(legacy_events(*GOOD))
    out, _ = run("openai.chat", engine, data, seed)
    assert out == data and check.seen == [("", "search", {"q": "weather in Oslo"})]
    engine, _ = make_guard()
    out, stream = run("openai.chat", engine, b"".join(legacy_events(*BAD)), seed)
    assert SECRET_ARGS.encode() not in out and b'"bad"' not in out and b"tool_refused" in out
    assert stream.decision.action is Action.BLOCK and b"[DONE]" not in out
    engine, _ = make_guard()
    out, _ = run("openai.chat", engine, b"".join(legacy_events(*STRIP)), seed)
    assert SECRET_ARGS.encode() not in out and b"function_call" not in out
    assert b'"finish_reason":"stop"' in out and b"Let me look." in out and b"[DONE]" in out


@pytest.mark.parametrize("seed", range(6))
def test_openai_joined_output_equals_the_buffered_result(seed: int) -> None:
    data = b"".join(openai_events([GOOD, GOOD_TOO], text="Checking the weather for you."))
    progressive, streamed = run("openai.chat", make_guard()[0], data, seed)
    buffered, whole = run("openai.chat", make_guard("buffer")[0], data, seed)
    assert openai_tool_calls(progressive) == openai_tool_calls(buffered)
    assert streamed.reply.text == whole.reply.text == "Checking the weather for you."


def test_text_keeps_flowing_while_no_tool_call_is_open() -> None:
    engine, _ = make_guard()
    fmt = get("openai.chat")
    call = fmt.parse_request(b'{"model": "m", "stream": true, "messages": []}')
    stream = fmt.stream_filter(call, engine)
    events = openai_events([GOOD])
    assert stream.feed(b"".join(events[:3])) == b"".join(events[:3])  # text: at once
    assert stream.feed(b"".join(events[3:6])) == b""  # the tool call: held until complete
    rest = stream.feed(b"".join(events[6:])) + stream.close()
    assert rest == b"".join(events[3:])  # released in order, unchanged


def test_tool_arguments_cap_applies_the_policy() -> None:
    big = ("search", {"q": "x" * 200})
    engine, check = make_guard(max_tool_arguments=64)
    out, stream = run("openai.chat", engine, b"".join(openai_events([big])))
    assert b"x" * 8 not in out and b"max_tool_arguments" in out
    assert stream.decision.action is Action.BLOCK and check.seen == []
    # release: the call goes out unheld and is checked with the whole reply at the end.
    engine, check = make_guard(max_tool_arguments=64, on_holdback_overflow="release")
    data = b"".join(openai_events([big]))
    out, stream = run("openai.chat", engine, data)
    assert out == data and [name for _, name, _ in check.seen] == ["search"]
    bad_big = ("bad", {"q": "x" * 200})
    released = make_guard(max_tool_arguments=64, on_holdback_overflow="release")[0]
    out, stream = run("openai.chat", released, b"".join(openai_events([bad_big])))
    assert b"tool_refused" in out and b"[DONE]" not in out


def test_text_holdback_does_not_cap_tool_arguments() -> None:
    # Regression: the 4,096-character text hold-back also capped a held tool call, so a
    # long write_file call was blocked by default. Tool calls have their own, larger cap.
    long_call = ("write_file", {"path": "notes.md", "content": "line of text\n" * 1600})
    engine, check = make_guard()
    data = b"".join(openai_events([long_call], cuts=list(range(0, 21000, 500))))
    out, stream = run("openai.chat", engine, data, 1)
    assert out == data and [name for _, name, _ in check.seen] == ["write_file"]
    assert stream.decision.action is Action.ALLOW
    engine, check = make_guard(max_holdback=64)
    out, _ = run("openai.chat", engine, data)
    assert out == data and len(check.seen) == 1


def test_default_tool_arguments_cap_is_large_and_validated() -> None:
    assert Policy.from_dict({"name": "p"}).stream.max_tool_arguments == 262_144
    for wrong in (0, 63, 16_777_217, "lots"):
        with pytest.raises(PolicyError, match="max_tool_arguments"):
            Policy.from_dict({"name": "p", "stream": {"max_tool_arguments": wrong}})


# -- Anthropic messages ---------------------------------------------------------------------


def anthropic_events(
    tools: list[tuple[str, dict[str, Any]]],
    text: str = "Let me look.",
    cuts: list[int] | None = None,
) -> list[bytes]:
    def event(payload: dict[str, Any]) -> bytes:
        return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()

    message: dict[str, Any] = {"id": "m", "type": "message", "role": "assistant", "content": [], "model": "c",
               "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
    events = [event({"type": "message_start", "message": message})]
    events.append(event({"type": "content_block_start", "index": 0,
                         "content_block": {"type": "text", "text": ""}}))  # fmt: skip
    events.append(event({"type": "content_block_delta", "index": 0,
                         "delta": {"type": "text_delta", "text": text}}))  # fmt: skip
    events.append(event({"type": "content_block_stop", "index": 0}))
    for number, (name, arguments) in enumerate(tools, start=1):
        block = {"type": "tool_use", "id": f"toolu_{number}", "name": name, "input": {}}
        events.append(
            event({"type": "content_block_start", "index": number, "content_block": block})
        )
        for fragment in fragments(json.dumps(arguments), cuts):
            delta = {"type": "input_json_delta", "partial_json": fragment}
            events.append(event({"type": "content_block_delta", "index": number, "delta": delta}))
        events.append(event({"type": "content_block_stop", "index": number}))
    events.append(event({"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                         "usage": {"output_tokens": 9}}))  # fmt: skip
    return [*events, event({"type": "message_stop"})]


def anthropic_blocks(out: bytes) -> list[dict[str, Any]]:
    """The content blocks as the SDK accumulates them (by index, appended in order)."""
    blocks: list[dict[str, Any]] = []
    for line in out.split(b"\n"):
        if not line.startswith(b"data: {"):
            continue
        payload = json.loads(line[6:])
        if payload["type"] == "content_block_start":
            assert payload["index"] == len(blocks)
            blocks.append({**payload["content_block"], "partial": ""})
        elif payload["type"] == "content_block_delta":
            delta = payload["delta"]
            key = "partial" if delta["type"] == "input_json_delta" else "text"
            blocks[payload["index"]][key] += delta.get("partial_json") or delta.get("text") or ""
    return blocks


@pytest.mark.parametrize("seed", [None, *range(6)])
def test_anthropic_good_tool_use_passes_byte_identical(seed: int | None) -> None:
    engine, check = make_guard()
    data = b"".join(anthropic_events([GOOD, GOOD_TOO]))
    out, _ = run("anthropic.messages", engine, data, seed)
    assert out == data
    assert check.seen[0] == ("toolu_1", "search", {"q": "weather in Oslo"})


@pytest.mark.parametrize("seed", [None, *range(6)])
def test_anthropic_bad_tool_use_ends_the_stream_before_any_of_it_leaves(seed: int | None) -> None:
    engine, _ = make_guard()
    events = anthropic_events([GOOD, BAD, GOOD_TOO])
    out, stream = run("anthropic.messages", engine, b"".join(events), seed)
    assert SECRET_ARGS.encode() not in out and b'"bad"' not in out
    first_bad = next(i for i, e in enumerate(events) if b'"name": "bad"' in e)
    sent = b"".join(events[:first_bad])
    assert out.startswith(sent) and b"event: error" in out[len(sent) :]
    assert b"tool refused" in out and b"message_stop" not in out
    assert stream.decision.action is Action.BLOCK


@pytest.mark.parametrize("seed", [None, *range(6)])
def test_anthropic_stripped_tool_use_is_dropped_and_blocks_renumbered(seed: int | None) -> None:
    engine, _ = make_guard()
    out, _ = run(
        "anthropic.messages", engine, b"".join(anthropic_events([GOOD, STRIP, GOOD_TOO])), seed
    )
    assert SECRET_ARGS.encode() not in out and b'"strip"' not in out
    blocks = anthropic_blocks(out)
    assert [b.get("name") for b in blocks] == [None, "search", "get_weather"]
    assert json.loads(blocks[2]["partial"]) == GOOD_TOO[1]
    assert b'"stop_reason": "tool_use"' in out
    only, _ = run("anthropic.messages", make_guard()[0], b"".join(anthropic_events([STRIP])))
    assert b'"stop_reason":"end_turn"' in only and SECRET_ARGS.encode() not in only


# -- Responses API ----------------------------------------------------------------------------


def responses_events(tools: list[tuple[str, dict[str, Any]]], custom: bool = False) -> list[bytes]:
    """Function calls, or with ``custom`` custom tool calls (their input: free text)."""
    sequence = iter(range(1000))
    kind, field = ("custom_tool_call", "input") if custom else ("function_call", "arguments")
    deltas = "response.custom_tool_call_input" if custom else "response.function_call_arguments"

    def event(kind: str, **data: Any) -> bytes:
        payload = {"type": kind, "sequence_number": next(sequence), **data}
        return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()

    head = {"id": "resp_1", "object": "response", "status": "in_progress", "model": "m",
            "output": []}  # fmt: skip
    events = [event("response.created", response=head)]
    items = []
    for index, (name, arguments) in enumerate(tools):
        item = {"type": kind, "id": f"fc_{index}", "call_id": f"call_{index}",
                "name": name, field: "", "status": "in_progress"}  # fmt: skip
        events.append(event("response.output_item.added", output_index=index, item=item))
        source = " ".join(map(str, arguments.values())) if custom else json.dumps(arguments)
        for at in range(0, len(source), 7):
            events.append(event(f"{deltas}.delta", output_index=index,
                                item_id=item["id"], delta=source[at : at + 7]))  # fmt: skip
        events.append(event(f"{deltas}.done", output_index=index,
                            item_id=item["id"], **{field: source}))  # fmt: skip
        done = {**item, field: source, "status": "completed"}
        events.append(event("response.output_item.done", output_index=index, item=done))
        items.append(done)
    full = {**head, "status": "completed", "output": items}
    return [*events, event("response.completed", response=full)]


@pytest.mark.parametrize("seed", [None, 0, 5])
def test_responses_custom_tool_calls_pass_block_and_strip(seed: int | None) -> None:
    engine, check = make_guard()
    data = b"".join(responses_events([GOOD, GOOD_TOO], custom=True))
    out, _ = run("openai.responses", engine, data, seed)
    assert out == data and [(n, a) for _, n, a in check.seen] == [
        ("search", "weather in Oslo"), ("get_weather", "Bergen 3")
    ]  # fmt: skip
    out, stream = run("openai.responses", make_guard()[0],
                      b"".join(responses_events([GOOD, BAD], custom=True)), seed)  # fmt: skip
    assert SECRET_ARGS.encode() not in out and b"tool_refused" in out
    assert b"response.completed" not in out and stream.decision.action is Action.BLOCK
    out, _ = run("openai.responses", make_guard()[0],
                 b"".join(responses_events([STRIP, GOOD], custom=True)), seed)  # fmt: skip
    assert SECRET_ARGS.encode() not in out and b'"strip"' not in out
    events = [json.loads(line[6:]) for line in out.split(b"\n") if line.startswith(b"data: ")]
    (completed,) = [e for e in events if e["type"] == "response.completed"]
    assert [item["name"] for item in completed["response"]["output"]] == ["search"]
    assert {e.get("output_index") for e in events} <= {None, 0}


def test_responses_function_calls_pass_block_and_strip() -> None:
    engine, check = make_guard()
    data = b"".join(responses_events([GOOD, GOOD_TOO]))
    out, _ = run("openai.responses", engine, data, 3)
    assert out == data and len(check.seen) == 2
    out, stream = run("openai.responses", make_guard()[0], b"".join(responses_events([GOOD, BAD])))
    assert SECRET_ARGS.encode() not in out and b"tool_refused" in out
    assert b"response.completed" not in out and stream.decision.action is Action.BLOCK
    out, _ = run("openai.responses", make_guard()[0], b"".join(responses_events([STRIP, GOOD])), 5)
    assert SECRET_ARGS.encode() not in out and b'"strip"' not in out
    done = [json.loads(line[6:]) for line in out.split(b"\n") if b"response.completed" in line
            and line.startswith(b"data: ")]  # fmt: skip
    assert [item["name"] for item in done[0]["response"]["output"]] == ["search"]
    indices = {json.loads(line[6:]).get("output_index") for line in out.split(b"\n")
               if line.startswith(b"data: ")}  # fmt: skip
    assert indices <= {None, 0}


@pytest.mark.parametrize("seed", [None, 0, 5])  # None: the whole stream in one read
@pytest.mark.parametrize(
    "tools", [[STRIP, GOOD], [GOOD, STRIP], [GOOD, STRIP, GOOD_TOO], [GOOD, GOOD_TOO]]
)
def test_responses_strip_leaves_the_kept_items_whole_however_the_bytes_arrive(
    tools: list[tuple[str, dict[str, Any]]], seed: int | None
) -> None:
    # Regression: read in one piece, the terminal event was rewritten before the gate
    # decided the held tool calls: the stripped call's arguments went out as extra deltas
    # at its old output index, and the kept calls' arguments were doubled.
    data = b"".join(responses_events(tools))
    out, _ = run("openai.responses", make_guard()[0], data, seed)
    if all(name != "strip" for name, _ in tools):
        assert out == data
    kept = [(name, json.dumps(arguments)) for name, arguments in tools if name != "strip"]
    events = [json.loads(line[6:]) for line in out.split(b"\n") if line.startswith(b"data: ")]
    assert SECRET_ARGS.encode() not in out
    added = [(e["output_index"], e["item"]["name"], e["item"]["arguments"])
             for e in events if e["type"] == "response.output_item.added"]  # fmt: skip
    assert added == [(index, name, "") for index, (name, _) in enumerate(kept)]
    deltas: dict[int, str] = {}
    for e in events:
        if e["type"] == "response.function_call_arguments.delta":
            deltas[e["output_index"]] = deltas.get(e["output_index"], "") + e["delta"]
    assert deltas == {index: arguments for index, (_, arguments) in enumerate(kept)}
    done = [(e["output_index"], e["item"]["name"], e["item"]["arguments"])
            for e in events if e["type"] == "response.output_item.done"]  # fmt: skip
    assert done == [(index, *call) for index, call in enumerate(kept)]
    (completed,) = [e for e in events if e["type"] == "response.completed"]
    assert [(i["name"], i["arguments"]) for i in completed["response"]["output"]] == kept
    numbers = [e["sequence_number"] for e in events]
    assert numbers == sorted(set(numbers))  # strictly increasing (gaps where calls left)


def test_shadow_policy_records_but_releases() -> None:
    policy = Policy.from_dict({"name": "p", "mode": "shadow"})
    engine = Guard(policy, registry=CollectorRegistry())
    engine.add_check("output", ByName())
    data = b"".join(openai_events([BAD]))
    out, stream = run("openai.chat", engine, data)
    assert out == data
    assert any(v.check == "tools" and v.action is Action.BLOCK for v in stream.decision.verdicts)


@pytest.mark.parametrize("legacy", [False, True])
def test_agent_state_is_counted_once_per_streamed_tool_call(legacy: bool) -> None:
    from guard.stores.memory import MemoryStore
    from guard.types import Caller

    policy = Policy.from_dict(
        {
            "name": "a",
            "input": [
                {"check": "agent", "max_tool_calls": 3, "repeat": {"window": 6, "max_same": 2}}
            ],
        }
    )
    engine = Guard(policy, store=MemoryStore(), registry=CollectorRegistry())
    fmt = get("openai.chat")

    def streamed(tools: list[tuple[str, dict[str, Any]]]) -> tuple[bytes, Any]:
        call = fmt.parse_request(b'{"model": "m", "stream": true, "messages": []}')
        call.caller = Caller(session="s1")
        lifecycle = engine.open(call, frontend="check")
        assert lifecycle.start() is not None
        stream = fmt.stream_filter(call, lifecycle)  # type: ignore[arg-type]
        data = b"".join(legacy_events(*tools[0]) if legacy else openai_events(tools))
        return stream.feed(data) + stream.close(), stream

    if legacy:  # one function_call per reply: the same two calls in two replies
        out, stream = streamed([GOOD])
        assert stream.decision.action is Action.ALLOW and b"[DONE]" in out
        out, stream = streamed([GOOD_TOO])
    else:
        out, stream = streamed([GOOD, GOOD_TOO])  # two tool calls: 2 of 3, each seen once
    assert stream.decision.action is Action.ALLOW and b"[DONE]" in out
    out, stream = streamed([GOOD])  # the same search again: 2 of 2 allowed repeats, 3 of 3
    assert stream.decision.action is Action.ALLOW and b"[DONE]" in out
    out, stream = streamed([GOOD_TOO])  # the fourth tool call of the session
    assert stream.decision.action is Action.BLOCK and b"agent_step_cap" in out
    assert b'"name": "get_weather"' not in out


CUTS = st.lists(st.integers(min_value=0, max_value=80), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=CUTS, seed=st.integers(min_value=0, max_value=10_000))
def test_any_fragmentation_gives_the_buffered_result(cuts: list[int], seed: int) -> None:
    tools = [GOOD, ("write", {"path": "/tmp/a b", "text": 'line\nmore \u00e9 "q"'}), GOOD_TOO]
    for name, events in (("openai.chat", openai_events(tools, cuts=cuts)),
                         ("anthropic.messages", anthropic_events(tools, cuts=cuts))):  # fmt: skip
        data = b"".join(events)
        progressive, streamed = run(name, make_guard()[0], data, seed)
        _, whole = run(name, make_guard("buffer")[0], data)
        assert progressive == data  # nothing refused: the upstream's bytes, unchanged
        calls = [(c.name, json.loads(c.arguments)) for c in streamed.reply.choices[-1].tool_calls]
        assert calls == [
            (c.name, json.loads(c.arguments)) for c in whole.reply.choices[-1].tool_calls
        ]
        assert calls == [(n, a) for n, a in tools]
        assert streamed.reply.text == whole.reply.text
    # The legacy function_call: cut anywhere, held, checked, released as sent.
    data = b"".join(legacy_events(*tools[1]))
    progressive, streamed = run("openai.chat", make_guard()[0], data, seed)
    _, whole = run("openai.chat", make_guard("buffer")[0], data)
    assert progressive == data
    (legacy,) = streamed.reply.choices[0].tool_calls
    assert (legacy.name, json.loads(legacy.arguments)) == tools[1]
    assert whole.reply.choices[0].tool_calls[0].arguments == legacy.arguments
