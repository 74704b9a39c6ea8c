"""Reply patches: typed changes an output check asks for, written into the reply in the
shape of its API (see :mod:`guard.patches`).

:class:`~guard.patches.DropToolCalls` removes tool calls: an OpenAI ``tool_calls`` entry
or legacy ``function_call`` (an emptied list goes and ``finish_reason`` becomes ``stop``;
the content stays), an Anthropic ``tool_use`` block (``stop_reason`` becomes
``end_turn`` when no tool call is left) or a Responses ``function_call`` /
``custom_tool_call`` output item.
The reply's choices are then read again from the edited body, so every later step
(restores, rendering a buffered stream) sees the reply as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from guard.patches import DropToolCalls
from guard.types import JsonPath, Reply

#: Format -> how far up a tool call's argument path its entry in a list sits.
_ENTRY_DEPTH = {"openai.chat": 2, "anthropic.messages": 1, "openai.responses": 1}

#: Formats that can remove a tool call from a reply.
DROPS_TOOL_CALLS = frozenset(_ENTRY_DEPTH)


def apply_reply_patches(
    reply: Reply, patches: Sequence[Any], reread: Callable[[dict[str, Any]], Reply]
) -> list[Any]:
    """Write ``patches`` into ``reply`` (``reread`` parses the edited raw body); return
    those the reply's format cannot express (the caller must not let them pass)."""
    skipped: list[Any] = []
    for patch in patches:
        if not (isinstance(patch, DropToolCalls) and _drop(reply, patch)):
            skipped.append(patch)
            continue
        fresh = reread(reply.raw)
        reply.choices = fresh.choices
        reply.body = b""
    return skipped


def _drop(reply: Reply, patch: DropToolCalls) -> bool:
    depth = _ENTRY_DEPTH.get(reply.format)
    if depth is None or not isinstance(reply.raw, dict):
        return False
    entries: list[JsonPath] = []
    legacy: list[JsonPath] = []
    for choice_at, call_at in patch.positions:
        try:
            path = reply.choices[choice_at].tool_calls[call_at].path
        except IndexError:
            return False
        if path is None or len(path) <= depth:
            return False
        if reply.format == "openai.chat" and path[-2] == "function_call":
            legacy.append(path[:-2])  # the message of a deprecated single function_call
        else:
            entries.append(path[:-depth])
    for message_at in legacy:
        _openai_without_function_call(reply.raw, message_at)
    containers: set[JsonPath] = set()
    # Highest index first, so earlier removals do not move the later ones.
    for entry in sorted(entries, key=lambda e: (e[:-1], e[-1]), reverse=True):
        container = _at(reply.raw, entry[:-1])
        if not isinstance(container, list) or not isinstance(entry[-1], int):
            return False
        del container[entry[-1]]
        containers.add(entry[:-1])
    if reply.format == "openai.chat":
        for container in containers:
            _openai_without_tools(reply.raw, container)
    elif reply.format == "anthropic.messages":
        _anthropic_stop(reply.raw)
    return True


def _at(document: Any, path: JsonPath) -> Any:
    for step in path:
        document = document[step]
    return document


def _openai_without_tools(raw: dict[str, Any], tool_calls: JsonPath) -> None:
    """An emptied ``tool_calls`` list goes; the choice then ends like a text reply."""
    message = _at(raw, tool_calls[:-1])
    if message.get("tool_calls"):
        return
    message.pop("tool_calls", None)
    choice = _at(raw, tool_calls[:-2])
    if isinstance(choice, dict) and choice.get("finish_reason") in ("tool_calls", "function_call"):
        choice["finish_reason"] = "stop"


def _openai_without_function_call(raw: dict[str, Any], message_at: JsonPath) -> None:
    """A removed legacy ``function_call``: the choice then ends like a text reply."""
    message = _at(raw, message_at)
    message.pop("function_call", None)
    if message.get("content") is None and not message.get("tool_calls"):
        message["content"] = ""
    choice = _at(raw, message_at[:-1])
    if isinstance(choice, dict) and choice.get("finish_reason") == "function_call":
        choice["finish_reason"] = "stop"


def _anthropic_stop(raw: dict[str, Any]) -> None:
    content = raw.get("content")
    blocks = content if isinstance(content, list) else []
    left = any(isinstance(b, dict) and b.get("type") == "tool_use" for b in blocks)
    if not left and raw.get("stop_reason") == "tool_use":
        raw["stop_reason"] = "end_turn"
