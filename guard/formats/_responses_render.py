"""Responses API ``response`` objects and their event streams, built from a reply.

Used by the offline demo model and by buffered streams. A reply parsed from (or
assembled into) a ``response`` object is rendered from that object, edits included, so
its ids, reasoning items and every other field survive; a reply built by the demo model
gets a new object.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Iterator
from typing import Any

from guard.formats._responses_items import DELTA_EVENTS, PARTS, WHOLE_ONLY, item_texts
from guard.formats._stream_text import pieces, words
from guard.formats.base import dumps
from guard.formats.sse import encode_json
from guard.types import Call, Reply

#: Request fields a ``response`` object repeats.
_ECHOED = ("instructions", "tools", "metadata", "temperature", "top_p", "text", "reasoning")


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def response_object(call: Call, reply: Reply) -> dict[str, Any]:
    """The complete ``response`` object of ``reply``."""
    if isinstance(reply.raw, dict) and reply.raw.get("object") == "response":
        return reply.raw
    request = call.raw if isinstance(call.raw, dict) else {}
    output: list[dict[str, Any]] = []
    answer = [c for c in reply.choices if c.index == 0]
    texts = [c.text for c in answer if c.text]
    if texts:
        parts = [{"type": "output_text", "text": t, "annotations": []} for t in texts]
        output.append(
            {
                "id": _id("msg"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": parts,
            }
        )
    for choice in answer:
        for tool in choice.tool_calls:
            output.append(
                {
                    "id": _id("fc"),
                    "type": "function_call",
                    "status": "completed",
                    "call_id": tool.id or _id("call"),
                    "name": tool.name,
                    "arguments": tool.arguments,
                }
            )
    summary = [{"type": "summary_text", "text": c.text} for c in reply.choices if c.index != 0]
    if summary:
        output.insert(0, {"id": _id("rs"), "type": "reasoning", "summary": summary})
    body: dict[str, Any] = {
        "id": _id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "model": reply.model or call.model or "unknown",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": request.get("tool_choice", "auto"),
    }
    body.update({name: copy.deepcopy(request.get(name)) for name in _ECHOED})
    body["tools"] = body["tools"] or []
    body["metadata"] = body["metadata"] or {}
    if reply.usage is not None:
        used = reply.usage
        body["usage"] = {
            "input_tokens": used.input_tokens,
            # (cache_write_tokens: the openai SDK's model declares it required.)
            "input_tokens_details": {
                "cached_tokens": used.cached_input_tokens,
                "cache_write_tokens": used.cache_write_tokens,
            },
            "output_tokens": used.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": used.input_tokens + used.output_tokens,
        }
    return body


def render_reply(call: Call, reply: Reply) -> bytes:
    """A complete ``response`` body."""
    return dumps(response_object(call, reply))


def _emptied(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` as ``response.output_item.added`` announces it: in progress, no text."""
    fresh = copy.deepcopy(item)
    fresh["status"] = "in_progress"
    if fresh.get("type") == "message":
        fresh["content"] = []
    elif fresh.get("type") == "reasoning":
        fresh["summary"] = []
        fresh.pop("content", None)
    for key, path, _ in list(item_texts(fresh, 0)):
        if key[0] == "other":  # type: ignore[index]
            continue  # (an unknown item's strings: no shape to empty them to)
        # What is left: a call's arguments, input or code (text), or its results (a list).
        fresh[str(path[0])] = "" if len(path) == 1 else []
    return fresh


class _Events:
    """Numbers the events of one stream."""

    def __init__(self) -> None:
        self.number = 0

    def __call__(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, **fields, "sequence_number": self.number}
        self.number += 1
        return encode_json(payload, kind)


def _item_events(event: _Events, index: int, item: dict[str, Any]) -> Iterator[bytes]:
    """The events of one output item, from ``output_item.added`` to ``.done``."""
    yield event("response.output_item.added", output_index=index, item=_emptied(item))
    item_id = item.get("id", "")
    where: dict[str, Any] = {"item_id": item_id, "output_index": index}
    for key, path, text in item_texts(item, index):
        kind = key[0]  # type: ignore[index]
        if kind in WHOLE_ONLY:
            continue  # sent whole in output_item.done
        delta_type, number_field = DELTA_EVENTS[kind]
        if item.get("type") == "custom_tool_call":
            delta_type = "response.custom_tool_call_input.delta"
        done_type = delta_type.replace(".delta", ".done")
        at = dict(where)
        if number_field is not None:
            at[number_field] = key[2]  # type: ignore[index]
        part = copy.deepcopy(item[str(path[0])][path[1]]) if len(path) == 3 else None
        if part is not None:
            added = "response.reasoning_summary_part.added" if kind == "summary" else None
            empty = (
                {**part, PARTS[part.get("type", "")][1]: ""} if part.get("type") in PARTS else part
            )
            yield event(added or "response.content_part.added", **at, part=empty)
        logprobs: dict[str, Any] = {"logprobs": []} if kind == "text" else {}
        for piece in words(text) if kind != "tool" else pieces(text):
            yield event(delta_type, **at, delta=piece, **logprobs)
        done: dict[str, Any] = {**at, str(path[-1]): text, **logprobs}
        if kind == "tool" and item.get("type") == "function_call":
            done["name"] = item.get("name", "")
        yield event(done_type, **done)
        if part is not None:
            part_done = "response.reasoning_summary_part.done" if kind == "summary" else None
            yield event(part_done or "response.content_part.done", **at, part=part)
    yield event("response.output_item.done", output_index=index, item=item)


def render_stream(call: Call, reply: Reply) -> Iterator[bytes]:
    """The events of a streamed response: ``response.created`` to ``response.completed``
    (``.incomplete`` / ``.failed`` when the response says so)."""
    body = response_object(call, reply)
    event = _Events()
    head = {**body, "status": "in_progress", "output": [], "usage": None}
    yield event("response.created", response=head)
    yield event("response.in_progress", response=head)
    output = body.get("output")
    for index, item in enumerate(output if isinstance(output, list) else ()):
        if isinstance(item, dict):
            yield from _item_events(event, index, item)
    status = body.get("status")
    final = status if status in ("incomplete", "failed") else "completed"
    yield event(f"response.{final}", response=body)
