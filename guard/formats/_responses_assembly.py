"""Adds Responses API stream events up to the ``response`` object they stream.

The texts come from the deltas; an event that repeats whole text (``.done``, parts,
items, the whole response) only adds what continues them (an upstream that sends no
deltas). So in progressive mode, where every event is added as the client got it, the
assembly is exactly what the client received.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from typing import Any

from guard.formats._responses_items import (
    DELTA_KINDS,
    DONE_EVENTS,
    item_texts,
    part_key,
    stream_key,
)
from guard.formats.base import set_at

PART_EVENTS = (
    "response.content_part.added",
    "response.content_part.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
)
ITEM_EVENTS = ("response.output_item.added", "response.output_item.done")
TERMINAL = ("response.completed", "response.incomplete", "response.failed")
#: A stub output item for text whose item was never announced, by stream key kind.
_STUBS: dict[str, dict[str, Any]] = {
    "text": {"type": "message", "role": "assistant", "status": "completed", "content": []},
    "refusal": {"type": "message", "role": "assistant", "status": "completed", "content": []},
    "tool": {"type": "function_call", "status": "completed", "call_id": "", "name": ""},
    "summary": {"type": "reasoning", "summary": []},
    "reasoning": {"type": "reasoning", "summary": [], "content": []},
    "mcp": {"type": "mcp_call", "status": "completed", "name": "", "server_label": ""},
    "code": {"type": "code_interpreter_call", "status": "completed", "outputs": []},
}
_EMPTY_PARTS = {
    "text": ("content", {"type": "output_text", "text": "", "annotations": []}),
    "refusal": ("content", {"type": "refusal", "refusal": ""}),
    "summary": ("summary", {"type": "summary_text", "text": ""}),
    "reasoning": ("content", {"type": "reasoning_text", "text": ""}),
}


class ResponseAssembly:
    """Adds stream events up to the ``response`` object they stream."""

    def __init__(self) -> None:
        self._head: dict[str, Any] = {}
        self._items: dict[int, dict[str, Any]] = {}
        self._texts: dict[Hashable, list[str]] = {}

    def text(self, key: Hashable) -> str:
        """The text of stream ``key`` so far."""
        return "".join(self._texts.get(key, ()))

    def add_text(self, key: Hashable, text: str) -> None:
        """Take a text delta of stream ``key``."""
        self._texts.setdefault(key, []).append(text)

    def add(self, payload: dict[str, Any]) -> None:
        """Take one event."""
        kind = payload.get("type")
        if not isinstance(kind, str):
            return
        if kind in DELTA_KINDS:
            key, delta = stream_key(DELTA_KINDS[kind], payload), payload.get("delta")
            if key is not None and isinstance(delta, str):
                self.add_text(key, delta)
        elif kind in DONE_EVENTS:
            key_kind, field = DONE_EVENTS[kind]
            key = stream_key(key_kind, payload)
            if key is not None and isinstance(payload.get(field), str):
                self._extend(key, payload[field])
        elif kind in PART_EVENTS:
            found = part_key(payload)
            if found is not None and isinstance(payload["part"].get(found[1]), str):
                self._extend(found[0], payload["part"][found[1]])
        elif kind in ITEM_EVENTS:
            item, index = payload.get("item"), payload.get("output_index")
            if isinstance(item, dict) and isinstance(index, int):
                self._add_item(index, item)
        elif isinstance(payload.get("response"), dict):
            response = payload["response"]
            self._head = {k: v for k, v in response.items() if k != "output"}
            output = response.get("output")
            for index, item in enumerate(output if isinstance(output, list) else ()):
                if isinstance(item, dict):
                    self._add_item(index, item)

    def _add_item(self, index: int, item: dict[str, Any]) -> None:
        self._items[index] = copy.deepcopy(item)
        for key, _, text in item_texts(item, index):
            self._extend(key, text)

    def _extend(self, key: Hashable, text: str) -> None:
        """Whole text of ``key`` from an event that repeats it: taken where it continues
        the deltas (an upstream that sends none); the deltas win where it does not."""
        known = self.text(key)
        if len(text) > len(known) and text.startswith(known):
            self._texts[key] = [text]

    def build(self) -> dict[str, Any]:
        """The ``response`` object of the events so far, texts from the deltas."""
        items = {index: copy.deepcopy(item) for index, item in self._items.items()}
        for key in self._texts:
            kind, index = key[0], key[1]  # type: ignore[index]
            item = items.get(index)
            if item is None and kind in _STUBS:
                item = items[index] = copy.deepcopy(_STUBS[kind])
            if item is not None and kind in _EMPTY_PARTS:
                _ensure_part(item, kind, key[2])  # type: ignore[index]
        for index, item in items.items():
            for key, path, _ in item_texts(item, index):
                set_at(item, path, self.text(key))
        raw: dict[str, Any] = {"object": "response", **self._head}
        raw["output"] = [items[index] for index in sorted(items)]
        return raw


#: Most parts an item is given for text whose part was never announced: an upstream's
#: ``content_index`` must not make the assembly allocate without bound.
_MAX_PARTS = 256


def _ensure_part(item: dict[str, Any], kind: str, number: int) -> None:
    """Give ``item`` the part a text stream writes to, if the events never announced it
    (text at an index out of range is left out of the assembled response)."""
    if not 0 <= number < _MAX_PARTS:
        return
    name, empty = _EMPTY_PARTS[kind]
    parts = item.get(name)
    if not isinstance(parts, list):
        parts = item[name] = []
    while len(parts) <= number:
        parts.append(copy.deepcopy(empty))
    if not isinstance(parts[number], dict):
        parts[number] = copy.deepcopy(empty)
