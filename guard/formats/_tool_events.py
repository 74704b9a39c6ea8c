"""How each API's stream shows its tool calls, for the tool-call gate
(:mod:`guard.formats._tool_gate`): which tool call an event belongs to, what of it the
event carries, which tool calls it shows complete, and how later events are renumbered
once a tool call was removed (``action: strip``). Each class is a mixin of its API's
stream filter (:class:`~guard.formats._stream.EventFilter`); none keeps state.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

from guard.formats._tool_gate import NOTHING, ToolEvent, ToolGate, ToolPiece
from guard.formats.sse import Event, encode_json

#: The gate's number of a chat choice's legacy ``function_call`` (it has no index).
LEGACY = "function_call"
#: Responses output items the gate holds, and the field of their arguments.
TOOL_ITEMS = {"function_call": "arguments", "custom_tool_call": "input"}
TOOL_DELTAS = ("response.function_call_arguments.delta", "response.custom_tool_call_input.delta")
TOOL_DONE = {
    "response.function_call_arguments.done": "arguments",
    "response.custom_tool_call_input.done": "input",
}


class OpenAIToolEvents:
    """Tool calls in a ``chat.completion.chunk`` stream (``tool_calls`` deltas and the
    legacy ``function_call``)."""

    gates_tool_calls = True

    def tool_event(self, event: Event, payload: dict[str, Any], gate: ToolGate) -> ToolEvent:
        """Tool calls are keyed ``(choice, index)``, a legacy ``function_call``
        ``(choice, LEGACY)``; one is complete when its choice's next tool call begins or
        its choice finishes (``finish_reason``)."""
        choices = payload.get("choices")
        if not isinstance(choices, list):
            return NOTHING
        pieces: list[ToolPiece] = []
        before: list[Hashable] = []
        after: list[Hashable] = []
        for item in choices:
            if not isinstance(item, dict):
                continue
            index = number_of(item.get("index"))
            delta = item.get("delta")
            tools = delta.get("tool_calls") if isinstance(delta, dict) else None
            for tool in tools if isinstance(tools, list) else ():
                if not isinstance(tool, dict):
                    continue
                key = (index, number_of(tool.get("index")))
                if not gate.knows(key):  # a new tool call: the one before it is complete
                    before += [k for k in gate.open_keys() if k[0] == index]  # type: ignore[index]
                function = tool.get("function")
                custom = tool.get("custom")  # a custom (free-form) tool: its input is text
                if isinstance(custom, dict) and not isinstance(function, dict):
                    function = {"name": custom.get("name"), "arguments": custom.get("input")}
                function = function if isinstance(function, dict) else {}
                pieces.append(
                    ToolPiece(key, text_of(tool.get("id")), text_of(function.get("name")),
                              text_of(function.get("arguments")))
                )  # fmt: skip
            legacy = delta.get("function_call") if isinstance(delta, dict) else None
            if isinstance(legacy, dict):  # the deprecated single call: one per choice
                pieces.append(
                    ToolPiece((index, LEGACY), "", text_of(legacy.get("name")),
                              text_of(legacy.get("arguments")))
                )  # fmt: skip
            if item.get("finish_reason") is not None:
                after += [k for k in gate.open_keys() if k[0] == index]  # type: ignore[index]
                after += [p.key for p in pieces if p.key[0] == index]  # type: ignore[index]
        if not pieces and not before and not after:
            return NOTHING
        return ToolEvent(pieces, before, after)

    def renumber(
        self, event: Event, payload: dict[str, Any], gate: ToolGate
    ) -> tuple[Event, dict[str, Any]]:
        """Tool-call indices after removed calls close the gap (the SDKs accumulate by
        index); a choice left without tool calls finishes with ``stop``."""
        choices = payload.get("choices")
        if not isinstance(choices, list):
            return event, payload
        changed = False
        for item in choices:
            if not isinstance(item, dict):
                continue
            index = number_of(item.get("index"))
            stripped = [k for k in gate.stripped if k[0] == index]  # type: ignore[index]
            if not stripped:
                continue
            removed = [k[1] for k in stripped if isinstance(k[1], int)]  # type: ignore[index]
            delta = item.get("delta")
            tools = delta.get("tool_calls") if isinstance(delta, dict) else None
            for tool in tools if isinstance(tools, list) else ():
                number = tool.get("index") if isinstance(tool, dict) else None
                if isinstance(number, int) and (shift := sum(r < number for r in removed)):
                    tool["index"], changed = number - shift, True
            kept = any(k[0] == index for k in gate.passed_keys())  # type: ignore[index]
            if item.get("finish_reason") in ("tool_calls", "function_call") and not kept:
                item["finish_reason"], changed = "stop", True
        if not changed:
            return event, payload
        return Event(event.data, event.event, event.id, encode_json(payload, None)), payload


class AnthropicToolEvents:
    """Tool calls in a messages stream (``tool_use`` content blocks)."""

    gates_tool_calls = True

    def tool_event(self, event: Event, payload: dict[str, Any], gate: ToolGate) -> ToolEvent:
        """A ``tool_use`` block is one tool call, keyed by its index; it is complete at
        its ``content_block_stop`` (or when the message ends)."""
        kind, index = payload.get("type"), block_index(payload)
        if kind == "content_block_start":
            block = payload.get("content_block")
            if not isinstance(block, dict) or block.get("type") != "tool_use":
                return NOTHING
            given = block.get("input")
            # The API opens the block with an empty input and streams it; one that
            # arrives whole is taken as the complete arguments.
            whole = json.dumps(given) if isinstance(given, dict) and given else None
            name = text_of(block.get("name"))
            return ToolEvent([ToolPiece(index, text_of(block.get("id")), name, whole=whole)])
        if not gate.knows(index) or kind not in ("content_block_delta", "content_block_stop"):
            if kind == "message_delta":
                return ToolEvent(ends_before=gate.open_keys())
            return NOTHING
        if kind == "content_block_stop":
            return ToolEvent([ToolPiece(index)], ends_after=[index])
        delta = payload.get("delta")
        source = delta.get("partial_json") if isinstance(delta, dict) else None
        return ToolEvent([ToolPiece(index, arguments=text_of(source))])

    def renumber(
        self, event: Event, payload: dict[str, Any], gate: ToolGate
    ) -> tuple[Event, dict[str, Any]]:
        """Content block indices after removed blocks close the gap (the SDK appends
        blocks and addresses them by index); a message left without tool calls stops
        with ``end_turn``."""
        index = payload.get("index")
        changed = False
        if isinstance(index, int):
            shift = sum(removed < index for removed in gate.stripped)  # type: ignore[operator]
            if shift:
                payload["index"], changed = index - shift, True
        delta = payload.get("delta")
        if (
            payload.get("type") == "message_delta"
            and isinstance(delta, dict)
            and delta.get("stop_reason") == "tool_use"
            and not gate.passed_keys()
        ):
            delta["stop_reason"], changed = "end_turn", True
        if not changed:
            return event, payload
        raw = encode_json(payload, event.event or None)
        return Event(event.data, event.event, event.id, raw), payload


class ResponsesToolEvents:
    """Tool calls in a Responses stream (``function_call`` / ``custom_tool_call`` items)."""

    gates_tool_calls = True

    def tool_event(self, event: Event, payload: dict[str, Any], gate: ToolGate) -> ToolEvent:
        """A ``function_call`` or ``custom_tool_call`` output item is one tool call,
        keyed by its output index (its arguments: ``arguments``, or a custom tool's free
        text ``input``); it is complete at its ``response.output_item.done``."""
        kind, index = payload.get("type"), payload.get("output_index")
        if not isinstance(index, int):
            return NOTHING
        item = payload.get("item")
        item = item if isinstance(item, dict) else {}
        if kind == "response.output_item.added":
            field = TOOL_ITEMS.get(item.get("type"))  # type: ignore[arg-type]
            if field is None:
                return NOTHING
            call_id = text_of(item.get("call_id")) or text_of(item.get("id"))
            whole = text_of(item.get(field)) or None
            return ToolEvent([ToolPiece(index, call_id, text_of(item.get("name")), whole=whole)])
        # A tool item whose ``output_item.added`` never came is held and checked all the
        # same: its deltas open it, or its ``output_item.done`` brings it whole.
        unannounced = kind in (*TOOL_DELTAS, *TOOL_DONE) or (
            kind == "response.output_item.done" and item.get("type") in TOOL_ITEMS
        )
        if not gate.knows(index) and not unannounced:
            return NOTHING
        if kind in TOOL_DELTAS:
            return ToolEvent([ToolPiece(index, arguments=text_of(payload.get("delta")))])
        if kind in TOOL_DONE:
            return ToolEvent([ToolPiece(index, whole=text_of(payload.get(TOOL_DONE[kind])))])
        if kind == "response.output_item.done":
            field = TOOL_ITEMS.get(item.get("type"), "arguments")  # type: ignore[arg-type]
            name = "" if gate.named(index) else text_of(item.get("name"))
            call_id = text_of(item.get("call_id")) or text_of(item.get("id"))
            piece = ToolPiece(index, call_id, name, whole=text_of(item.get(field)))
            return ToolEvent([piece], ends_after=[index])
        return ToolEvent([ToolPiece(index)])

    def renumber(
        self, event: Event, payload: dict[str, Any], gate: ToolGate
    ) -> tuple[Event, dict[str, Any]]:
        """Output indices after removed items close the gap (the SDK addresses its
        snapshot's output list by index)."""
        index = payload.get("output_index")
        if not isinstance(index, int):
            return event, payload
        shift = sum(removed < index for removed in gate.stripped)  # type: ignore[operator]
        if not shift:
            return event, payload
        payload["output_index"] = index - shift
        raw = encode_json(payload, event.event or None)
        return Event(event.data, event.event, event.id, raw), payload


def number_of(value: Any) -> int:
    """An index, or 0 when malformed (such an event is still held, as number 0)."""
    return value if isinstance(value, int) else 0


def block_index(payload: dict[str, Any] | None) -> int:
    """An Anthropic event's content block index (malformed: still checked, as block 0)."""
    return number_of(payload.get("index") if payload is not None else None)


def text_of(value: Any) -> str:
    """A string field, or ``""``."""
    return value if isinstance(value, str) else ""
