"""Anthropic messages (``POST /v1/messages``).

Checked text: :data:`COVERAGE` lists the fields (requests: :mod:`._anthropic_request`).
A ``tool_use`` input is a JSON object: each of its string leaves is a segment with its
plain path, so an edit changes that string and nothing else. Untouched inputs are never
re-serialised. An edited ``thinking`` block's signature is emptied (it signed the text
before the edit; a client that sends the block back gets the API's own error).

A reply's text blocks become one :class:`~guard.types.Choice` each, all with index 0, so
that every block keeps its own write-back path; tool calls, thinking, citations and
server tool results attach to the text block before them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from guard.formats._anthropic_render import render_reply, render_stream
from guard.formats._anthropic_request import citations, request_segments, server_tool_result
from guard.formats._anthropic_stream import AnthropicStreamFilter
from guard.formats._json import (
    compact,
    invalid,
    load_reply,
    optional_bool,
    optional_object,
    output_bound,
    reply_as_text,
    required_list,
    required_string,
    text_of,
)
from guard.formats._json_leaves import NOT_TEXT, plain_argument_segments, string_leaves
from guard.formats.base import (
    Coverage,
    StreamFilter,
    dumps,
    parse_call,
    repeated,
    usage_or_none,
)
from guard.formats.sse import encode_json
from guard.types import Call, Caller, Choice, JsonPath, Reply, Segment, ToolCall, Usage

if TYPE_CHECKING:
    from guard.engine import Guard

NAME = "anthropic.messages"

#: Every field that carries text the model reads or writes, and how it is checked
#: (tests/e2e/test_coverage.py drives each row through the Anthropic SDK). Tool inputs
#: are objects: each string value and each key is a segment with its plain path. A content block
#: without ``type`` is a 400. Request fields not listed carry no text.
COVERAGE = (
    Coverage("request", "system (string or text blocks)", "system"),
    Coverage("request", "messages[].content (string)", "message"),
    Coverage("request", "messages[].content[text].text", "message"),
    Coverage("request", "messages[].content[text].citations[].cited_text", "context"),
    Coverage(
        "request", "messages[].content[text].citations[web_search_result_location].url", "context"
    ),
    Coverage("request", "messages[].content[thinking].thinking", "reasoning"),
    Coverage(
        "request", "messages[].content[tool_use].input strings", "tool_arguments, tool_argument_key"
    ),
    Coverage("request", "messages[].content[tool_result].content", "tool_result"),
    Coverage("request", "messages[].content[document].source (text, content, url)", "message"),
    Coverage("request", "messages[].content[document].title, .context", "message"),
    Coverage("request", "messages[].content[image].source.url", "message"),
    Coverage("request", "messages[].content[search_result] strings", "message"),
    Coverage("request", "messages[].content[<server tool result or unknown>] strings", "message"),
    Coverage("request", "tools[].description, tools[].input_schema strings", "tool_definition"),
    Coverage("request", "metadata.user_id", "metadata"),
    Coverage("reply", "content[text].text", "message", "(block, index)"),
    Coverage(
        "reply",
        "content[thinking].thinking (signature emptied when edited)",
        "reasoning",
        "(block, index)",
    ),
    Coverage(
        "reply",
        "content[tool_use].input strings",
        "tool_arguments, tool_argument_key",
        "(input, index, leaf)",
    ),
    Coverage("reply", "content[text].citations[].cited_text", "context", "(piece, index, n)"),
    Coverage(
        "reply",
        "content[text].citations[web_search_result_location].url, .title, .cited_text",
        "context",
        "(piece, index, n)",
    ),
    Coverage("reply", "content[<server tool result>] strings", "tool_result", "(piece, index, n)"),
    Coverage(
        "reply",
        "content[<unknown type>] strings (mcp_tool_use, a newer API's; and its deltas)",
        "message",
        "(piece, index, n)",
    ),
)
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


def _error(kind: str, message: str, code: str) -> dict[str, Any]:
    """The API's error object. Its envelope has no ``code``: the API puts a stable cause in
    ``details.error_code``, which the SDK exposes as ``APIStatusError.error_code``."""
    return {"type": kind, "message": message, "details": {"error_code": code}}


def _error_type(status: int) -> str:
    return _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


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


#: Block types read above, or without text (``redacted_thinking`` holds encrypted data).
_KNOWN_BLOCKS = frozenset({"text", "thinking", "redacted_thinking"})


def _read_block(
    choices: list[Choice], block: dict[str, Any], at: JsonPath, stop: str | None
) -> None:
    """Add the checked text of one reply content block to ``choices``."""
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        choices.append(Choice(0, block["text"], finish_reason=stop, path=(*at, "text")))
        choices[-1].extra += citations(block, at, "assistant", 0)
        return
    if not choices:
        choices.append(Choice(0, finish_reason=stop))
    if kind in ("tool_use", "server_tool_use"):
        name = block.get("name")
        tool_input = block.get("input", {})
        where = (*at, "input")
        choices[-1].tool_calls.append(
            ToolCall(
                str(block.get("id") or ""),
                name if isinstance(name, str) else "",
                compact(tool_input),
                where,
                plain_argument_segments(tool_input, where, "assistant", "tool_arguments", 0),
            )
        )
    elif kind == "thinking" and isinstance(block.get("thinking"), str):
        place = (*at, "thinking")
        choices[-1].extra.append(Segment(block["thinking"], place, "assistant", "reasoning", 0))
    elif isinstance(kind, str) and kind.endswith("_tool_result"):
        choices[-1].extra += server_tool_result(block, at, 0)
    elif kind not in _KNOWN_BLOCKS:
        # A block type this version does not know (a newer API's, mcp_tool_use...): its
        # strings are checked rather than passed on unseen.
        choices[-1].extra += [
            Segment(text, where, "assistant", "message", 0)
            for where, text in string_leaves(block, at, NOT_TEXT)
        ]


class AnthropicMessages:
    """The Anthropic messages wire format."""

    name = NAME

    def parse_request(self, body: bytes, caller: Caller | None = None) -> Call:
        """Parse a request body; raise :class:`~guard.errors.RequestError` when invalid."""
        return parse_call(body, caller, self._call)

    def _call(self, raw: dict[str, Any], body: bytes) -> Call:
        model = required_string(raw, "model")
        segments = request_segments(raw, required_list(raw, "messages"))
        output = optional_object(raw, "output_config")
        response_format = optional_object(output, "format", "output_config.format")
        return Call(
            format=NAME,
            model=model,
            segments=segments,
            stream=optional_bool(raw, "stream"),
            max_tokens=output_bound(raw, "max_tokens"),
            response_format=response_format or optional_object(raw, "output_format"),
            tools=_tools(raw),
            raw=raw,
            body=body,
        )

    def request_body(self, call: Call) -> bytes:
        """The original body when untouched, else ``raw`` re-serialised."""
        return call.body or dumps(call.raw)

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
            if isinstance(block, dict):
                _read_block(choices, block, ("content", j), stop)
        if not choices:
            choices.append(Choice(0, finish_reason=stop))
        usage = raw.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        model = raw.get("model")
        return Reply(NAME, choices, _usage(usage), model if isinstance(model, str) else None, raw)

    def reply_body(self, reply: Reply) -> bytes:
        """The original body when untouched, else ``raw`` re-serialised."""
        return reply.body or dumps(reply.raw)

    def render_reply(self, call: Call, reply: Reply) -> bytes:
        """A complete ``message`` body for a normalised reply."""
        return render_reply(call, reply)

    def render_stream(self, call: Call, reply: Reply) -> Iterator[bytes]:
        """The events of a streamed ``message``, from ``message_start`` to ``message_stop``."""
        return render_stream(call, reply)

    def error_body(self, status: int, message: str, code: str) -> bytes:
        """``{"type": "error", "error": {type, message, details: {error_code}}}``: the SDK
        picks its exception class by status and reads guardwire's code into ``error_code``."""
        return dumps({"type": "error", "error": _error(_error_type(status), message, code)})

    def stream_error(self, message: str, code: str, status: int | None = None) -> bytes:
        """``event: error``: the SDK raises ``anthropic.APIStatusError`` carrying ``message``
        (and guardwire's code as ``error_code``)."""
        if code == "upstream_timeout":
            kind = "timeout_error"
        elif status:
            kind = _error_type(status)
        else:
            kind = "api_error" if code.startswith("upstream") else "invalid_request_error"
        return encode_json({"type": "error", "error": _error(kind, message, code)}, "error")

    def with_feedback(self, call: Call, reply: Reply, feedback: str) -> Call:
        """``call`` with the reply (as assistant text) and the feedback appended."""
        raw = copy.deepcopy(call.raw)
        raw["messages"].append(
            {"role": "assistant", "content": [{"type": "text", "text": reply_as_text(reply)}]}
        )
        raw["messages"].append({"role": "user", "content": feedback})
        return repeated(call, self._call(raw, b""))

    def stream_filter(self, call: Call, guard: Guard) -> StreamFilter:
        """A filter applying ``guard``'s output checks to a messages event stream."""
        return AnthropicStreamFilter(self, call, guard)


def _usage(usage: dict[str, Any]) -> Usage | None:
    """Input tokens include cache reads and writes (as OpenAI's ``prompt_tokens`` do)."""
    written, read = (
        n if isinstance(n, int) and n > 0 else 0
        for n in (usage.get("cache_creation_input_tokens"), usage.get("cache_read_input_tokens"))
    )
    found = usage_or_none(usage.get("input_tokens"), usage.get("output_tokens"))
    if found is not None:
        found.input_tokens += written + read
        found.cache_write_tokens, found.cached_input_tokens = written, read
    return found


#: The instance the registry (:mod:`guard.formats`) serves as ``anthropic.messages``.
FORMAT = AnthropicMessages()
