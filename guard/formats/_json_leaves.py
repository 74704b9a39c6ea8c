"""String leaves of JSON documents: what checks see of tool arguments and schemas.

In JSON source a newline is the two characters ``\\`` ``n`` and ``A`` may be written
``\\u0041``; a rule run over the source misses what the decoded text shows (review D7).
So a document is checked as its decoded string leaves, one segment per leaf:

- :func:`string_leaves` lists the leaves of a decoded value;
- :func:`argument_segments` turns a JSON *string* field (OpenAI ``function.arguments``)
  into one segment per leaf (``Segment.leaf`` is the path inside the decoded document),
  or one raw-text segment when the text is not JSON;
- :class:`LeafTokenizer` does the same incrementally for streamed JSON source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from guard.types import JsonPath, Segment

#: Keys whose string values are identifiers, encodings or binary data, not text a model
#: reads as language (checked generically elsewhere would only give false positives).
NOT_TEXT = frozenset(
    {
        "type",
        "id",
        "tool_use_id",
        "tool_call_id",
        "signature",
        "encrypted_content",
        "media_type",
        "file_id",
        "data",
        "file_data",
        "detail",
        "format",
        "$ref",
        "$schema",
        "$id",
        "pattern",
    }
)
#: Keys of a JSON schema whose strings are structure (property lists, types, patterns).
SCHEMA_STRUCTURE = NOT_TEXT | {"required"}


def string_leaves(
    value: Any, at: JsonPath = (), skip: frozenset[str] = frozenset()
) -> Iterator[tuple[JsonPath, str]]:
    """Every string in ``value`` with its path, depth first, in document order.

    Object keys are structure, not leaves; values under a key in ``skip`` are left out.
    """
    if isinstance(value, str):
        yield at, value
    elif isinstance(value, dict):
        for key, item in value.items():
            # ``data`` is binary (base64) except in a text source: {"type": "text", "data"}.
            if key not in skip or (key == "data" and value.get("type") == "text"):
                yield from string_leaves(item, (*at, key), skip)
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from string_leaves(item, (*at, number), skip)


#: Segment kind of an object key inside tool-call arguments: an edit renames the key.
ARGUMENT_KEY = "tool_argument_key"


def argument_leaves(value: Any, at: JsonPath = ()) -> Iterator[tuple[JsonPath, str, bool]]:
    """Every string of tool-call arguments, object keys included (a model can write a
    secret as a key as well as a value): ``(path, text, is_key)``, a key's path being
    the path of its value, in document order."""
    if isinstance(value, str):
        yield at, value, False
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*at, key), key, True
            yield from argument_leaves(item, (*at, key))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from argument_leaves(item, (*at, number))


def argument_segments(text: str, path: JsonPath, role: str, kind: str, index: int) -> list[Segment]:
    """Segments of the JSON text ``text`` stored as a string at ``path``.

    One segment per string leaf and object key of the decoded document (``leaf`` = its
    path inside it; keys are of kind :data:`ARGUMENT_KEY`); text that is not a JSON
    object, array or string (cut short, or not JSON at all) is one raw-text segment, so
    that it is still checked.
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return [Segment(text, path, role, kind, index)]
    if not isinstance(document, (dict, list, str)):
        return []  # a number, boolean or null: no text
    return [
        Segment(leaf_text, path, role, ARGUMENT_KEY if is_key else kind, index, leaf=leaf)
        for leaf, leaf_text, is_key in argument_leaves(document)
    ]


def plain_argument_segments(
    document: Any, at: JsonPath, role: str, kind: str, index: int
) -> list[Segment]:
    """Segments of a decoded tool input at ``at`` (Anthropic ``input``): plain paths."""
    return [
        Segment(text, path, role, ARGUMENT_KEY if is_key else kind, index)
        for path, text, is_key in argument_leaves(document, at)
    ]


def rename_key(document: Any, path: JsonPath, name: str) -> None:
    """Rename the key of the value at ``path`` to ``name``, keeping the key order (and
    making ``name`` unique in its object: two keys redacted alike must not merge)."""
    holder, old = get_at(document, path[:-1]), path[-1]
    if not isinstance(holder, dict) or old not in holder or name == old:
        return
    unique, number = name, 1
    while unique in holder:
        number += 1
        unique = f"{name}#{number}"
    items = list(holder.items())
    holder.clear()
    for key, value in items:
        holder[unique if key == old else key] = value


def get_at(document: Any, path: JsonPath) -> Any:
    """``document[path[0]][path[1]]...``."""
    for key in path:
        document = document[key]
    return document


def encode_leaf(text: str) -> str:
    """``text`` as the inside of a JSON string literal (no quotes)."""
    return json.encoder.encode_basestring(text)[1:-1]


#: Piece kinds :meth:`LeafTokenizer.feed` returns.
STRUCTURE, LEAF, LEAF_END, RAW = range(4)
#: What :meth:`LeafTokenizer.feed` returns: (kind, text, leaf number, source): ``text``
#: is decoded for leaves; ``source`` is the JSON source the piece came from.
Piece = tuple[int, str, int, str]

_STRING_RUN = re.compile(r'[^"\\]+')
_SPACE = re.compile(r"[ \t\n\r]+")
#: A number, loosely (the parse of the complete text is strict): no text in it.
_NUMBER = re.compile(r"-?[0-9][-+0-9.eE]*|-(?![0-9])")
_WORD = re.compile(r"[a-zA-Z]+")
_LITERALS = ("true", "false", "null")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = re.compile(r"[0-9a-fA-F]{4}")


