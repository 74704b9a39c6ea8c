"""Adds ``chat.completion.chunk`` events up to the ``chat.completion`` object they stream
(what the client got, so that the assembled reply can be checked and recorded)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from guard.formats._parts import Parts

#: Top-level chunk fields that describe the whole completion.
_HEAD = ("id", "created", "model", "service_tier", "system_fingerprint")
#: Message text fields a delta carries besides ``content``.
_TEXT_FIELDS = ("refusal", "reasoning_content", "reasoning")


@dataclass(slots=True)
class _Tool:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=Parts)
    #: A custom (free-form) tool call: ``custom.input`` instead of ``function.arguments``.
    custom: bool = False


@dataclass(slots=True)
class _Choice:
    text: list[str] = field(default_factory=Parts)
    #: Other text fields of the message (``refusal``, ``reasoning_content``...).
    fields: dict[str, list[str]] = field(default_factory=dict)
    transcript: list[str] | None = None
    function_call: _Tool | None = None
    tools: dict[int, _Tool] = field(default_factory=dict)
    finish_reason: str | None = None
    #: Web search citations (``delta.annotations``), whole objects.
    annotations: list[Any] = field(default_factory=list)


class ChunkAssembly:
    """Adds chunks up to the ``chat.completion`` object they stream."""

    def __init__(self) -> None:
        self._head: dict[str, Any] = {}
        self._choices: dict[int, _Choice] = {}
        self._usage: dict[str, Any] | None = None

    def add(self, payload: dict[str, Any]) -> None:
        """Take one chunk."""
        if not self._head:
            self._head = {name: payload[name] for name in _HEAD if name in payload}
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self._usage = usage
        choices = payload.get("choices")
        for item in choices if isinstance(choices, list) else ():
            index = item.get("index", 0) if isinstance(item, dict) else None
            if not isinstance(index, int):
                continue
            parts = self._choices.get(index)
            if parts is None:
                parts = self._choices[index] = _Choice()
            delta = item.get("delta")
            if isinstance(delta, dict):
                _add_delta(parts, delta)
            finish = item.get("finish_reason")
            if isinstance(finish, str):
                parts.finish_reason = finish

    def add_text(self, key: Hashable, text: str) -> None:
        """Take message text (``key`` is ``("text", choice)``) or a piece of tool-call
        arguments (``("tool", choice, tool)``) of a choice and tool added before."""
        assert isinstance(key, tuple)
        if key[0] == "tool":
            self._choices[key[1]].tools[key[2]].arguments.append(text)
        else:
            self._choices[key[1]].text.append(text)

    def build(self) -> dict[str, Any]:
        """The ``chat.completion`` object of the chunks so far."""
        choices = []
        for index in sorted(self._choices):
            parts = self._choices[index]
            message: dict[str, Any] = {
                "role": "assistant",
                "content": "".join(parts.text) if parts.text else None,
            }
            for name, pieces in parts.fields.items():
                message[name] = "".join(pieces)
            if parts.annotations:
                message["annotations"] = parts.annotations
            if parts.transcript is not None:
                message["audio"] = {"transcript": "".join(parts.transcript)}
            if parts.function_call is not None:
                call = parts.function_call
                message["function_call"] = {"name": call.name, "arguments": "".join(call.arguments)}
            if parts.tools:
                message["tool_calls"] = [_tool_call(t) for _, t in sorted(parts.tools.items())]
            choices.append(
                {
                    "index": index,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": parts.finish_reason,
                }
            )
        raw = {**self._head, "object": "chat.completion", "choices": choices}
        if self._usage is not None:
            raw["usage"] = self._usage
        return raw


def _add_delta(parts: _Choice, delta: dict[str, Any]) -> None:
    content = delta.get("content")
    if isinstance(content, str):
        parts.text.append(content)
    for name in _TEXT_FIELDS:
        if isinstance(delta.get(name), str):
            parts.fields.setdefault(name, []).append(delta[name])
    if isinstance(delta.get("annotations"), list):
        parts.annotations.extend(delta["annotations"])
    audio = delta.get("audio")
    if isinstance(audio, dict) and isinstance(audio.get("transcript"), str):
        parts.transcript = [*(parts.transcript or ()), audio["transcript"]]
    legacy = delta.get("function_call")
    if isinstance(legacy, dict):
        call = parts.function_call = parts.function_call or _Tool()
        if isinstance(legacy.get("name"), str) and not call.name:
            call.name = legacy["name"]
        if isinstance(legacy.get("arguments"), str):
            call.arguments.append(legacy["arguments"])
    tools = delta.get("tool_calls")
    for tool in tools if isinstance(tools, list) else ():
        number = tool.get("index", 0) if isinstance(tool, dict) else None
        if not isinstance(number, int):
            continue
        entry = parts.tools.get(number)
        if entry is None:
            entry = parts.tools[number] = _Tool()
        if isinstance(tool.get("id"), str) and not entry.id:
            entry.id = tool["id"]
        function, field_name = tool.get("function"), "arguments"
        if not isinstance(function, dict) and isinstance(tool.get("custom"), dict):
            function, field_name, entry.custom = tool["custom"], "input", True
        if isinstance(function, dict):
            if isinstance(function.get("name"), str) and not entry.name:
                entry.name = function["name"]
            if isinstance(function.get(field_name), str):
                entry.arguments.append(function[field_name])


def _tool_call(tool: _Tool) -> dict[str, Any]:
    """One assembled tool call of a message (function, or custom with its ``input``)."""
    if tool.custom:
        custom = {"name": tool.name, "input": "".join(tool.arguments)}
        return {"id": tool.id, "type": "custom", "custom": custom}
    function = {"name": tool.name, "arguments": "".join(tool.arguments)}
    return {"id": tool.id, "type": "function", "function": function}
