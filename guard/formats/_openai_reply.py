"""The checked text of an OpenAI chat completion reply message (see ``COVERAGE`` in
:mod:`guard.formats.openai`)."""

from __future__ import annotations

from typing import Any

from guard.formats._json_leaves import NOT_TEXT, argument_segments, string_leaves
from guard.types import Choice, JsonPath, Segment, ToolCall

#: Reply message fields checked as text besides ``content``, with their segment kind.
_REPLY_TEXT = (
    ("refusal", "message"),
    ("reasoning_content", "reasoning"),
    ("reasoning", "reasoning"),
)


def read_message(choice: Choice, message: dict[str, Any], at: JsonPath) -> None:
    """Fill ``choice`` with the checked text of a reply ``message`` at ``at``."""
    index = choice.index
    content = message.get("content")
    if isinstance(content, str):
        choice.text, choice.path = content, (*at, "content")
    elif isinstance(content, list):
        # Parts, as some OpenAI-compatible servers answer (the SDK passes them on as is).
        for where, text in string_leaves(content, (*at, "content"), NOT_TEXT):
            choice.extra.append(Segment(text, where, "assistant", "message", index))
    for name, kind in _REPLY_TEXT:
        if isinstance(message.get(name), str):
            choice.extra.append(Segment(message[name], (*at, name), "assistant", kind, index))
    # Web search citations: the title and url are reply text the client shows.
    for where, text in string_leaves(message.get("annotations"), (*at, "annotations"), NOT_TEXT):
        choice.extra.append(Segment(text, where, "assistant", "message", index))
    audio = message.get("audio")
    if isinstance(audio, dict) and isinstance(audio.get("transcript"), str):
        where = (*at, "audio", "transcript")
        choice.extra.append(Segment(audio["transcript"], where, "assistant", "message", index))
    tool_calls = message.get("tool_calls")
    # (id, name, arguments, path, free text?) of each tool call, in the message's order.
    found: list[tuple[Any, Any, Any, JsonPath, bool]] = []
    for k, tool in enumerate(tool_calls if isinstance(tool_calls, list) else ()):
        function = tool.get("function") if isinstance(tool, dict) else None
        custom = tool.get("custom") if isinstance(tool, dict) else None
        if isinstance(function, dict):
            path = (*at, "tool_calls", k, "function", "arguments")
            found.append(
                (tool.get("id"), function.get("name"), function.get("arguments"), path, False)
            )
        elif isinstance(custom, dict):  # a custom (free-form) tool: its input is plain text
            path = (*at, "tool_calls", k, "custom", "input")
            found.append((tool.get("id"), custom.get("name"), custom.get("input"), path, True))
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        path = (*at, "function_call", "arguments")
        found.append((None, legacy.get("name"), legacy.get("arguments"), path, False))
    for tool_id, tool_name, arguments, path, free_text in found:
        if not isinstance(arguments, str):
            continue
        segments = (
            [Segment(arguments, path, "assistant", "tool_arguments", index)]
            if free_text
            else argument_segments(arguments, path, "assistant", "tool_arguments", index)
        )
        named = tool_name if isinstance(tool_name, str) else ""
        choice.tool_calls.append(ToolCall(str(tool_id or ""), named, arguments, path, segments))
