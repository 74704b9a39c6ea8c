"""The OpenAI Responses API (``POST /v1/responses``).

Checked text: see :mod:`guard.formats._responses_input` (request) and
:mod:`guard.formats._responses_items` (reply and stream). Edits are written to the
segments' JSON paths; an untouched request or reply is forwarded byte-for-byte.

``previous_response_id``, ``conversation``, a stored ``prompt``, and ``item_reference``
and ``compaction`` input items make the model read text stored upstream, which guardwire
never saw: such a call has ``call.extension["unguarded_history"]`` set to the list of
those names, so the audit log and the frontends can say that part of the conversation
was not checked. (Set by the format only; a caller's own value is replaced.)

Function-call arguments are checked as one piece of JSON text, in requests, replies and
streams. Reasoning and built-in tool text of a reply is choice :data:`SIDE_TEXT`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from guard.formats._json import (
    load_reply,
    optional_bool,
    optional_object,
    output_bound,
    reply_as_text,
    required_string,
)
from guard.formats._responses_input import input_segments, tool_specs, unguarded_history
from guard.formats._responses_items import item_texts
from guard.formats._responses_render import render_reply, render_stream
from guard.formats._responses_stream import ResponsesStreamFilter
from guard.formats.base import (
    StreamFilter,
    dumps,
    parse_call,
    repeated,
    usage_or_none,
    with_cached_tokens,
)
from guard.formats.openai import _error_type  # one API, one error-type table
from guard.formats.sse import encode_json
from guard.types import Call, Caller, Choice, Reply, ToolCall

if TYPE_CHECKING:
    from guard.engine import Guard

NAME = "openai.responses"
#: The ``call.extension`` key listing the fields that bring in unchecked history.
UNGUARDED_HISTORY = "unguarded_history"
#: Choice index of reasoning and built-in tool text (MCP calls, code interpreter, file
#: search results), so that ``Reply.text`` is the answer alone.
SIDE_TEXT = 1
#: Error ``type`` by HTTP status, as the OpenAI API names them (5xx: ``server_error``).
#: ``incomplete_details.reason`` -> the finish reason the engine knows.
_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


def _response_format(raw: dict[str, Any]) -> dict[str, Any] | None:
    """``text.format`` as chat's ``response_format`` (``{"type": "json_schema",
    "json_schema": {name, schema, strict}}``), so that one schema check reads both."""
    text = optional_object(raw, "text")
    shape = optional_object(text, "format", "text.format")
    if shape is None or shape.get("type") != "json_schema":
        return shape
    spec = {
        name: shape[name] for name in ("name", "schema", "strict", "description") if name in shape
    }
    return {"type": "json_schema", "json_schema": spec}


def _finish_reason(raw: dict[str, Any], has_tools: bool) -> str | None:
    status = raw.get("status")
    if status == "incomplete":
        details = raw.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        return _INCOMPLETE.get(reason, "incomplete") if isinstance(reason, str) else "incomplete"
    if status == "completed":
        return "tool_calls" if has_tools else "stop"
    return status if isinstance(status, str) else None


class OpenAIResponses:
    """The OpenAI Responses API wire format."""

    name = NAME

    def parse_request(self, body: bytes, caller: Caller | None = None) -> Call:
        """Parse a request body; raise :class:`~guard.errors.RequestError` when invalid."""
        call = parse_call(body, caller, self._call)
        self._note_history(call)
        return call

    #: Whether a request must name its ``model`` (token counting may leave it out).
    model_required = True

    def _call(self, raw: dict[str, Any], body: bytes) -> Call:
        model = required_string(raw, "model") if self.model_required or "model" in raw else None
        return Call(
            format=NAME,
            model=model,
            segments=input_segments(raw),
            stream=optional_bool(raw, "stream"),
            max_tokens=output_bound(raw, "max_output_tokens"),
            response_format=_response_format(raw),
            tools=tool_specs(raw),
            raw=raw,
            body=body,
        )

    @staticmethod
    def _note_history(call: Call) -> None:
        # Set by the format only: a caller cannot claim (or hide) unguarded history.
        call.extension.pop(UNGUARDED_HISTORY, None)
        found = unguarded_history(call.raw)
        if found:
            call.extension[UNGUARDED_HISTORY] = found

    def request_body(self, call: Call) -> bytes:
        """The original body when untouched, else ``raw`` re-serialised."""
        return call.body or dumps(call.raw)

    def parse_reply(self, call: Call, body: bytes) -> Reply:
        """Parse a ``response`` body; :class:`~guard.errors.UpstreamError` if not JSON."""
        reply = self.reply_from_raw(load_reply(body, "OpenAI"))
        reply.body = body
        return reply

    def reply_from_raw(self, raw: dict[str, Any]) -> Reply:
        """The reply of a ``response`` object, with write-back paths.

        Message text and refusals are choice 0 (one :class:`Choice` per part, so each
        keeps its path), tool calls attach to its last part, reasoning and built-in tool
        text is choice :data:`SIDE_TEXT`.
        """
        answer: list[Choice] = []
        side: list[Choice] = []
        tools: list[ToolCall] = []
        output = raw.get("output")
        for i, item in enumerate(output if isinstance(output, list) else ()):
            for key, path, text in item_texts(item, i):
                where = ("output", i, *path)
                kind = key[0]  # type: ignore[index]
                if kind == "tool":
                    name, call_id = item.get("name"), item.get("call_id") or item.get("id")
                    tools.append(
                        ToolCall(
                            str(call_id or ""), name if isinstance(name, str) else "", text, where
                        )
                    )
                elif kind in ("text", "refusal"):
                    answer.append(Choice(0, text, path=where))
                else:
                    side.append(Choice(SIDE_TEXT, text, path=where))
        if not answer:
            answer.append(Choice(0))
        answer[-1].tool_calls = tools
        finish = _finish_reason(raw, bool(tools))
        for choice in answer:
            choice.finish_reason = finish
        usage = raw.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        model = raw.get("model")
        return Reply(
            NAME,
            answer + side,
            with_cached_tokens(
                usage_or_none(usage.get("input_tokens"), usage.get("output_tokens")),
                usage.get("input_tokens_details"),
            ),
            model if isinstance(model, str) else None,
            raw,
        )

    def reply_body(self, reply: Reply) -> bytes:
        """The original body when untouched, else ``raw`` re-serialised.

        An edited reply loses its ``logprobs``: they list the tokens as generated, so
        they would give away the text a redaction removed.
        """
        if reply.body:
            return reply.body
        output = reply.raw.get("output")
        for item in output if isinstance(output, list) else ():
            content = item.get("content") if isinstance(item, dict) else None
            for part in content if isinstance(content, list) else ():
                if isinstance(part, dict) and part.get("logprobs"):
                    part["logprobs"] = []
        return dumps(reply.raw)

    def render_reply(self, call: Call, reply: Reply) -> bytes:
        """A complete ``response`` body for a normalised reply."""
        return render_reply(call, reply)

    def render_stream(self, call: Call, reply: Reply) -> Iterator[bytes]:
        """The events of a streamed response, ``response.created`` to ``.completed``."""
        return render_stream(call, reply)

    def error_body(self, status: int, message: str, code: str) -> bytes:
        """``{"error": {message, type, param, code}}`` with the API's type for ``status``."""
        error = {"message": message, "type": _error_type(status), "param": None, "code": code}
        return dumps({"error": error})

    def stream_error(self, message: str, code: str, status: int | None = None) -> bytes:
        """An ``error`` event. It has the API's own fields (``code``, ``message``) and an
        ``error`` object too: the ``openai`` SDK raises ``APIError`` on an event whose
        data has a truthy ``error`` (it would hand an event without one to the caller as
        just another event, and the stream would seem to end normally)."""
        kind = "server_error" if code.startswith("upstream") else "invalid_request_error"
        kind = _error_type(status) if status else kind
        error = {"message": message, "type": kind, "param": None, "code": code}
        payload = {
            "type": "error",
            "code": code,
            "message": message,
            "param": None,
            "sequence_number": 0,
            "error": error,
        }
        return encode_json(payload, "error")

    def with_feedback(self, call: Call, reply: Reply, feedback: str) -> Call:
        """``call`` with the reply (an assistant message item) and the feedback (a user
        message item) appended; a string ``input`` becomes a user message item first."""
        raw = copy.deepcopy(call.raw)
        items = raw.get("input")
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        elif not isinstance(items, list):
            items = []
        items.append({"role": "assistant", "content": reply_as_text(reply)})
        items.append({"role": "user", "content": feedback})
        raw["input"] = items
        return repeated(call, self._call(raw, b""))

    def stream_filter(self, call: Call, guard: Guard) -> StreamFilter:
        """A filter applying ``guard``'s output checks to a Responses event stream."""
        return ResponsesStreamFilter(self, call, guard)


#: The instance the registry (:mod:`guard.formats`) serves as ``openai.responses``.
FORMAT = OpenAIResponses()