class LeafTokenizer:
    """Splits streamed JSON source into structure and decoded string-leaf text.

    Everything outside strings is :data:`STRUCTURE` (passed on as source); strings,
    object keys included, are :data:`LEAF` text, decoded, numbered in order of
    appearance, each ended by a :data:`LEAF_END` before its closing quote. A token or
    escape cut by a chunk boundary waits for the next chunk. Source that cannot be JSON
    turns the tokenizer into :data:`RAW` mode for good: the rest is checked as raw text.
    (Whether the brackets balance is left to the parse of the complete text.)
    """

    __slots__ = ("_leaf", "_leaves", "_pending", "_raw")

    def __init__(self) -> None:
        #: Inside a string: its leaf number; -1 outside strings.
        self._leaf = -1
        self._leaves = 0
        self._pending = ""
        self._raw = False

    def feed(self, source: str) -> list[Piece]:
        """The pieces of the next chunk of source."""
        if self._raw:
            return [(RAW, source, -1, source)] if source else []
        source, self._pending = self._pending + source, ""
        out: list[Piece] = []
        at, size = 0, len(source)
        while at < size:
            if self._leaf != -1:
                at = self._string(source, at, out)
                if self._pending or self._raw:
                    break
                continue
            char = source[at]
            token = _SPACE.match(source, at) or _NUMBER.match(source, at)
            word = _WORD.match(source, at) if token is None else None
            if word is not None:
                if word.end() == size and any(x.startswith(word.group()) for x in _LITERALS):
                    self._pending = word.group()  # ``tr`` + ``ue``: wait for the rest
                    break
                token = word if word.group() in _LITERALS else None
                if token is None:  # letters outside a string: not JSON (and maybe a key)
                    self._raw = True
                    out.append((RAW, source[at:], -1, source[at:]))
                    return out
            if token is not None:
                if token.end() == size and token.re is _NUMBER:
                    self._pending = token.group()  # the number may go on
                    break
                _add(out, STRUCTURE, token.group(), -1, token.group())
                at = token.end()
                continue
            if char == '"':
                # Keys are leaves too: a model can write a secret as a key.
                self._leaf = self._leaves
                self._leaves += 1
            elif char not in "{}[],:":
                self._raw = True
                out.append((RAW, source[at:], -1, source[at:]))
                return out
            _add(out, STRUCTURE, char, -1, char)
            at += 1
        return out

    def take_pending(self) -> str:
        """Source held back for the next chunk (a cut token or escape); now dropped."""
        pending, self._pending = self._pending, ""
        return pending

    def _string(self, source: str, at: int, out: list[Piece]) -> int:
        """Consume string content from ``at``; return where the scan stopped."""
        run = _STRING_RUN.match(source, at)
        if run is not None:
            _add(out, LEAF, run.group(), self._leaf, run.group())
            return run.end()
        if source[at] == '"':
            out.append((LEAF_END, "", self._leaf, ""))
            _add(out, STRUCTURE, '"', -1, '"')
            self._leaf = -1
            return at + 1
        # A backslash: an escape, possibly cut by the end of the chunk.
        decoded, end = self._escape(source, at)
        if end < 0:
            self._pending = source[at:]
            return len(source)
        if decoded is None:
            self._raw = True
            out.append((RAW, source[at:], -1, source[at:]))
            return len(source)
        _add(out, LEAF, decoded, self._leaf, source[at:end])
        return end

    @staticmethod
    def _escape(source: str, at: int) -> tuple[str | None, int]:
        """The decoded escape at ``at`` and where it ends; end ``-1``: not complete yet;
        text ``None``: not a JSON escape."""
        if at + 1 >= len(source):
            return "", -1
        char = source[at + 1]
        if char != "u":
            simple = _ESCAPES.get(char)
            return (simple, at + 2) if simple is not None else (None, 0)
        if at + 6 > len(source):
            return "", -1
        if _HEX.fullmatch(source, at + 2, at + 6) is None:
            return None, 0
        code = int(source[at + 2 : at + 6], 16)
        if 0xD800 <= code < 0xDC00:
            # A high surrogate: only a low-surrogate escape after it makes a character.
            if at + 12 > len(source):
                rest = source[at + 6 :]
                if "\\u".startswith(rest[:2]) and _HEX.match(rest[2:].ljust(4, "0")):
                    return "", -1
                return "\ufffd", at + 6
            low = source[at + 6 : at + 12]
            if low[:2] == "\\u" and _HEX.fullmatch(low, 2) and 0xDC00 <= int(low[2:], 16) < 0xE000:
                pair = 0x10000 + ((code - 0xD800) << 10) + (int(low[2:], 16) - 0xDC00)
                return chr(pair), at + 12
            return "\ufffd", at + 6
        if 0xDC00 <= code < 0xE000:
            return "\ufffd", at + 6  # a lone low surrogate cannot travel as UTF-8
        return chr(code), at + 6


def _add(out: list[Piece], kind: int, text: str, leaf: int, source: str) -> None:
    """Append a piece, merging it into the last one when it continues it."""
    if out and out[-1][0] == kind and out[-1][2] == leaf:
        last = out[-1]
        out[-1] = (kind, last[1] + text, leaf, last[3] + source)
    else:
        out.append((kind, text, leaf, source))
