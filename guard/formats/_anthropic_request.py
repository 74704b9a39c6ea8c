"""The checked text of Anthropic messages requests and replies (see ``COVERAGE`` in
:mod:`guard.formats.anthropic`).

Requests: the ``system`` prompt (index ``-1``), every content block that carries text
(``text`` with its citations, ``thinking``, ``tool_result``, ``tool_use`` inputs leaf by
leaf, ``document`` sources, titles and context, ``search_result`` blocks, image and
document URLs, server tool results, and unknown block types generically), tool
descriptions with their input schemas, and ``metadata.user_id``. A block without a
``type`` is refused: the guard cannot know what the API would make of it.
"""

from __future__ import annotations

from typing import Any

from guard.errors import RequestError
from guard.formats._json import invalid, optional_object, text_of
from guard.formats._json_leaves import (
    NOT_TEXT,
    SCHEMA_STRUCTURE,
    plain_argument_segments,
    string_leaves,
)
from guard.types import JsonPath, Segment

#: Blocks with nothing the guard can read (encrypted or binary by reference).
_OPAQUE = frozenset({"redacted_thinking", "container_upload"})
#: Server tool result keys that identify or locate rather than carry text.
RESULT_STRUCTURE = NOT_TEXT | {"url", "page_age", "return_code", "retrieved_at", "file_type"}


def request_segments(raw: dict[str, Any], messages: list[Any]) -> list[Segment]:
    """The segments of a request: system prompt, messages, tools, metadata."""
    out: list[Segment] = []
    system = raw.get("system")
    if isinstance(system, str):
        out.append(Segment(system, ("system",), "system", "system", -1))
    elif isinstance(system, list):
        out += block_segments(system, "system", ("system",), "system", "system", -1)
    elif system is not None:
        raise invalid("system", "a string or a list of text blocks")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid(where, "an object")
        role = message.get("role")
        if not isinstance(role, str):
            raise invalid(f"{where}.role", "a string")
        content, path = message.get("content"), ("messages", i, "content")
        if isinstance(content, str):
            out.append(Segment(content, path, role, "message", i))
        elif isinstance(content, list):
            out += block_segments(content, f"{where}.content", path, role, "message", i)
        else:
            raise invalid(f"{where}.content", "a string or a list of content blocks")
    tools = raw.get("tools")
    for k, tool in enumerate(tools if isinstance(tools, list) else ()):
        if isinstance(tool, dict):
            out += _tool_segments(tool, ("tools", k))
    metadata = optional_object(raw, "metadata")
    user = metadata.get("user_id") if metadata is not None else None
    if user is not None:
        text = text_of(user, "metadata.user_id")
        out.append(Segment(text, ("metadata", "user_id"), "user", "metadata", -1))
    return out


def block_segments(
    blocks: list[Any], where: str, base: JsonPath, role: str, kind: str, index: int
) -> list[Segment]:
    """Segments of a list of content blocks at ``base``."""
    out: list[Segment] = []
    for j, block in enumerate(blocks):
        at = f"{where}[{j}]"
        if not isinstance(block, dict):
            raise invalid(at, "an object")
        block_type = block.get("type")
        if block_type is None:
            raise RequestError(f"'{at}.type' is required")
        if not isinstance(block_type, str):
            raise invalid(f"{at}.type", "a string")
        out += _block(block, block_type, at, (*base, j), role, kind, index)
    return out


