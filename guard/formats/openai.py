"""OpenAI chat completions (``POST /v1/chat/completions``).

Every piece of text the model reads or writes becomes a :class:`~guard.types.Segment`
with its JSON path; :data:`COVERAGE` lists the fields (requests:
:mod:`._openai_request`). Tool-call arguments are JSON text: each decoded string leaf is
a segment (``Segment.leaf``), and an edit re-serialises the arguments compactly. Edits
are written to exactly those paths; everything else is forwarded as received. A reply's
refusal, reasoning and audio transcript are the choice's ``extra`` segments. The legacy
single ``function_call`` is a tool call (``_openai_render.is_legacy_function_call``),
checked like the others; the request's legacy ``functions`` count as declared tools.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from guard.formats._json import (
    invalid,
    load_reply,
    optional_bool,
    optional_int,
    optional_object,
    output_bound,
    reply_as_text,
    required_list,
    required_string,
    text_of,
)
from guard.formats._openai_render import render_reply, render_stream
from guard.formats._openai_reply import read_message
from guard.formats._openai_request import request_segments
from guard.formats._openai_stream import OpenAIStreamFilter
from guard.formats.base import (
    Coverage,
    StreamFilter,
    dumps,
    parse_call,
    repeated,
    usage_or_none,
    with_audio_tokens,
    with_cached_tokens,
)
from guard.formats.sse import encode_json
from guard.types import Call, Caller, Choice, Reply, Segment

if TYPE_CHECKING:
    from guard.engine import Guard

NAME = "openai.chat"
#: The fields that bound a reply's length, newest first.
_BOUNDS = ("max_completion_tokens", "max_tokens")

#: Every field that carries text the model reads or writes, and how it is checked
#: (tests/e2e/test_coverage.py drives each row through the OpenAI SDK). Tool arguments
#: are JSON text: one segment per decoded string value and per object key
#: (``Segment.leaf``; an edited key renames it), or one raw-text segment when they are
#: not JSON. Request fields not listed carry no text.
COVERAGE = (
    Coverage("request", "messages[].content", "by role"),
    Coverage("request", "messages[].content[].text", "by role"),
    Coverage("request", "messages[].content[].refusal", "by role"),
    Coverage("request", "messages[].content[input_text].text", "by role"),
    Coverage("request", "messages[].content[image_url].image_url.url (not data:)", "by role"),
    Coverage("request", "messages[].content[<unknown type>] strings", "by role"),
    Coverage("request", "messages[].name", "by role"),
    Coverage(
        "request", "messages[].tool_calls[].function.arguments", "tool_arguments, tool_argument_key"
    ),
    Coverage("request", "messages[].function_call.arguments", "tool_arguments, tool_argument_key"),
    Coverage("request", "messages[].tool_calls[].custom.input", "tool_arguments"),
    Coverage("request", "tools[].function.description", "tool_definition"),
    Coverage("request", "tools[].function.parameters strings", "tool_definition"),
    Coverage("request", "functions[].description", "tool_definition"),
    Coverage(
        "request", "response_format.json_schema (description, schema strings)", "tool_definition"
    ),
    Coverage("request", "prediction.content (string or parts)", "message"),
    Coverage("request", "user", "metadata"),
    Coverage("request", "metadata.*", "metadata"),
    Coverage("reply", "choices[].message.content", "message", "(text, choice)"),
    Coverage("reply", "choices[].message.refusal", "message", "(refusal, choice)"),
    Coverage(
        "reply",
        "choices[].message.reasoning_content",
        "reasoning",
        "(reasoning_content, choice)",
    ),
    Coverage("reply", "choices[].message.reasoning", "reasoning", "(reasoning, choice)"),
    Coverage("reply", "choices[].message.audio.transcript", "message", "(audio, choice)"),
    Coverage(
        "reply", "choices[].message.content[] strings (parts)", "message", "(part, choice, n)"
    ),
    Coverage(
        "reply",
        "choices[].message.annotations[] strings (title, url)",
        "message",
        "(part, choice, n)",
    ),
    Coverage(
        "reply", "choices[].text (legacy, compatible servers)", "message", "(choice_text, choice)"
    ),
    Coverage(
        "reply",
        "choices[].message.tool_calls[].function.arguments",
        "tool_arguments, tool_argument_key",
        "(tool, choice, tool index, leaf)",
    ),
    Coverage(
        "reply",
        "choices[].message.tool_calls[].custom.input",
        "tool_arguments",
        "(custom, choice, tool index)",
    ),
    Coverage(
        "reply",
        "choices[].message.function_call.arguments",
        "tool_arguments, tool_argument_key",
        "(function_call, choice, leaf)",
    ),
)
#: Error ``type`` by HTTP status, as the OpenAI API names them (5xx: ``server_error``).
_ERROR_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def _error_type(status: int) -> str:
    return "server_error" if status >= 500 else _ERROR_TYPES.get(status, "invalid_request_error")


def _tools(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """``tools[].function`` (or ``.custom``), then the deprecated ``functions`` (what a
    legacy ``function_call`` may name), as ``{name, description, parameters}``."""
    tools = raw.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise invalid("tools", "a list")
    specs: list[tuple[Any, str]] = []
    for k, tool in enumerate(tools or ()):
        if not isinstance(tool, dict):
            raise invalid(f"tools[{k}]", "an object")
        kind = tool.get("type", "function")
        spec = optional_object(tool, kind, f"tools[{k}].{kind}") if isinstance(kind, str) else None
        specs.append((spec, f"tools[{k}].{kind}"))
    functions = raw.get("functions")
    for k, function in enumerate(functions if isinstance(functions, list) else ()):
        specs.append((function if isinstance(function, dict) else None, f"functions[{k}]"))
    return [
        {
            "name": text_of(spec.get("name"), f"{where}.name"),
            "description": spec.get("description") or "",
            "parameters": spec.get("parameters"),
        }
        for spec, where in specs
        if spec is not None
    ]


class OpenAIChat:
    """The OpenAI chat completions wire format."""

    name = NAME

    def parse_request(self, body: bytes, caller: Caller | None = None) -> Call:
        """Parse a request body; raise :class:`~guard.errors.RequestError` when invalid."""
        return parse_call(body, caller, self._call)

    def _call(self, raw: dict[str, Any], body: bytes) -> Call:
        model = required_string(raw, "model")
        segments = request_segments(raw, required_list(raw, "messages"))
        # Upstreams differ on which bound they read (OpenAI the newer field, some
        # compatible servers only max_tokens): the larger bounds the call, and a zero or
        # less in either bounds nothing (some upstreams read it as "no limit").
        sent = [output_bound(raw, name) for name in _BOUNDS if raw.get(name) is not None]
        bounds = [bound for bound in sent if bound is not None]
        max_tokens = max(bounds) if bounds and len(bounds) == len(sent) else None
        optional_int(raw, "n")  # budgets reserve for n choices: "8" or 8.0 is refused
        return Call(
            format=NAME,
            model=model,
            segments=segments,
            stream=optional_bool(raw, "stream"),
            max_tokens=max_tokens,
            response_format=optional_object(raw, "response_format"),
            tools=_tools(raw),
            raw=raw,
            body=body,
        )

    def request_body(self, call: Call) -> bytes:
        """The original body when untouched, else ``raw`` re-serialised."""
        return call.body or dumps(call.raw)

    def parse_reply(self, call: Call, body: bytes) -> Reply:
        """Parse a ``chat.completion`` body; :class:`~guard.errors.UpstreamError` if not JSON."""
        reply = self.reply_from_raw(load_reply(body, "OpenAI"))
        reply.body = body
        return reply

    def reply_from_raw(self, raw: dict[str, Any]) -> Reply:
        """The reply of a ``chat.completion`` object, with write-back paths."""
        choices: list[Choice] = []
        items = raw.get("choices")
        for position, item in enumerate(items if isinstance(items, list) else ()):
            if not isinstance(item, dict):
                continue
            index = item.get("index")
            finish = item.get("finish_reason")
            choice = Choice(
                index if isinstance(index, int) else position,
                finish_reason=finish if isinstance(finish, str) else None,
            )
            message = item.get("message")
            at = ("choices", position, "message")
            read_message(choice, message if isinstance(message, dict) else {}, at)
            if isinstance(item.get("text"), str):  # legacy completions text (compatible servers)
                where = ("choices", position, "text")
                choice.extra.append(
                    Segment(item["text"], where, "assistant", "message", choice.index)
                )
            choices.append(choice)
        usage = raw.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        model = raw.get("model")
        used = with_cached_tokens(
            usage_or_none(usage.get("prompt_tokens"), usage.get("completion_tokens")),
            usage.get("prompt_tokens_details"),
        )
        used = with_audio_tokens(
            used, usage.get("prompt_tokens_details"), usage.get("completion_tokens_details")
        )
        return Reply(NAME, choices, used, model if isinstance(model, str) else None, raw)

    def reply_body(self, reply: Reply) -> bytes:
        """The original body when untouched, else ``raw`` re-serialised.

        An edited reply loses its ``logprobs``: they list the tokens as generated, so
        they would give away the text a redaction removed.
        """
        if reply.body:
            return reply.body
        for item in reply.raw.get("choices") or ():
            if isinstance(item, dict) and item.get("logprobs") is not None:
                item["logprobs"] = None
        return dumps(reply.raw)

    def render_reply(self, call: Call, reply: Reply) -> bytes:
        """A complete ``chat.completion`` body for a normalised reply."""
        return render_reply(call, reply)

    def render_stream(self, call: Call, reply: Reply) -> Iterator[bytes]:
        """The ``chat.completion.chunk`` events of a reply, ending with ``[DONE]``."""
        return render_stream(call, reply)

    def error_body(self, status: int, message: str, code: str) -> bytes:
        """``{"error": {message, type, param, code}}`` with the API's type for ``status``."""
        error = {"message": message, "type": _error_type(status), "param": None, "code": code}
        return dumps({"error": error})

    def stream_error(self, message: str, code: str, status: int | None = None) -> bytes:
        """``data: {"error": ...}``: the SDK raises ``openai.APIError`` with ``message``."""
        kind = "server_error" if code.startswith("upstream") else "invalid_request_error"
        kind = _error_type(status) if status else kind
        error = {"message": message, "type": kind, "param": None, "code": code}
        return encode_json({"error": error})

    def with_feedback(self, call: Call, reply: Reply, feedback: str) -> Call:
        """``call`` with the reply (as assistant text) and the feedback appended."""
        raw = copy.deepcopy(call.raw)
        raw["messages"].append({"role": "assistant", "content": reply_as_text(reply)})
        raw["messages"].append({"role": "user", "content": feedback})
        return repeated(call, self._call(raw, b""))

    def stream_filter(self, call: Call, guard: Guard) -> StreamFilter:
        """A filter applying ``guard``'s output checks to a ``chat.completion.chunk`` stream."""
        return OpenAIStreamFilter(self, call, guard)


#: The instance the registry (:mod:`guard.formats`) serves as ``openai.chat``.
FORMAT = OpenAIChat()
