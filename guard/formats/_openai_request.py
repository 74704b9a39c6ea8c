"""The checked text of an OpenAI chat completions request (see ``COVERAGE`` in
:mod:`guard.formats.openai`).

Everything the model reads becomes a segment: message content (strings, ``text``,
``refusal`` and ``input_text`` parts, image URLs that are not ``data:`` URLs, and the
text of content parts of unknown types), message ``name``, tool-call arguments (one
segment per decoded string leaf), tool and function descriptions with the descriptions
inside their parameter schemas, ``response_format`` schemas, ``prediction`` content, and
the ``user`` / ``metadata`` values.
"""

from __future__ import annotations

from typing import Any

from guard.formats._json import invalid, optional_object, text_of
from guard.formats._json_leaves import NOT_TEXT, SCHEMA_STRUCTURE, argument_segments, string_leaves
from guard.types import JsonPath, Segment

#: Segment kind by message role; every other role is conversation text.
KINDS = {
    "system": "system",
    "developer": "system",
    "tool": "tool_result",
    "function": "tool_result",
}
#: Content parts that carry no text the guard can read (binary data by reference).
_BINARY_PARTS = frozenset({"input_audio", "file", "image_file"})


def request_segments(raw: dict[str, Any], messages: list[Any]) -> list[Segment]:
    """The segments of a request: messages first, then the other model-visible fields."""
    out = message_segments(messages)
    out += _tool_segments(raw, "tools")
    out += _tool_segments(raw, "functions")
    response_format = optional_object(raw, "response_format")
    schema = optional_object(response_format, "json_schema", "response_format.json_schema")
    if schema is not None:
        out += _schema_segments(schema, ("response_format", "json_schema"))
    out += _prediction_segments(raw)
    user = raw.get("user")
    if user is not None:
        out.append(Segment(text_of(user, "user"), ("user",), "user", "metadata", -1))
    metadata = optional_object(raw, "metadata")
    for key, value in (metadata or {}).items():
        if not isinstance(value, str):  # (the key is caller data: the message names none)
            raise invalid("metadata", "an object whose values are strings")
        out.append(Segment(value, ("metadata", key), "user", "metadata", -1))
    return out


def message_segments(messages: list[Any]) -> list[Segment]:
    """The segments of ``messages`` (also used by the text format of ``wrap``)."""
    out: list[Segment] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid(where, "an object")
        role = message.get("role")
        if not isinstance(role, str):
            raise invalid(f"{where}.role", "a string")
        kind = KINDS.get(role, "message")
        name = message.get("name")
        if name is not None:
            out.append(
                Segment(text_of(name, f"{where}.name"), ("messages", i, "name"), role, kind, i)
            )
        content = message.get("content")
        if isinstance(content, str):
            out.append(Segment(content, ("messages", i, "content"), role, kind, i))
        elif isinstance(content, list):
            for j, part in enumerate(content):
                out += _part_segments(
                    part, f"{where}.content[{j}]", ("messages", i, "content", j), role, kind, i
                )
        elif content is not None:
            raise invalid(f"{where}.content", "a string, a list of content parts or null")
        tool_calls = message.get("tool_calls")
        if tool_calls is not None:
            if not isinstance(tool_calls, list):
                raise invalid(f"{where}.tool_calls", "a list")
            for k, tool in enumerate(tool_calls):
                function = optional_object(tool, "function", f"{where}.tool_calls[{k}].function")
                if function is not None and "arguments" in function:
                    at = f"{where}.tool_calls[{k}].function.arguments"
                    path = ("messages", i, "tool_calls", k, "function", "arguments")
                    text = text_of(function["arguments"], at)
                    out += argument_segments(text, path, role, "tool_arguments", i)
                custom = optional_object(tool, "custom", f"{where}.tool_calls[{k}].custom")
                if custom is not None and "input" in custom:
                    # A custom (free-form) tool's input is plain text, not JSON.
                    text = text_of(custom["input"], f"{where}.tool_calls[{k}].custom.input")
                    path = ("messages", i, "tool_calls", k, "custom", "input")
                    out.append(Segment(text, path, role, "tool_arguments", i))
        # The deprecated single ``function_call`` of older clients.
        legacy = optional_object(message, "function_call", f"{where}.function_call")
        if legacy is not None and "arguments" in legacy:
            text = text_of(legacy["arguments"], f"{where}.function_call.arguments")
            place = ("messages", i, "function_call", "arguments")
            out += argument_segments(text, place, role, "tool_arguments", i)
    return out


def _part_segments(
    part: Any, where: str, path: JsonPath, role: str, kind: str, index: int
) -> list[Segment]:
    if not isinstance(part, dict):
        raise invalid(where, "an object")
    field = part.get("type")
    if field in ("text", "refusal", "input_text"):
        name = "refusal" if field == "refusal" else "text"  # (``input_text`` has ``text``)
        text = text_of(part.get(name), f"{where}.{name}")
        return [Segment(text, (*path, name), role, kind, index)]
    if field == "image_url":
        image = optional_object(part, "image_url", f"{where}.image_url")
        url = image.get("url") if image is not None else None
        if isinstance(url, str) and not url.startswith("data:"):
            # A URL is read by the model (and fetched by the provider): names in it count.
            return [Segment(url, (*path, "image_url", "url"), role, kind, index)]
        return []
    if field in _BINARY_PARTS:
        return []
    # A part type this guard does not know: every string in it that may be text.
    return [
        Segment(text, leaf, role, kind, index) for leaf, text in string_leaves(part, path, NOT_TEXT)
    ]


def _tool_segments(raw: dict[str, Any], name: str) -> list[Segment]:
    """Descriptions and parameter schemas of ``tools[]`` (or legacy ``functions[]``)."""
    tools = raw.get(name)
    if not isinstance(tools, list):
        return []  # (``tools`` is validated by the format's tool parser)
    out: list[Segment] = []
    for k, tool in enumerate(tools):
        if not isinstance(tool, dict):
            continue
        spec: Any = tool
        at: JsonPath = (name, k)
        if name == "tools":
            kind = tool.get("type", "function")
            spec = tool.get(kind) if isinstance(kind, str) else None
            at = (name, k, kind)
        if isinstance(spec, dict):
            out += _schema_segments(spec, at)
    return out


def _schema_segments(spec: dict[str, Any], at: JsonPath) -> list[Segment]:
    """``description`` of a tool or schema holder, and the strings in its schema."""
    out: list[Segment] = []
    description = spec.get("description")
    if isinstance(description, str):
        out.append(Segment(description, (*at, "description"), "system", "tool_definition", -1))
    for key in ("parameters", "schema"):
        for leaf, text in string_leaves(spec.get(key), (*at, key), SCHEMA_STRUCTURE):
            out.append(Segment(text, leaf, "system", "tool_definition", -1))
    return out


def _prediction_segments(raw: dict[str, Any]) -> list[Segment]:
    """``prediction.content``: the text the model is told to expect (string or parts)."""
    prediction = optional_object(raw, "prediction")
    if prediction is None:
        return []
    content = prediction.get("content")
    if isinstance(content, str):
        return [Segment(content, ("prediction", "content"), "user", "message", -1)]
    if not isinstance(content, list):
        if content is None:
            return []
        raise invalid("prediction.content", "a string or a list of text parts")
    out: list[Segment] = []
    for j, part in enumerate(content):
        out += _part_segments(
            part, f"prediction.content[{j}]", ("prediction", "content", j), "user", "message", -1
        )
    return out
