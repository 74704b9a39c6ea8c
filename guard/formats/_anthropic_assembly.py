"""Adds messages stream events up to the ``message`` object they stream (what the
client got, so that the assembled reply can be checked and recorded)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from guard.formats._json import object_or_empty
from guard.formats._parts import Parts

#: Block types whose input streams as ``input_json_delta``.
TOOL_BLOCKS = ("tool_use", "server_tool_use")


@dataclass(slots=True)
class _Block:
    data: dict[str, Any]
    parts: list[str] = field(default_factory=Parts)


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
                name = "thinking" if block.get("type") == "thinking" else "text"
                if isinstance(block.get(name), str):
                    entry.parts.append(block[name])
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
            opening = {"input_json_delta": "tool_use", "thinking_delta": "thinking"}.get(
                str(kind), "text"
            )
            entry = self._blocks[index] = _Block({"type": opening})
        if kind == "text_delta" and isinstance(delta.get("text"), str):
            entry.parts.append(delta["text"])
        elif kind == "input_json_delta" and isinstance(delta.get("partial_json"), str):
            entry.parts.append(delta["partial_json"])
        elif kind == "thinking_delta" and isinstance(delta.get("thinking"), str):
            entry.parts.append(delta["thinking"])
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
            if block.get("type") in ("text", "thinking"):
                block[block["type"]] = "".join(entry.parts)
            elif block.get("type") in TOOL_BLOCKS and entry.parts:
                block["input"] = object_or_empty("".join(entry.parts))
            content.append(block)
        return {**self._message, "content": content}
