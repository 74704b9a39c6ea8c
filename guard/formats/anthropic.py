"""Anthropic messages (``POST /v1/messages``).

Checked text: the top-level ``system`` prompt (index ``-1``: it precedes message 0),
``text`` blocks, ``tool_result`` content, text ``document`` sources, and ``tool_use``
inputs. A tool input is a JSON object, so it is checked as its compact JSON text; the
engine writes an edit back as a string, and :meth:`AnthropicMessages.request_body` /
:meth:`~AnthropicMessages.reply_body` parse it back into an object (``{}`` if the edited
text is no longer a JSON object). Untouched inputs are never re-serialised.

A reply's text blocks become one :class:`~guard.types.Choice` each, all with index 0, so
that every block keeps its own write-back path; tool calls attach to the text block
before them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from guard.formats._anthropic_render import render_reply, render_stream
from guard.formats._anthropic_stream import AnthropicStreamFilter
from guard.formats._json import (
    compact,
    invalid,
    load_reply,
    object_or_empty,
    optional_bool,
    optional_int,
    optional_object,
    reply_as_text,
    required_list,
    required_string,
    text_of,
)
from guard.formats.base import StreamFilter, dumps, parse_call, usage_or_none
from guard.formats.sse import encode_json
from guard.types import Call, Caller, Choice, JsonPath, Reply, Segment, ToolCall, Usage

if TYPE_CHECKING:
    from guard.engine import Guard

NAME = "anthropic.messages"
#: Error ``type`` by HTTP status, as the Anthropic API names them.
_ERROR_TYPES = {
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def _error_type(status: int) -> str:
    return _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def _restore_inputs(raw: Any, paths: Iterable[JsonPath | None]) -> None:
    """Turn tool inputs that an edit left as JSON text back into objects."""
    for path in paths:
        if not path or path[-1] != "input":
            continue
        holder = raw
        for key in path[:-1]:
            holder = holder[key]
        if isinstance(holder.get("input"), str):
            holder["input"] = object_or_empty(holder["input"])


def _blocks(
    blocks: list[Any], where: str, base: JsonPath, role: str, kind: str, index: int
) -> list[Segment]:
    """Segments of a list of content blocks at ``base``."""
    out: list[Segment] = []
    for j, block in enumerate(blocks):
        at = f"{where}[{j}]"
        if not isinstance(block, dict):
            raise invalid(at, "an object")
        block_type = block.get("type")
        path = (*base, j)
        if block_type == "text":
            text = text_of(block.get("text"), f"{at}.text")
            out.append(Segment(text, (*path, "text"), role, kind, index))
        elif block_type == "tool_result":
            content, inner = block.get("content"), (*path, "content")
            if isinstance(content, str):
                out.append(Segment(content, inner, role, "tool_result", index))
            elif isinstance(content, list):
                out += _blocks(content, f"{at}.content", inner, role, "tool_result", index)
            elif content is not None:
                raise invalid(f"{at}.content", "a string or a list of content blocks")
        elif block_type == "tool_use":
            tool_input = optional_object(block, "input", f"{at}.input")
            text = compact(tool_input if tool_input is not None else {})
            out.append(Segment(text, (*path, "input"), role, "tool_arguments", index))
        elif block_type == "document":
            source = block.get("source")
            if isinstance(source, dict) and source.get("type") == "text":
                data = text_of(source.get("data"), f"{at}.source.data")
                out.append(Segment(data, (*path, "source", "data"), role, kind, index))
    return out


def _segments(raw: dict[str, Any], messages: list[Any]) -> list[Segment]:
    out: list[Segment] = []
    system = raw.get("system")
    if isinstance(system, str):
        out.append(Segment(system, ("system",), "system", "system", -1))
    elif isinstance(system, list):
        out += _blocks(system, "system", ("system",), "system", "system", -1)
    elif system is not None:
        raise invalid("system", "a string or a list of text blocks")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid(where, "an object")
        role = message.get("role")
        if not isinstance(role, str):
            raise invalid(f"{where}.role", "a string")
        content, path = message.get("content"), ("messages", i, "content")
        if isinstance(content, str):
            out.append(Segment(content, path, role, "message", i))
        elif isinstance(content, list):
            out += _blocks(content, f"{where}.content", path, role, "message", i)
        else:
            raise invalid(f"{where}.content", "a string or a list of content blocks")
    return out


def _tools(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """``tools[]`` as ``{name, description, parameters}`` (``parameters``: ``input_schema``)."""
    tools = raw.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid("tools", "a list")
    out: list[dict[str, Any]] = []
    for k, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise invalid(f"tools[{k}]", "an object")
        name = text_of(tool.get("name"), f"tools[{k}].name")
        out.append(
            {
                "name": name,
                "description": tool.get("description") or "",
                "parameters": tool.get("input_schema"),
            }
        )
    return out


class AnthropicMessages:
    """The Anthropic messages wire format."""

    name = NAME

    def parse_request(self, body: bytes, caller: Caller | None = None) -> Call:
        """Parse a request body; raise :class:`~guard.errors.RequestError` when invalid."""
        return parse_call(body, caller, self._call)

    def _call(self, raw: dict[str, Any], body: bytes) -> Call:
        model = required_string(raw, "model")
        segments = _segments(raw, required_list(raw, "messages"))
        output = optional_object(raw, "output_config")
        response_format = optional_object(output, "format", "output_config.format")
        return Call(
            format=NAME,
            model=model,
            segments=segments,
            stream=optional_bool(raw, "stream"),
            max_tokens=optional_int(raw, "max_tokens"),
            response_format=response_format or optional_object(raw, "output_format"),
            tools=_tools(raw),
            raw=raw,
            body=body,
        )

    def request_body(self, call: Call) -> bytes:
        """The original body when untouched, else ``raw`` re-serialised."""
        if call.body:
            return call.body
        _restore_inputs(call.raw, (s.path for s in call.segments if s.kind == "tool_arguments"))
        return dumps(call.raw)

    def parse_reply(self, call: Call, body: bytes) -> Reply:
        """Parse a ``message`` body; :class:`~guard.errors.UpstreamError` if not JSON."""
        reply = self.reply_from_raw(load_reply(body, "Anthropic"))
        reply.body = body
        return reply

    def reply_from_raw(self, raw: dict[str, Any]) -> Reply:
        """The reply of a ``message`` object: one choice per text block, all index 0."""
        stop = raw.get("stop_reason")
        stop = stop if isinstance(stop, str) else None
        choices: list[Choice] = []
        content = raw.get("content")
        for j, block in enumerate(content if isinstance(content, list) else ()):
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text" and isinstance(block.get("text"), str):
                choices.append(
                    Choice(0, block["text"], finish_reason=stop, path=("content", j, "text"))
                )
            elif kind == "tool_use":
                if not choices:
                    choices.append(Choice(0, finish_reason=stop))
                name = block.get("name")
                arguments = compact(block.get("input", {}))
                choices[-1].tool_calls.append(
                    ToolCall(
                        str(block.get("id") or ""),
                        name if isinstance(name, str) else "",
                        arguments,
                        ("content", j, "input"),
                    )
                )
        if not choices:
            choices.append(Choice(0, finish_reason=stop))
        usage = raw.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        model = raw.get("model")
        return Reply(NAME, choices, _usage(usage), model if isinstance(model, str) else None, raw)

    def reply_body(self, reply: Reply) -> bytes:
        """The original body when untouched, else ``raw`` re-serialised."""
        if reply.body:
            return reply.body
        _restore_inputs(reply.raw, (t.path for c in reply.choices for t in c.tool_calls))
        return dumps(reply.raw)

    def render_reply(self, call: Call, reply: Reply) -> bytes:
        """A complete ``message`` body for a normalised reply."""
        return render_reply(call, reply)

    def render_stream(self, call: Call, reply: Reply) -> Iterator[bytes]:
        """The events of a streamed ``message``, from ``message_start`` to ``message_stop``."""
        return render_stream(call, reply)

    def error_body(self, status: int, message: str, code: str) -> bytes:
        """``{"type": "error", "error": {type, message}}`` (the envelope has no ``code``)."""
        return dumps({"type": "error", "error": {"type": _error_type(status), "message": message}})

    def stream_error(self, message: str, code: str) -> bytes:
        """``event: error``: the SDK raises ``anthropic.APIStatusError`` carrying ``message``."""
        if code == "upstream_timeout":
            kind = "timeout_error"
        else:
            kind = "api_error" if code.startswith("upstream") else "invalid_request_error"
        return encode_json({"type": "error", "error": {"type": kind, "message": message}}, "error")

    def with_feedback(self, call: Call, reply: Reply, feedback: str) -> Call:
        """``call`` with the reply (as assistant text) and the feedback appended."""
        _restore_inputs(call.raw, (s.path for s in call.segments if s.kind == "tool_arguments"))
        raw = copy.deepcopy(call.raw)
        raw["messages"].append(
            {"role": "assistant", "content": [{"type": "text", "text": reply_as_text(reply)}]}
        )
        raw["messages"].append({"role": "user", "content": feedback})
        again = self._call(raw, b"")
        again.caller, again.context, again.extension = call.caller, call.context, call.extension
        again.request_id = call.request_id
        return again

    def stream_filter(self, call: Call, guard: Guard) -> StreamFilter:
        """A filter applying ``guard``'s output checks to a messages event stream."""
        return AnthropicStreamFilter(self, call, guard)


def _usage(usage: dict[str, Any]) -> Usage | None:
    """Input tokens include cache reads and writes (as OpenAI's ``prompt_tokens`` do)."""
    cached = [usage.get(n) for n in ("cache_creation_input_tokens", "cache_read_input_tokens")]
    extra = sum(n for n in cached if isinstance(n, int))
    found = usage_or_none(usage.get("input_tokens"), usage.get("output_tokens"))
    if found is not None:
        found.input_tokens += extra
    return found


#: The instance the registry (:mod:`guard.formats`) serves as ``anthropic.messages``.
FORMAT = AnthropicMessages()