def _block(
    block: dict[str, Any],
    block_type: str,
    at: str,
    path: JsonPath,
    role: str,
    kind: str,
    index: int,
) -> list[Segment]:
    if block_type == "text":
        text = text_of(block.get("text"), f"{at}.text")
        return [
            Segment(text, (*path, "text"), role, kind, index),
            *citations(block, path, role, index),
        ]
    if block_type == "thinking":
        text = text_of(block.get("thinking"), f"{at}.thinking")
        return [Segment(text, (*path, "thinking"), role, "reasoning", index)]
    if block_type == "tool_result":
        content, inner = block.get("content"), (*path, "content")
        if isinstance(content, str):
            return [Segment(content, inner, role, "tool_result", index)]
        if isinstance(content, list):
            return block_segments(content, f"{at}.content", inner, role, "tool_result", index)
        if content is not None:
            raise invalid(f"{at}.content", "a string or a list of content blocks")
        return []
    if block_type in ("tool_use", "server_tool_use"):
        tool_input = optional_object(block, "input", f"{at}.input")
        return plain_argument_segments(
            tool_input or {}, (*path, "input"), role, "tool_arguments", index
        )
    if block_type in ("document", "image"):
        return _source_segments(block, at, path, role, kind, index)
    if block_type in _OPAQUE:
        return []
    # search_result, server tool results, and block types this guard does not know:
    # every string in the block that may be text the model reads.
    skip = RESULT_STRUCTURE if block_type.endswith("_tool_result") else NOT_TEXT
    return [
        Segment(text, leaf, role, kind, index) for leaf, text in string_leaves(block, path, skip)
    ]


def _source_segments(
    block: dict[str, Any], at: str, path: JsonPath, role: str, kind: str, index: int
) -> list[Segment]:
    """A document's or image's text: text sources, content blocks, URLs, title, context."""
    out: list[Segment] = []
    source = optional_object(block, "source", f"{at}.source")
    source_type = source.get("type") if source is not None else None
    if source is not None and source_type == "text":
        data = text_of(source.get("data"), f"{at}.source.data")
        out.append(Segment(data, (*path, "source", "data"), role, kind, index))
    elif source is not None and source_type == "content":
        content = source.get("content")
        inner = (*path, "source", "content")
        if isinstance(content, str):
            out.append(Segment(content, inner, role, kind, index))
        elif isinstance(content, list):
            out += block_segments(content, f"{at}.source.content", inner, role, kind, index)
    elif source is not None and source_type == "url" and isinstance(source.get("url"), str):
        out.append(Segment(source["url"], (*path, "source", "url"), role, kind, index))
    for name in ("title", "context"):
        value = block.get(name)
        if value is not None:
            out.append(Segment(text_of(value, f"{at}.{name}"), (*path, name), role, kind, index))
    return out


#: The text fields of a citation, of every citation type: what it quotes, the cited
#: document's or page's title, a web search result's ``url`` and a search result's
#: ``source`` (retrieved, not written by the model, but shown to the client: a key in a
#: url's query leaks as surely as in the text). ``encrypted_index`` and ``file_id`` are
#: opaque handles, never edited.
CITATION_TEXT = ("cited_text", "document_title", "title", "url", "source")


def citations(block: dict[str, Any], path: JsonPath, role: str, index: int) -> list[Segment]:
    """The text of each citation of a text block at ``path`` (:data:`CITATION_TEXT`)."""
    found = block.get("citations")
    out: list[Segment] = []
    for k, citation in enumerate(found if isinstance(found, list) else ()):
        if not isinstance(citation, dict):
            continue
        for name in CITATION_TEXT:
            if isinstance(citation.get(name), str):
                where = (*path, "citations", k, name)
                out.append(Segment(citation[name], where, role, "context", index))
    return out


def server_tool_result(block: dict[str, Any], path: JsonPath, index: int) -> list[Segment]:
    """The text a server tool result carries (page text, titles, code output)."""
    return [
        Segment(text, leaf, "assistant", "tool_result", index)
        for leaf, text in string_leaves(block, path, RESULT_STRUCTURE)
    ]


def _tool_segments(tool: dict[str, Any], at: JsonPath) -> list[Segment]:
    out: list[Segment] = []
    description = tool.get("description")
    if isinstance(description, str):
        out.append(Segment(description, (*at, "description"), "system", "tool_definition", -1))
    for leaf, text in string_leaves(
        tool.get("input_schema"), (*at, "input_schema"), SCHEMA_STRUCTURE
    ):
        out.append(Segment(text, leaf, "system", "tool_definition", -1))
    return out
