"""Anthropic message bodies and event streams built from a normalised reply.

Used by the offline demo model and by buffered streams. The message id comes from
``reply.raw`` when it has one (a buffered upstream stream keeps its own).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from guard.formats._anthropic_assembly import TOOL_BLOCKS
from guard.formats._json import compact, object_or_empty
from guard.formats._stream_text import pieces, words
from guard.formats.base import dumps
from guard.formats.sse import encode_json
from guard.types import Call, Reply

#: OpenAI finish reasons (used by format-neutral replies) as Anthropic stop reasons.
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def render_reply(call: Call, reply: Reply) -> bytes:
    """A complete ``message`` body."""
    message = _message(call, reply)
    message["content"] = _content(reply)
    message["stop_reason"] = _stop_reason(reply)
    message["usage"] = _usage(reply)
    return dumps(message)


def render_stream(call: Call, reply: Reply) -> Iterator[bytes]:
    """``message_start``, then per block ``content_block_start`` / ``_delta`` (text by
    words, tool input as ``input_json_delta`` pieces) / ``_stop``, ``message_delta``
    with the stop reason and usage, ``message_stop``."""
    message = _message(call, reply)
    message["usage"] = _usage(reply) | {"output_tokens": 0}
    yield _event({"type": "message_start", "message": message})
    for index, block in enumerate(_content(reply)):
        opening, deltas = _block_events(block)
        yield _event({"type": "content_block_start", "index": index, "content_block": opening})
        for piece in deltas:
            yield _event({"type": "content_block_delta", "index": index, "delta": piece})
        yield _event({"type": "content_block_stop", "index": index})
    delta: dict[str, Any] = {"stop_reason": _stop_reason(reply), "stop_sequence": None}
    usage = {"output_tokens": reply.usage.output_tokens if reply.usage else 0}
    yield _event({"type": "message_delta", "delta": delta, "usage": usage})
    yield _event({"type": "message_stop"})


def _event(payload: dict[str, Any]) -> bytes:
    return encode_json(payload, payload["type"])


def _message(call: Call, reply: Reply) -> dict[str, Any]:
    raw = reply.raw if isinstance(reply.raw, dict) else {}
    return {
        "id": raw.get("id") or f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": reply.model or call.model or "unknown",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
    }


def _block_events(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``content_block_start`` block of ``block`` and its deltas, as the API streams."""
    kind = block.get("type")
    if kind == "text":
        citations = block.get("citations")
        opening: dict[str, Any] = {"type": "text", "text": ""}
        deltas: list[dict[str, Any]] = []
        if isinstance(citations, list):
            opening["citations"] = []
            deltas += [{"type": "citations_delta", "citation": c} for c in citations]
        deltas += [{"type": "text_delta", "text": part} for part in words(block["text"])]
        return opening, deltas
    if kind == "thinking":
        opening = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in words(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
        return opening, deltas
    if kind in TOOL_BLOCKS:
        source = compact(block.get("input", {}))
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces(source)]
        return {**block, "input": {}}, deltas
    return block, []  # server tool results and opaque blocks arrive whole


def _content(reply: Reply) -> list[dict[str, Any]]:
    """Content blocks: those of ``reply.raw`` when it is an upstream message (checked, and
    edited where a check edited it), else built from the normalised reply."""
    raw = reply.raw.get("content") if isinstance(reply.raw, dict) else None
    if isinstance(raw, list) and all(isinstance(block, dict) for block in raw) and raw:
        return [block for block in raw if _renderable(block)]
    out: list[dict[str, Any]] = []
    for choice in reply.choices:
        if choice.text or (not choice.tool_calls and len(reply.choices) == 1):
            out.append({"type": "text", "text": choice.text})
        for tool in choice.tool_calls:
            tool_input = object_or_empty(tool.arguments)
            tool_id = tool.id or f"toolu_{uuid.uuid4().hex[:24]}"
            out.append({"type": "tool_use", "id": tool_id, "name": tool.name, "input": tool_input})
    return out


def _renderable(block: dict[str, Any]) -> bool:
    kind = block.get("type")
    if kind == "text":
        return isinstance(block.get("text"), str)
    if kind == "thinking":
        return isinstance(block.get("thinking"), str)
    return isinstance(kind, str)


def _stop_reason(reply: Reply) -> str:
    reason = next((c.finish_reason for c in reply.choices if c.finish_reason), None)
    if reason is None:
        return "tool_use" if any(c.tool_calls for c in reply.choices) else "end_turn"
    return _STOP_REASONS.get(reason, reason)


def _usage(reply: Reply) -> dict[str, int]:
    used = reply.usage
    if used is None:
        return {"input_tokens": 0, "output_tokens": 0}
    # The API's input_tokens leave out cache reads and writes (the normalised count has them).
    cached, written = used.cached_input_tokens, used.cache_write_tokens
    usage = {"input_tokens": max(used.input_tokens - cached - written, 0)}
    if written:
        usage["cache_creation_input_tokens"] = written
    if cached:
        usage["cache_read_input_tokens"] = cached
    usage["output_tokens"] = used.output_tokens
    return usage
