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
  ``prompt``, and ``item_reference`` and ``compaction`` input items.

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
#: Responses fields that bring stored context into the call.
_STORED = ("previous_response_id", "conversation", "prompt")
#: Bytes of the body that must be present for a content part to be a document or a
#: stored item (``\\u``: a type spelt with escapes); else the walk is skipped.
_MARKERS = (b'"file"', b'"input_file"', b'"document"', b"item_reference", b"compaction", b"\\u")


@dataclass(slots=True)
class Unbounded:
    """What a request holds that its bytes cannot bound: field paths and uses."""

    paths: list[str] = field(default_factory=list)
    #: What each path is (``document``, ``tool``, ``stored``), by index.
    kinds: list[str] = field(default_factory=list)
    #: Uses to reserve for, summed over the paths.
    uses: int = 0

    def add(self, path: str, kind: str, uses: int) -> None:
        self.paths.append(path)
        self.kinds.append(kind)
        self.uses += uses


def reference_reservation(
    check: str, ceilings: Sequence[BudgetConfig], call: Call
) -> int | Verdict:
    """The input tokens to add to ``call``'s reservation for what its bytes cannot
    bound, on budgets ``ceilings`` (those with a USD or token limit): each use times the
    largest ``reference_tokens``; a refusal when one of them has none."""
    found = unbounded_inputs(call.raw, call.body)
    if found is None:
        return 0
    for budget in ceilings:
        if budget.reference_tokens is None:
            from guard.checks._budget_config import unbounded_verdict

            return unbounded_verdict(check, budget.name, found.paths, found.kinds)
    return max(b.reference_tokens or 0 for b in ceilings) * found.uses


def unbounded_inputs(raw: Any, body: bytes | None) -> Unbounded | None:
    """The inputs of request ``raw`` (its bytes ``body``, when known) that its bytes
    cannot bound; ``None`` when there are none."""
    if not isinstance(raw, dict):
        return None
    found = Unbounded()
    _tools(raw, found)
    for name in _STORED:
        if raw.get(name):
            found.add(name, "stored", 1)
    if body is None or any(marker in body for marker in _MARKERS):
        for key in ("messages", "input", "system"):
            value = raw.get(key)
            if isinstance(value, list | dict) and _any_part(value):
                _parts(value, key, found)
    return found if found.paths else None


def _tools(raw: dict[str, Any], found: Unbounded) -> None:
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
            found.add(f"tools[{k}]", "tool", uses if valid else DEFAULT_TOOL_USES)
        elif kind.startswith(_RESPONSES_TOOLS):
            responses.append(f"tools[{k}]")
    if responses:
        # max_tool_calls bounds the built-in tool calls of the whole response.
        for path in responses:
            found.add(path, "tool", 0)
        found.uses += calls if calls is not None else DEFAULT_TOOL_USES * len(responses)
    servers = raw.get("mcp_servers")
    for k, _ in enumerate(servers if isinstance(servers, list) else ()):
        found.add(f"mcp_servers[{k}]", "tool", DEFAULT_TOOL_USES)
    if isinstance(raw.get("web_search_options"), dict):
        found.add("web_search_options", "tool", DEFAULT_TOOL_USES)


def _kind(value: dict[str, Any]) -> str | None:
    """What part ``value`` is when its bytes cannot bound it (``document``, ``stored``)."""
    kind = value.get("type")
    if (kind == "file" and isinstance(value.get("file"), dict)) or kind == "input_file":
        return "document"
    if kind == "document":
        source = value.get("source")
        bounded = isinstance(source, dict) and source.get("type") in ("text", "content")
        return None if bounded else "document"
    if kind in ("item_reference", "compaction"):
        return "stored"
    return None


def _any_part(root: list[Any] | dict[str, Any]) -> bool:
    """Whether any part under ``root`` is one (a walk without paths: most are not)."""
    stack: list[Any] = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if _kind(value) is not None:
                return True
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _parts(root: list[Any] | dict[str, Any], path: str, found: Unbounded) -> None:
    """Documents and stored items anywhere under ``root`` (tool results included)."""
    stack: list[tuple[Any, str]] = [(root, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in reversed(list(enumerate(value))))
            continue
        if not isinstance(value, dict):
            continue
        kind = _kind(value)
        if kind is not None:
            found.add(f"{where}{_field(value)}", kind, 1)
            continue
        nested = [(item, f"{where}.{key}") for key, item in value.items()
                  if isinstance(item, list | dict)]  # fmt: skip
        stack.extend(reversed(nested))  # popped in the document's order


def _field(part: dict[str, Any]) -> str:
    """The field of a part that names what the provider reads: ``.file``, ``.source``,
    ``.file_id`` (nothing for a stored item: the part itself)."""
    for name in ("file", "source", "file_id", "file_url", "file_data"):
        if name in part:
            return f".{name}"
    return ""
