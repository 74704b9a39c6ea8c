"""Output checks over an OpenAI ``chat.completion.chunk`` stream.

Text streams are keyed ``("text", choice)`` for message content and
``("tool", choice, tool)`` for tool-call arguments. A stream ends at its choice's
``finish_reason`` chunk (or at ``[DONE]``); what it still held goes out in that chunk
when the chunk carries text of the same stream, else in an extra chunk just before it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from guard.formats._envelope import TextDelta, TextEnvelope
from guard.formats._stream import EventFilter, StreamingFormat
from guard.formats.sse import Event

if TYPE_CHECKING:
    from guard.engine import Guard
    from guard.types import Call

#: Top-level chunk fields that describe the whole completion.
_HEAD = ("id", "created", "model", "service_tier", "system_fingerprint")
#: Chunk fields an extra (flush) chunk must not copy from the chunk it is modelled on.
_PER_CHUNK = ("choices", "usage", "obfuscation")


@dataclass(slots=True)
class _Tool:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Choice:
    text: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tools: dict[int, _Tool] = field(default_factory=dict)
    finish_reason: str | None = None


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
        """Take message text (``key`` is ``("text", choice)``) of a choice added before."""
        assert isinstance(key, tuple)
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
            if parts.refusal:
                message["refusal"] = "".join(parts.refusal)
            if parts.tools:
                message["tool_calls"] = [
                    {
                        "id": t.id,
                        "type": "function",
                        "function": {"name": t.name, "arguments": "".join(t.arguments)},
                    }
                    for _, t in sorted(parts.tools.items())
                ]
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
    refusal = delta.get("refusal")
    if isinstance(refusal, str):
        parts.refusal.append(refusal)
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
        function = tool.get("function")
        if isinstance(function, dict):
            if isinstance(function.get("name"), str) and not entry.name:
                entry.name = function["name"]
            if isinstance(function.get("arguments"), str):
                entry.arguments.append(function["arguments"])


class OpenAIStreamFilter(EventFilter):
    """Applies a guard's output checks to a ``chat.completion.chunk`` stream."""

    def __init__(self, fmt: StreamingFormat, call: Call, guard: Guard) -> None:
        super().__init__(fmt, call, guard, ChunkAssembly())
        #: The latest chunk with choices: the model for extra (flush) chunks.
        self._template: dict[str, Any] = {}

    has_terminal = True

    def is_error(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """The SDK raises on any event whose JSON has a truthy ``error``."""
        return payload is not None and bool(payload.get("error"))

    def is_terminal(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """``data: [DONE]`` ends a complete stream (the SDK stops reading there)."""
        return payload is None and event.data is not None and event.data.strip() == "[DONE]"

    def text_delta(self, event: Event, payload: dict[str, Any]) -> TextDelta | None:
        """A chunk with one choice whose delta is only ``content`` (no finish reason, no
        log probabilities, no usage, no error)."""
        choices = payload.get("choices")
        if "error" in payload or payload.get("usage") is not None or not isinstance(choices, list):
            return None
        item = choices[0] if len(choices) == 1 else None
        if not isinstance(item, dict) or item.get("finish_reason") is not None:
            return None
        index, delta = item.get("index"), item.get("delta")
        if not isinstance(index, int) or item.get("logprobs") is not None:
            return None
        if not isinstance(delta, dict) or len(delta) != 1:
            return None
        content = delta.get("content")
        if not isinstance(content, str) or not content:
            return None
        return TextDelta(("text", index), "content", content, None)

    def forward_text(
        self, envelope: TextEnvelope, event: Event, text: str, out: list[bytes]
    ) -> None:
        """As :meth:`forward` does for a plain content chunk."""
        self._template = envelope.payload
        super().forward_text(envelope, event, text, out)

    def forward(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Re-emit one chunk with released text; flush before finish chunks and ``[DONE]``."""
        if payload is None:
            if event.data is not None and event.data.strip() == "[DONE]":
                self.flush(self.open_keys(), out)
            self.send_raw(event, None, out)
            return
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices:
            if self.strip_usage and payload.get("usage") is not None:
                self.assembly.add(payload)  # usage the guard asked for, not the client
                return
            self.send_raw(event, payload, out)  # the usage chunk, or something unknown
            return
        self._template = payload
        changed = False
        for item in choices:
            if isinstance(item, dict) and self._choice(item, out):
                changed = True
        if not changed:
            self.send_raw(event, payload, out)
        elif payload.get("usage") is not None or any(_carries(item) for item in choices):
            self.send(payload, None, out)
        # else: all of its text is held back for now, and it carries nothing else.

    def _choice(self, item: dict[str, Any], out: list[bytes]) -> bool:
        """Replace the choice's text by the released text; True if anything changed."""
        index = item.get("index", 0)
        index = index if isinstance(index, int) else 0  # still checked if malformed
        delta = item.get("delta")
        # Where each text stream's delta sits in this chunk: (container, field).
        here: dict[Hashable, tuple[dict[str, Any], str]] = {}
        changed = False
        if isinstance(delta, dict):
            content = delta.get("content")
            if isinstance(content, str) and content:
                here["text", index] = (delta, "content")
            tools = delta.get("tool_calls")
            for tool in tools if isinstance(tools, list) else ():
                function = tool.get("function") if isinstance(tool, dict) else None
                if isinstance(function, dict):
                    arguments = function.get("arguments")
                    number = tool.get("index", 0)
                    if isinstance(arguments, str) and arguments:
                        number = number if isinstance(number, int) else 0
                        here["tool", index, number] = (function, "arguments")
        for key, (container, name) in here.items():
            text = container[name]
            released = self.release(key, text)
            if released != text:
                container[name] = released
                changed = True
        if item.get("finish_reason") is not None:
            for key in self.open_keys():
                if not (isinstance(key, tuple) and key[1] == index):
                    continue
                if key in here:
                    container, name = here[key]
                    rest = self.flush_text(key)
                    if rest:
                        container[name] += rest
                        changed = True
                else:
                    self.flush([key], out)
        if changed and item.get("logprobs") is not None:
            item["logprobs"] = None  # they would list the tokens as generated, unredacted
        return changed

    def flush_event(self, key: Hashable, text: str) -> tuple[dict[str, Any], str | None]:
        """An extra chunk carrying the rest of ``key``'s text."""
        assert isinstance(key, tuple)
        payload = {k: v for k, v in self._template.items() if k not in _PER_CHUNK}
        if key[0] == "text":
            delta: dict[str, Any] = {"content": text}
        else:
            delta = {"tool_calls": [{"index": key[2], "function": {"arguments": text}}]}
        payload["choices"] = [
            {"index": key[1], "delta": delta, "logprobs": None, "finish_reason": None}
        ]
        if "usage" in self._template:
            payload["usage"] = None
        return payload, None


def _carries(item: Any) -> bool:
    """True if a choice of a chunk still says something once its text is empty."""
    if not isinstance(item, dict):
        return False
    if item.get("finish_reason") is not None:
        return True
    delta = item.get("delta")
    for name, value in delta.items() if isinstance(delta, dict) else ():
        if name == "tool_calls":
            if isinstance(value, list) and any(_tool_carries(tool) for tool in value):
                return True
        elif value is not None and value != "":
            return True
    return False


def _tool_carries(tool: Any) -> bool:
    if not isinstance(tool, dict):
        return False
    function = tool.get("function")
    named = isinstance(function, dict) and bool(function.get("name") or function.get("arguments"))
    return bool(tool.get("id") or tool.get("type") or named)
