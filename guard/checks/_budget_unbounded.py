"""Inputs a request's bytes cannot bound, for the budget's reservation.

The reservation's input bound is the request body's UTF-8 bytes plus framing
(:mod:`guard.checks._tokens`). Some inputs are read by the provider from elsewhere, or
grow once the call runs, so no count of the body bounds them:

- **documents**: a file by reference (chat's ``file`` part, Responses' ``input_file``,
  Anthropic's ``document`` with a ``url``, ``file`` or ``base64`` source). A PDF is
  read as text *and* an image of each page: even sent inline, its tokens are not
  bounded by its (compressed) bytes. A ``document`` with a ``text`` or ``content``
  source is text in the body: bounded.
- **provider-side tools**: Responses' ``web_search*``, ``file_search``,
  ``code_interpreter``, ``image_generation`` and ``mcp`` tools, chat's
  ``web_search_options``, Anthropic's ``web_search_*``, ``web_fetch_*`` and
  ``code_execution_*`` tools and ``mcp_servers``: their results join the input.
- **stored context**: Responses' ``previous_response_id``, ``conversation``, a stored
  ``prompt``, and ``item_reference`` and ``compaction`` input items; chat's earlier
  assistant audio sent back by ``id`` (``messages[i].audio``).

Images are bounded by the per-image bound whatever their source (the provider resizes
every image to its own maximum), so an image URL is not listed here.

:func:`unbounded_inputs` names each such input by its field path (never its value) and
counts the *uses* to reserve for: one per document or stored context, a tool's
``max_uses`` (Anthropic) or the request's ``max_tool_calls`` (Responses), else
:data:`DEFAULT_TOOL_USES`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from guard.types import Verdict

if TYPE_CHECKING:
    from guard.checks._budget_config import BudgetConfig
    from guard.types import Call

#: Uses reserved for a provider-side tool that states no bound of its own.
DEFAULT_TOOL_USES = 10

#: Responses tool types run by the provider (prefixes: ``web_search_preview_2025_03_11``).
_RESPONSES_TOOLS = ("web_search", "file_search", "code_interpreter", "image_generation", "mcp")
#: Anthropic server tool types: a name and an eight-digit date (``web_search_20250305``;
#: Responses dates its names with underscores: ``web_search_2025_08_26``).
_ANTHROPIC_TOOLS = re.compile(r"(?:web_search|web_fetch|code_execution)_[0-9]{8}")
#: The wire formats whose requests are read.
_APIS = frozenset({"openai.chat", "openai.responses", "anthropic.messages"})
#: Responses fields that bring stored context into the call.
_STORED = ("previous_response_id", "conversation", "prompt")
#: Responses input items that bring stored context in.
_STORED_ITEMS = ("item_reference", "compaction")


@dataclass(slots=True)
class Unbounded:
    """What a request holds that its bytes cannot bound: field paths and uses."""

    paths: list[str] = field(default_factory=list)
    #: What each path is (``document``, ``tool``, ``stored``), by index.
    kinds: list[str] = field(default_factory=list)
    #: Uses to reserve for, summed over the paths.
    uses: int = 0

    def add(self, path: str, kind: str, uses: int) -> Unbounded:
        self.paths.append(path)
        self.kinds.append(kind)
        self.uses += uses
        return self


def _add(found: Unbounded | None, path: str, kind: str, uses: int) -> Unbounded:
    """``found`` with one more input (made on the first: most calls have none)."""
    return (found or Unbounded()).add(path, kind, uses)


def reference_reservation(
    check: str, ceilings: Sequence[BudgetConfig], call: Call
) -> int | Verdict:
    """The input tokens to add to ``call``'s reservation for what its bytes cannot
    bound, on budgets ``ceilings`` (those with a USD or token limit): each use times the
    largest ``reference_tokens``; a refusal when one of them has none."""
    found = unbounded_inputs(call.raw, call.format)
    if found is None:
        return 0
    for budget in ceilings:
        if budget.reference_tokens is None:
            from guard.checks._budget_config import unbounded_verdict

            return unbounded_verdict(check, budget.name, found.paths, found.kinds)
    return max(b.reference_tokens or 0 for b in ceilings) * found.uses


def unbounded_inputs(raw: Any, api: str) -> Unbounded | None:
    """The inputs of request ``raw`` of wire format ``api`` that its bytes cannot bound;
    ``None`` when there are none (and for formats other than the three model APIs: a
    wrapped function's arguments are no request)."""
    if api not in _APIS or not isinstance(raw, dict):
        return None
    found = None
    if raw.get("tools") or raw.get("mcp_servers") or "web_search_options" in raw:
        found = _tools(raw)
    for name in _STORED if api == "openai.responses" else ():
        if raw.get(name):
            found = _add(found, name, "stored", 1)
    for key in ("messages", "input"):
        messages = raw.get(key)
        if type(messages) is not list:
            continue
        for i, message in enumerate(messages):
            # Most messages are one string of content: one look, then the next.
            if type(message) is dict and (
                type(message.get("content")) is list
                or "output" in message
                or "type" in message
                or "audio" in message
            ):
                found = _message(message, key, i, found)
    return found


def _message(
    message: dict[str, Any], key: str, i: int, found: Unbounded | None
) -> Unbounded | None:
    """What message (or input item) ``key[i]`` holds that its bytes cannot bound."""
    if message.get("type") in _STORED_ITEMS:
        return _add(found, f"{key}[{i}]", "stored", 1)
    if type(message.get("audio")) is dict:  # an earlier reply's audio, by id
        found = _add(found, f"{key}[{i}].audio", "stored", 1)
    return _parts(message, (key, i), found)


def _tools(raw: dict[str, Any]) -> Unbounded | None:
    found = None
    tools = raw.get("tools")
    limit = raw.get("max_tool_calls")
    calls = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else None
    responses: list[str] = []
    for k, tool in enumerate(tools if isinstance(tools, list) else ()):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if not isinstance(kind, str):
            continue
        if _ANTHROPIC_TOOLS.fullmatch(kind):
            uses = tool.get("max_uses")
            valid = isinstance(uses, int) and not isinstance(uses, bool) and uses > 0
            found = _add(found, f"tools[{k}]", "tool", uses if valid else DEFAULT_TOOL_USES)
        elif kind.startswith(_RESPONSES_TOOLS):
            responses.append(f"tools[{k}]")
    if responses:
        # max_tool_calls bounds the built-in tool calls of the whole response.
        for path in responses:
            found = _add(found, path, "tool", 0)
        assert found is not None
        found.uses += calls if calls is not None else DEFAULT_TOOL_USES * len(responses)
    servers = raw.get("mcp_servers")
    for k, _ in enumerate(servers if isinstance(servers, list) else ()):
        found = _add(found, f"mcp_servers[{k}]", "tool", DEFAULT_TOOL_USES)
    if isinstance(raw.get("web_search_options"), dict):
        found = _add(found, "web_search_options", "tool", DEFAULT_TOOL_USES)
    return found


def _kind(value: dict[str, Any]) -> str | None:
    """``document`` when part ``value`` is one its bytes cannot bound."""
    kind = value.get("type")
    if (kind == "file" and isinstance(value.get("file"), dict)) or kind == "input_file":
        return "document"
    if kind == "document":
        source = value.get("source")
        bounded = isinstance(source, dict) and source.get("type") in ("text", "content")
        return None if bounded else "document"
    return None


def _parts(
    message: dict[str, Any], where: tuple[str | int, ...], found: Unbounded | None
) -> Unbounded | None:
    """Documents in a message's (or input item's) content, and in the content of the
    tool results in it: where the APIs take them. ``where`` is the message's path, spelt
    only for what is found (most messages hold none)."""
    for name in ("content", "output"):
        parts = message.get(name)
        if not isinstance(parts, list):
            continue
        for j, part in enumerate(parts):
            if not isinstance(part, dict):
                continue
            if _kind(part) is not None:
                found = _add(found, _spell((*where, name, j)) + _field(part), "document", 1)
            elif isinstance(part.get("content"), list):  # a tool result's parts
                found = _parts(part, (*where, name, j), found)
    return found


def _spell(where: tuple[str | int, ...]) -> str:
    """``messages[0].content[1]``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")


def _field(part: dict[str, Any]) -> str:
    """The field of a part that names what the provider reads: ``.file``, ``.source``,
    ``.file_id``."""
    for name in ("file", "source", "file_id", "file_url", "file_data"):
        if name in part:
            return f".{name}"
    return ""
