"""OpenAI chat completion bodies and chunk streams built from a normalised reply.

Used by the offline demo model and by buffered streams. Ids, ``created`` and
``system_fingerprint`` come from ``reply.raw`` when it has them (a buffered upstream
stream keeps its own), else they are generated.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from guard.formats._stream_text import pieces, words
from guard.formats.base import dumps
from guard.formats.sse import encode_json
from guard.types import Call, Choice, Reply, ToolCall

#: Anthropic stop reasons (used by format-neutral replies) as OpenAI finish reasons.
_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


def render_reply(call: Call, reply: Reply) -> bytes:
    """A complete ``chat.completion`` body."""
    body = _head(call, reply, "chat.completion")
    body["choices"] = [
        {"index": c.index, "message": _message(c), "logprobs": None, "finish_reason": _finish(c)}
        for c in reply.choices
    ]
    if reply.usage is not None:
        body["usage"] = _usage(reply)
    return dumps(body)


def render_stream(call: Call, reply: Reply) -> Iterator[bytes]:
    """The ``chat.completion.chunk`` events: role, content words, tool calls, finish,
    usage (when ``stream_options.include_usage`` asks for it) and ``[DONE]``."""
    head = _head(call, reply, "chat.completion.chunk")
    options = call.raw.get("stream_options") if isinstance(call.raw, dict) else None
    with_usage = isinstance(options, dict) and options.get("include_usage") is True

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        payload = {**head, "choices": [choice]}
        if with_usage:
            payload["usage"] = None  # as the API does: only the last chunk has usage
        return encode_json(payload)

    for c in reply.choices:
        tool_calls = [t for t in c.tool_calls if not is_legacy_function_call(t)]
        content = "" if c.text or not c.tool_calls else None
        yield chunk(c.index, {"role": "assistant", "content": content, "refusal": None})
        extra = _extra_fields(reply, c)
        for name in ("reasoning_content", "reasoning"):
            for piece in words(extra.get(name) or ""):
                yield chunk(c.index, {name: piece})
        for piece in words(c.text):
            yield chunk(c.index, {"content": piece})
        for piece in words(extra.get("refusal") or ""):
            yield chunk(c.index, {"refusal": piece})
        if isinstance(extra.get("audio"), dict):
            yield chunk(c.index, {"audio": extra["audio"]})
        if isinstance(extra.get("annotations"), list):
            yield chunk(c.index, {"annotations": extra["annotations"]})
        legacy = extra.get("function_call")
        if isinstance(legacy, dict) and isinstance(legacy.get("arguments"), str):
            yield chunk(c.index, {"function_call": {"name": legacy.get("name"), "arguments": ""}})
            for piece in pieces(legacy["arguments"]):
                yield chunk(c.index, {"function_call": {"arguments": piece}})
        for k, tool in enumerate(tool_calls):  # (a legacy function_call went above)
            # A custom (free-form) tool call streams its ``input``, a function its arguments.
            kind, field = ("custom", "input") if _is_custom(tool) else ("function", "arguments")
            spec = {"name": tool.name, field: ""}
            header = {"index": k, "id": _tool_id(tool, k), "type": kind, kind: spec}
            yield chunk(c.index, {"tool_calls": [header]})
            for piece in pieces(tool.arguments):
                delta = {"index": k, kind: {field: piece}}
                yield chunk(c.index, {"tool_calls": [delta]})
        yield chunk(c.index, {}, _finish(c))
    if with_usage and reply.usage is not None:
        yield encode_json({**head, "choices": [], "usage": _usage(reply)})
    yield b"data: [DONE]\n\n"


def _is_custom(tool: Any) -> bool:
    """Whether a reply's tool call is a custom tool call (read from ``custom.input``)."""
    path = tool.path
    return path is not None and len(path) >= 2 and path[-2] == "custom"


#: Message fields besides content and tool calls that a buffered stream re-sends.
_EXTRA_FIELDS = (
    "refusal",
    "reasoning_content",
    "reasoning",
    "audio",
    "function_call",
    "annotations",
)


def _extra_fields(reply: Reply, choice: Choice) -> dict[str, Any]:
    """The other message fields of ``choice`` in ``reply.raw`` (a buffered upstream
    reply, already checked and edited); none for replies built from text alone."""
    raw = reply.raw if isinstance(reply.raw, dict) else {}
    for item in raw.get("choices") or ():
        if isinstance(item, dict) and item.get("index") == choice.index:
            message = item.get("message")
            if isinstance(message, dict):
                return {k: message[k] for k in _EXTRA_FIELDS if message.get(k) is not None}
    return {}


def _head(call: Call, reply: Reply, kind: str) -> dict[str, Any]:
    raw = reply.raw if isinstance(reply.raw, dict) else {}
    created = raw.get("created")
    head: dict[str, Any] = {
        "id": raw.get("id") or f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": kind,
        "created": created if isinstance(created, int) else int(time.time()),
        "model": reply.model or call.model or "unknown",
    }
    if raw.get("system_fingerprint"):
        head["system_fingerprint"] = raw["system_fingerprint"]
    return head


def _message(choice: Choice) -> dict[str, Any]:
    content = choice.text if choice.text or not choice.tool_calls else None
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    tool_calls = [t for t in choice.tool_calls if not is_legacy_function_call(t)]
    if tool_calls:
        message["tool_calls"] = [
            {"id": _tool_id(t, k), "type": "function", "function": _function(t)}
            for k, t in enumerate(tool_calls)
        ]
    for legacy in (t for t in choice.tool_calls if is_legacy_function_call(t)):
        message["function_call"] = _function(legacy)
    return message


def is_legacy_function_call(tool_call: ToolCall) -> bool:
    """True for the deprecated single ``message.function_call`` of an OpenAI chat reply
    (read as a tool call, with no id and no index)."""
    path = tool_call.path
    return path is not None and len(path) >= 2 and path[-2] == "function_call"


def _function(tool: ToolCall) -> dict[str, str]:
    return {"name": tool.name, "arguments": tool.arguments}


def _finish(choice: Choice) -> str:
    if choice.finish_reason is None:
        if not choice.tool_calls:
            return "stop"
        legacy = all(is_legacy_function_call(t) for t in choice.tool_calls)
        return "function_call" if legacy else "tool_calls"
    return _FINISH_REASONS.get(choice.finish_reason, choice.finish_reason)


def _tool_id(tool: ToolCall, number: int) -> str:
    return tool.id or f"call_{number}_{uuid.uuid4().hex[:16]}"


def _usage(reply: Reply) -> dict[str, Any]:
    assert reply.usage is not None
    used = reply.usage
    usage: dict[str, Any] = {
        "prompt_tokens": used.input_tokens,
        "completion_tokens": used.output_tokens,
        "total_tokens": used.input_tokens + used.output_tokens,
    }
    if used.cached_input_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": used.cached_input_tokens}
    return usage
