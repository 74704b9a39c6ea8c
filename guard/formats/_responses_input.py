"""The checked text of a Responses API request (the format's request coverage table).

request field                                   -> segment kind, role
- ``instructions`` (a string, or input items)   -> system, system
- ``input`` (a string)                          -> message, user
- ``input[i]`` ``message`` content: a string, or ``input_text`` / ``output_text`` /
  ``refusal`` parts                             -> message (system for the system and
                                                   developer roles), the item's role
- ``input[i]`` ``function_call.arguments``,
  ``custom_tool_call.input``                    -> tool_arguments, assistant
- ``input[i]`` ``function_call_output`` / ``custom_tool_call_output`` ``output`` (a
  string, or ``input_text`` parts)              -> tool_result, tool
- ``input[i]`` ``reasoning`` ``summary[k].text`` and ``content[k].text``
                                                -> reasoning, assistant
- ``tools[k].description``                      -> tool_definition, system
- ``prompt.variables`` (strings, ``input_text``) -> message, user
- built-in tool items (MCP, shell, apply_patch, code interpreter, file search results,
  programs): their arguments, code and outputs -> tool_arguments / tool_result
  (see ``_TOOL_FIELDS``)

Images, files and audio are not text: their data and URLs are skipped. Function-call
arguments are one segment of JSON text (not one per JSON leaf). Other item types are
not checked. ``previous_response_id``, ``conversation``, ``prompt`` (a stored template),
``item_reference`` items and ``compaction`` items (encrypted) bring in text the upstream
stores and guardwire never saw: :func:`unguarded_history` names them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from guard.formats._json import invalid, text_of
from guard.types import JsonPath, Segment

#: Segment kind by message role; every other role is conversation text.
_KINDS = {"system": "system", "developer": "system"}
#: Content part type -> its text field (other parts carry no text).
_TEXT_PARTS = {"input_text": "text", "output_text": "text", "refusal": "refusal"}
#: Item type -> (its text field, segment kind, role) for single-string fields.
_STRING_FIELDS = {
    "function_call": ("arguments", "tool_arguments", "assistant"),
    "custom_tool_call": ("input", "tool_arguments", "assistant"),
}
_OUTPUT_ITEMS = ("function_call_output", "custom_tool_call_output")
_ARGUMENTS, _RESULT = ("tool_arguments", "assistant"), ("tool_result", "tool")
#: Built-in tool items of the history: item type -> (field path, ``*`` standing for
#: every list element; segment kind, role). Fields of another type are skipped.
_TOOL_FIELDS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, str]], ...]] = {
    "mcp_call": ((("arguments",), _ARGUMENTS), (("output",), _RESULT)),
    "mcp_approval_request": ((("arguments",), _ARGUMENTS),),
    "mcp_approval_response": ((("reason",), ("message", "user")),),
    "mcp_list_tools": ((("tools", "*", "description"), ("tool_definition", "system")),),
    "local_shell_call": ((("action", "command", "*"), _ARGUMENTS),),
    "local_shell_call_output": ((("output",), _RESULT),),
    "shell_call": ((("action", "commands", "*"), _ARGUMENTS),),
    "shell_call_output": (
        (("output", "*", "stdout"), _RESULT),
        (("output", "*", "stderr"), _RESULT),
    ),
    "apply_patch_call": ((("operation", "diff"), _ARGUMENTS),),
    "apply_patch_call_output": ((("output",), _RESULT),),
    "code_interpreter_call": ((("code",), _ARGUMENTS), (("outputs", "*", "logs"), _RESULT)),
    "file_search_call": ((("results", "*", "text"), _RESULT),),
    "program": ((("code",), _ARGUMENTS),),
    "program_output": ((("result",), _RESULT),),
    "image_generation_call": ((("revised_prompt",), ("message", "assistant")),),
}


def _content(
    content: Any, where: str, path: JsonPath, role: str, kind: str, index: int
) -> list[Segment]:
    """Segments of message content or tool output: a string or a list of parts."""
    if isinstance(content, str):
        return [Segment(content, path, role, kind, index)]
    if not isinstance(content, list):
        raise invalid(where, "a string or a list of content parts")
    out: list[Segment] = []
    for j, part in enumerate(content):
        if not isinstance(part, dict):
            raise invalid(f"{where}[{j}]", "an object")
        field = _TEXT_PARTS.get(part.get("type"))  # type: ignore[arg-type]
        if field is not None:
            text = text_of(part.get(field), f"{where}[{j}].{field}")
            out.append(Segment(text, (*path, j, field), role, kind, index))
    return out


def _item(item: Any, where: str, path: JsonPath, index: int) -> list[Segment]:
    """Segments of one input item (index: its position; ``-1`` for instructions)."""
    if not isinstance(item, dict):
        raise invalid(where, "an object")
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if not isinstance(role, str):
            raise invalid(f"{where}.role", "a string")
        content = item.get("content")
        segment_kind = _KINDS.get(role, "message")
        return _content(content, f"{where}.content", (*path, "content"), role, segment_kind, index)
    if kind in _STRING_FIELDS:
        field, segment_kind, role = _STRING_FIELDS[kind]
        if field not in item:
            return []
        text = text_of(item[field], f"{where}.{field}")
        return [Segment(text, (*path, field), role, segment_kind, index)]
    if kind in _OUTPUT_ITEMS:
        if item.get("output") is None:
            return []
        at = (*path, "output")
        return _content(item["output"], f"{where}.output", at, "tool", "tool_result", index)
    if kind == "reasoning":
        out: list[Segment] = []
        for name in ("summary", "content"):
            parts = item.get(name)
            if parts is None:
                continue
            if not isinstance(parts, list):
                raise invalid(f"{where}.{name}", "a list")
            for k, part in enumerate(parts):
                if isinstance(part, dict) and part.get("type") in (
                    "summary_text",
                    "reasoning_text",
                ):
                    text = text_of(part.get("text"), f"{where}.{name}[{k}].text")
                    place = (*path, name, k, "text")
                    out.append(Segment(text, place, "assistant", "reasoning", index))
        return out
    found: list[Segment] = []
    for steps, (segment_kind, role) in _TOOL_FIELDS.get(kind, ()):
        for place, text in _strings(item, steps, path):
            found.append(Segment(text, place, role, segment_kind, index))
    return found


def _strings(value: Any, steps: tuple[str, ...], path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """The strings at ``steps`` below ``value`` (``*``: every element of a list)."""
    if not steps:
        if isinstance(value, str):
            yield path, value
    elif steps[0] == "*":
        for k, element in enumerate(value if isinstance(value, list) else ()):
            yield from _strings(element, steps[1:], (*path, k))
    elif isinstance(value, dict) and steps[0] in value:
        yield from _strings(value[steps[0]], steps[1:], (*path, steps[0]))


def input_segments(raw: dict[str, Any]) -> list[Segment]:
    """Every checked text of a request body, in the order the model reads it."""
    out: list[Segment] = []
    instructions = raw.get("instructions")
    if isinstance(instructions, str):
        out.append(Segment(instructions, ("instructions",), "system", "system", -1))
    elif isinstance(instructions, list):
        for i, item in enumerate(instructions):
            for segment in _item(item, f"instructions[{i}]", ("instructions", i), -1):
                segment.kind = "system"
                out.append(segment)
    elif instructions is not None:
        raise invalid("instructions", "a string or a list of input items")
    out += _tool_descriptions(raw)
    value = raw.get("input")
    if isinstance(value, str):
        out.append(Segment(value, ("input",), "user", "message", 0))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _item(item, f"input[{i}]", ("input", i), i)
    elif value is not None:
        raise invalid("input", "a string or a list of input items")
    return out + _prompt_variables(raw)


def _tool_descriptions(raw: dict[str, Any]) -> list[Segment]:
    out: list[Segment] = []
    tools = raw.get("tools")
    for k, tool in enumerate(tools if isinstance(tools, list) else ()):
        description = tool.get("description") if isinstance(tool, dict) else None
        if isinstance(description, str) and description:
            place = ("tools", k, "description")
            out.append(Segment(description, place, "system", "tool_definition", -1))
    return out


def _prompt_variables(raw: dict[str, Any]) -> list[Segment]:
    """The values of a stored prompt template's variables (strings or ``input_text``)."""
    out: list[Segment] = []
    prompt = raw.get("prompt")
    variables = prompt.get("variables") if isinstance(prompt, dict) else None
    for name, value in variables.items() if isinstance(variables, dict) else ():
        place: JsonPath = ("prompt", "variables", name)
        if isinstance(value, dict) and value.get("type") == "input_text":
            value, place = value.get("text"), (*place, "text")
        if isinstance(value, str):
            out.append(Segment(value, place, "user", "message", 0))
    return out


def unguarded_history(raw: dict[str, Any]) -> list[str]:
    """Request fields that make the model read stored text guardwire never checked."""
    found = [name for name in ("previous_response_id", "conversation", "prompt") if raw.get(name)]
    items = raw.get("input")
    for name in ("item_reference", "compaction"):
        if isinstance(items, list) and any(
            isinstance(item, dict) and item.get("type") == name for item in items
        ):
            found.append(name)
    return found


def tool_specs(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Function and custom tools as ``{name, description, parameters}``."""
    tools = raw.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid("tools", "a list")
    out: list[dict[str, Any]] = []
    for k, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise invalid(f"tools[{k}]", "an object")
        if tool.get("type") in ("function", "custom"):
            out.append(
                {
                    "name": text_of(tool.get("name"), f"tools[{k}].name"),
                    "description": tool.get("description") or "",
                    "parameters": tool.get("parameters"),
                }
            )
    return out
