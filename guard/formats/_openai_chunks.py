"""The shape of ``chat.completion.chunk`` choices: what a choice still says once its
text is held back, and the content part a flush chunk carries."""

from __future__ import annotations

from typing import Any


def part_holding(key: tuple[Any, ...], text: str, part_type: Any) -> Any:
    """A content part (of ``part_type``) with ``text`` at the key's place in it."""
    value: Any = text
    for step in reversed(key[3:]):
        value = {step: value} if isinstance(step, str) else [value]
    if isinstance(value, dict) and part_type is not None:
        value = {"type": part_type, **value}
    return value


def carries(item: Any) -> bool:
    """True if a choice of a chunk still says something once its text is empty."""
    if not isinstance(item, dict):
        return False
    if item.get("finish_reason") is not None or item.get("text"):
        return True
    delta = item.get("delta")
    for name, value in delta.items() if isinstance(delta, dict) else ():
        if name == "tool_calls":
            if isinstance(value, list) and any(_tool_carries(tool) for tool in value):
                return True
        elif value is not None and value != "":
            return True
    return False


def _tool_carries(tool: Any) -> bool:
    if not isinstance(tool, dict):
        return False
    function, custom = tool.get("function"), tool.get("custom")
    named = isinstance(function, dict) and bool(function.get("name") or function.get("arguments"))
    named |= isinstance(custom, dict) and bool(custom.get("name") or custom.get("input"))
    return bool(tool.get("id") or tool.get("type") or named)
