"""Where a Responses API output item keeps its text: the format's reply coverage table.

output item            text field                     -> segment kind, stream key
- ``message``          ``content[j].text`` (output_text) -> message, ``("text", item, j)``
- ``message``          ``content[j].refusal``         -> message, ``("refusal", item, j)``
- ``message``          ``content[j].annotations[a].title``, ``.url`` (url_citation) (2)
                                         -> message (1), ``("annotation", item, j, a, field)``
- ``function_call``    ``arguments`` (one JSON text)  -> tool_arguments, ``("tool", item)``
- ``custom_tool_call`` ``input``                      -> tool_arguments, ``("tool", item)``
- ``reasoning``        ``summary[k].text``            -> message (1), ``("summary", item, k)``
- ``reasoning``        ``content[k].text``            -> message (1), ``("reasoning", item, k)``
- ``mcp_call``         ``arguments``                  -> message (1), ``("mcp", item)``
- ``mcp_call``         ``output`` (2)                 -> message (1), ``("mcp_output", item)``
- ``code_interpreter_call`` ``code``                  -> message (1), ``("code", item)``
- ``code_interpreter_call`` ``outputs[k].logs`` (2)   -> message (1), ``("logs", item, k)``
- ``file_search_call`` ``results[k].text`` (2)        -> message (1), ``("search", item, k)``
- ``web_search_call``  ``action.query``, ``.queries[k]``, ``.pattern`` (2)
                                                      -> message (1), ``("query", item, n)``

(1) Checked as choice index 1, so that ``Reply.text`` (what schema, grounding and reask
read) is the answer alone. (2) No delta events carry it: a stream sends it whole in
``output_item.done`` (and the terminal event; an annotation also in
``response.output_text.annotation.added`` and ``content_part.done``), rewritten like any
other text. Other known item types (images, shell and patch calls: ``NOT_CHECKED_ITEMS``)
are not checked as text; an item of a type this version does not know has each of its
strings checked, whole (kind ``other``, like (2)).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

from guard.formats._json_leaves import NOT_TEXT, string_leaves
from guard.types import JsonPath

#: Stream key kind -> (delta event type, the event's index field or ``None``).
DELTA_EVENTS: dict[str, tuple[str, str | None]] = {
    "text": ("response.output_text.delta", "content_index"),
    "refusal": ("response.refusal.delta", "content_index"),
    "tool": ("response.function_call_arguments.delta", None),
    "summary": ("response.reasoning_summary_text.delta", "summary_index"),
    "reasoning": ("response.reasoning_text.delta", "content_index"),
    "mcp": ("response.mcp_call_arguments.delta", None),
    "code": ("response.code_interpreter_call_code.delta", None),
}
#: Stream key kinds no delta event carries (text that only ever arrives whole).
WHOLE_ONLY = ("mcp_output", "logs", "search", "other", "annotation", "query")
#: The event that adds one annotation (a web search citation) to an ``output_text`` part.
ANNOTATION_ADDED = "response.output_text.annotation.added"
#: Known output item types whose strings are not checked as text (see above).
NOT_CHECKED_ITEMS = frozenset(
    {
        "image_generation_call",
        "local_shell_call",
        "shell_call",
        "shell_call_output",
        "apply_patch_call",
        "apply_patch_call_output",
        "computer_call",
        "mcp_list_tools",
        "mcp_approval_request",
    }
)
#: Delta event type -> stream key kind (custom tool input shares ``tool``).
DELTA_KINDS = {event: kind for kind, (event, _) in DELTA_EVENTS.items()}
DELTA_KINDS["response.custom_tool_call_input.delta"] = "tool"
#: ``.done`` event type -> (stream key kind, field holding the whole text).
DONE_EVENTS = {
    "response.output_text.done": ("text", "text"),
    "response.refusal.done": ("refusal", "refusal"),
    "response.function_call_arguments.done": ("tool", "arguments"),
    "response.custom_tool_call_input.done": ("tool", "input"),
    "response.reasoning_summary_text.done": ("summary", "text"),
    "response.reasoning_text.done": ("reasoning", "text"),
    "response.mcp_call_arguments.done": ("mcp", "arguments"),
    "response.code_interpreter_call_code.done": ("code", "code"),
}
#: Part type -> (stream key kind, text field) for content and summary parts.
PARTS = {
    "output_text": ("text", "text"),
    "refusal": ("refusal", "refusal"),
    "reasoning_text": ("reasoning", "text"),
    "summary_text": ("summary", "text"),
}


def stream_key(kind: str, payload: dict[str, Any]) -> Hashable | None:
    """The stream key of a delta or done event of ``kind``, or ``None`` if malformed."""
    item = payload.get("output_index")
    if not isinstance(item, int):
        return None
    field = DELTA_EVENTS[kind][1]
    if field is None:
        return (kind, item)
    number = payload.get(field)
    return (kind, item, number) if isinstance(number, int) else None


def _parts(item: dict[str, Any], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    parts = item.get(name)
    for number, part in enumerate(parts if isinstance(parts, list) else ()):
        if isinstance(part, dict):
            yield number, part


def item_texts(item: Any, index: int) -> Iterator[tuple[Hashable, JsonPath, str]]:
    """``(stream key, path inside the item, text)`` of each text field of output item
    ``item`` at ``output[index]`` (fields of the wrong type are skipped)."""
    if not isinstance(item, dict):
        return
    kind = item.get("type")
    if kind == "message":
        for j, part in _parts(item, "content"):
            found = PARTS.get(part.get("type"))  # type: ignore[arg-type]
            if found is not None and found[0] in ("text", "refusal"):
                text = part.get(found[1])
                if isinstance(text, str):
                    yield (found[0], index, j), ("content", j, found[1]), text
            for (a, field), path, text in annotation_texts(part):
                yield ("annotation", index, j, a, field), ("content", j, *path), text
    elif kind in ("function_call", "custom_tool_call"):
        name = "arguments" if kind == "function_call" else "input"
        if isinstance(item.get(name), str):
            yield ("tool", index), (name,), item[name]
    elif kind == "reasoning":
        for k, part in _parts(item, "summary"):
            if isinstance(part.get("text"), str):
                yield ("summary", index, k), ("summary", k, "text"), part["text"]
        for k, part in _parts(item, "content"):
            if part.get("type") == "reasoning_text" and isinstance(part.get("text"), str):
                yield ("reasoning", index, k), ("content", k, "text"), part["text"]
    elif kind == "mcp_call":
        for name, key_kind in (("arguments", "mcp"), ("output", "mcp_output")):
            if isinstance(item.get(name), str):
                yield (key_kind, index), (name,), item[name]
    elif kind == "code_interpreter_call":
        if isinstance(item.get("code"), str):
            yield ("code", index), ("code",), item["code"]
        for k, part in _parts(item, "outputs"):
            if isinstance(part.get("logs"), str):
                yield ("logs", index, k), ("outputs", k, "logs"), part["logs"]
    elif kind == "file_search_call":
        for k, part in _parts(item, "results"):
            if isinstance(part.get("text"), str):
                yield ("search", index, k), ("results", k, "text"), part["text"]
    elif kind == "web_search_call":
        action = item.get("action")
        action = action if isinstance(action, dict) else {}
        queries = action.get("queries")
        # What the model searched for: the query (or queries), a find-in-page pattern.
        asked: list[tuple[JsonPath, Any]] = [
            (("action", "query"), action.get("query")),
            (("action", "pattern"), action.get("pattern")),
        ]
        asked += [
            (("action", "queries", k), q)
            for k, q in enumerate(queries if isinstance(queries, list) else ())
        ]
        for n, (path, text) in enumerate(asked):
            if isinstance(text, str):
                yield ("query", index, n), path, text
    elif isinstance(kind, str) and kind not in NOT_CHECKED_ITEMS:
        # A type this version does not know (a newer API's): every string, sent whole.
        for k, (path, text) in enumerate(string_leaves(item, (), NOT_TEXT)):
            yield ("other", index, k), path, text


def annotation_texts(part: Any) -> Iterator[tuple[tuple[int, str], JsonPath, str]]:
    """``((annotation, field), path inside the part, text)`` of each web search citation
    (``url_citation``: ``title`` and ``url``, what the client shows) of a content part."""
    annotations = part.get("annotations") if isinstance(part, dict) else None
    for a, annotation in enumerate(annotations if isinstance(annotations, list) else ()):
        if isinstance(annotation, dict) and annotation.get("type") == "url_citation":
            for field in ("title", "url"):
                if isinstance(annotation.get(field), str):
                    yield (a, field), ("annotations", a, field), annotation[field]


def annotation_places(
    payload: dict[str, Any], part: Any
) -> list[tuple[Hashable, Any, tuple[str | int, ...]]]:
    """(stream key, holder, path) of each citation text of a content part event's
    ``part``, or (``part`` None) of an ``annotation.added`` event's one annotation."""
    item, number = payload.get("output_index"), payload.get("content_index")
    if not isinstance(item, int) or not isinstance(number, int):
        return []
    if part is not None:
        return [
            (("annotation", item, number, k, field), part, path)
            for (k, field), path, _ in annotation_texts(part)
        ]
    a, annotation = payload.get("annotation_index"), payload.get("annotation")
    if not isinstance(a, int):
        return []
    return [
        (("annotation", item, number, a, field), annotation, (field,))
        for (_, field), _, _ in annotation_texts({"annotations": [annotation]})
    ]


def part_key(payload: dict[str, Any]) -> tuple[Hashable, str] | None:
    """For a ``content_part`` / ``reasoning_summary_part`` event: (stream key, text field)."""
    part, item = payload.get("part"), payload.get("output_index")
    if not isinstance(part, dict) or not isinstance(item, int):
        return None
    found = PARTS.get(part.get("type"))  # type: ignore[arg-type]
    if found is None:
        return None
    number = payload.get("summary_index" if found[0] == "summary" else "content_index")
    return ((found[0], item, number), found[1]) if isinstance(number, int) else None
