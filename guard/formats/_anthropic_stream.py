"""Output checks over an Anthropic messages event stream.

Each content block is one text stream, keyed ``("block", index)``: ``text_delta`` text
for text blocks, ``input_json_delta`` JSON for ``tool_use`` blocks. A block's stream
ends at its ``content_block_stop``; what it still held goes out in an extra
``content_block_delta`` just before that event. Thinking blocks pass unchecked.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from guard.formats._envelope import TextDelta
from guard.formats._json import object_or_empty
from guard.formats._stream import EventFilter, StreamingFormat
from guard.formats.sse import Event

if TYPE_CHECKING:
    from guard.engine import Guard
    from guard.types import Call

#: The field holding checked text, by delta type.
_TEXT_FIELDS = {"text_delta": "text", "input_json_delta": "partial_json"}
#: Block types whose input streams as ``input_json_delta``.
_TOOL_BLOCKS = ("tool_use", "server_tool_use")


@dataclass(slots=True)
class _Block:
    data: dict[str, Any]
    parts: list[str] = field(default_factory=list)


class MessageAssembly:
    """Adds events up to the ``message`` object they stream."""

    def __init__(self) -> None:
        self._message: dict[str, Any] = {"type": "message", "role": "assistant"}
        self._blocks: dict[int, _Block] = {}

    def add(self, payload: dict[str, Any]) -> None:
        """Take one event."""
        kind = payload.get("type")
        if kind == "content_block_delta":
            index, delta = payload.get("index"), payload.get("delta")
            if isinstance(index, int) and isinstance(delta, dict):
                self._delta(index, delta)
        elif kind == "content_block_start":
            index, block = payload.get("index"), payload.get("content_block")
            if isinstance(index, int) and isinstance(block, dict):
                entry = self._blocks[index] = _Block(dict(block))
                if isinstance(block.get("text"), str):
                    entry.parts.append(block["text"])
        elif kind == "message_start" and isinstance(payload.get("message"), dict):
            self._message.update((k, v) for k, v in payload["message"].items() if k != "content")
        elif kind == "message_delta":
            delta, usage = payload.get("delta"), payload.get("usage")
            if isinstance(delta, dict):
                self._message.update(delta)
            if isinstance(usage, dict):
                known = self._message.get("usage")
                self._message["usage"] = {**(known if isinstance(known, dict) else {}), **usage}

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        kind = delta.get("type")
        entry = self._blocks.get(index)
        if entry is None:
            opening = "tool_use" if kind == "input_json_delta" else "text"
            entry = self._blocks[index] = _Block({"type": opening})
        if kind == "text_delta" and isinstance(delta.get("text"), str):
            entry.parts.append(delta["text"])
        elif kind == "input_json_delta" and isinstance(delta.get("partial_json"), str):
            entry.parts.append(delta["partial_json"])
        elif kind == "thinking_delta" and isinstance(delta.get("thinking"), str):
            entry.data["thinking"] = entry.data.get("thinking", "") + delta["thinking"]
        elif kind == "signature_delta":
            entry.data["signature"] = delta.get("signature")
        elif kind == "citations_delta":
            entry.data.setdefault("citations", []).append(delta.get("citation"))

    def add_text(self, key: Hashable, text: str) -> None:
        """Take text or tool input (``key`` is ``("block", index)``) of a block added
        before."""
        assert isinstance(key, tuple)
        self._blocks[key[1]].parts.append(text)

    def build(self) -> dict[str, Any]:
        """The ``message`` object of the events so far."""
        content = []
        for index in sorted(self._blocks):
            entry = self._blocks[index]
            block = dict(entry.data)
            if block.get("type") == "text":
                block["text"] = "".join(entry.parts)
            elif block.get("type") in _TOOL_BLOCKS and entry.parts:
                block["input"] = object_or_empty("".join(entry.parts))
            content.append(block)
        return {**self._message, "content": content}


class AnthropicStreamFilter(EventFilter):
    """Applies a guard's output checks to a messages event stream."""

    def __init__(self, fmt: StreamingFormat, call: Call, guard: Guard) -> None:
        super().__init__(fmt, call, guard, MessageAssembly())
        #: Content block type by index (decides the delta type of a flush event).
        self._kinds: dict[int, str] = {}

    has_terminal = True

    def is_terminal(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """``message_stop`` ends a complete stream."""
        return payload is not None and payload.get("type") == "message_stop"

    def is_error(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """The SDK raises on ``event: error``."""
        return event.event == "error" or (payload is not None and payload.get("type") == "error")

    def text_delta(self, event: Event, payload: dict[str, Any]) -> TextDelta | None:
        """A ``content_block_delta`` whose delta is only text or tool input JSON."""
        index, delta = payload.get("index"), payload.get("delta")
        if payload.get("type") != "content_block_delta" or event.event == "error":
            return None
        if not isinstance(index, int) or not isinstance(delta, dict) or len(delta) != 2:
            return None
        kind = delta.get("type")
        name = _TEXT_FIELDS.get(kind) if isinstance(kind, str) else None
        text = delta.get(name) if name is not None else None
        if not isinstance(text, str) or not text or name is None:
            return None
        return TextDelta(("block", index), name, text, event.event or "content_block_delta")

    def forward(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Re-emit one event with released text; flush a block before its stop event."""
        kind = payload.get("type") if payload is not None else None
        if payload is not None and kind == "content_block_delta":
            self._delta(event, payload, out)
            return
        if payload is not None and kind == "content_block_start":
            self._start(event, payload, out)
            return
        if kind == "content_block_stop":
            self.flush([("block", _index(payload))], out)
        elif kind in ("message_delta", "message_stop"):
            self.flush(self.open_keys(), out)  # blocks the upstream never stopped
        self.send_raw(event, payload, out)

    def _start(self, event: Event, payload: dict[str, Any], out: list[bytes]) -> None:
        index, block = _index(payload), payload.get("content_block")
        if not isinstance(block, dict):
            self.send_raw(event, payload, out)
            return
        self._kinds[index] = str(block.get("type"))
        text = block.get("text")
        if isinstance(text, str) and text:  # the API opens text blocks empty, but may not
            released = self.release(("block", index), text)
            if released != text:
                block["text"] = released
                self.send(payload, event.event or "content_block_start", out)
                return
        self.send_raw(event, payload, out)

    def _delta(self, event: Event, payload: dict[str, Any], out: list[bytes]) -> None:
        index, delta = _index(payload), payload.get("delta")
        kind = delta.get("type") if isinstance(delta, dict) else None
        name = _TEXT_FIELDS.get(kind) if isinstance(kind, str) else None
        text = delta.get(name) if isinstance(delta, dict) and name is not None else None
        if not isinstance(delta, dict) or name is None or not isinstance(text, str) or not text:
            self.send_raw(event, payload, out)
            return
        self._kinds.setdefault(index, "tool_use" if name == "partial_json" else "text")
        released = self.release(("block", index), text)
        if released == text:
            self.send_raw(event, payload, out)
        elif released:
            delta[name] = released
            self.send(payload, event.event or "content_block_delta", out)
        # else: all of it is held back for now.

    def flush_event(self, key: Hashable, text: str) -> tuple[dict[str, Any], str | None]:
        """A ``content_block_delta`` carrying the rest of the block's text."""
        assert isinstance(key, tuple)
        index = key[1]
        if self._kinds.get(index) in _TOOL_BLOCKS:
            delta = {"type": "input_json_delta", "partial_json": text}
        else:
            delta = {"type": "text_delta", "text": text}
        return {
            "type": "content_block_delta",
            "index": index,
            "delta": delta,
        }, "content_block_delta"


def _index(payload: dict[str, Any] | None) -> int:
    index = payload.get("index") if payload is not None else None
    return index if isinstance(index, int) else 0  # malformed: still checked, as block 0
