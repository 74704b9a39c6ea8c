"""Citation markers in an answer: ``[1]``, ``[1, 3]``, ``[doc-3]``, ``[^2]``, ``【1】``,
``【4†source】``, and a word that names a passage (``[staff]``). Markdown links
(``[text](url)``), checkboxes, bracketed prose (``[sic]``) and brackets in code
(``items[1]`` in backticks or a fenced block) are not citations."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

CITATION = re.compile(
    r"\[\^?(?P<ids>[A-Za-z0-9][\w.:-]{0,40}(?:\s*[,;]\s*[A-Za-z0-9][\w.:-]{0,40})*)\](?!\()"
    r"|【(?P<wide>[^】†]{1,40})(?:†[^】]{0,60})?】"
)
_SPLIT = re.compile(r"\s*[,;]\s*")
#: Bracketed words that look like ids but are prose (``[sic]``, ``[x]`` checkboxes).
_NOT_IDS = frozenset({"sic", "x", "edit", "citation needed", "note"})
_TRAILING_DIGITS = re.compile(r"(\d+)$")
#: Markdown code: a fenced block (to its closing fence, or the end when unclosed) or an
#: inline span (a backtick run closed by a run of the same length within its paragraph;
#: CommonMark 4.5, 6.1).
#: Each opening scans forward once, and only answers with a marker candidate are read.
_CODE = re.compile(
    r"^ {0,3}(?P<fence>`{3,}|~{3,}).*?(?:^ {0,3}(?P=fence)[`~]*[ \t]*$|\Z)"
    r"|(?<!`)(?P<ticks>`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)(?P=ticks)(?!`)",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Marker:
    """One citation marker: the ids it names and its span in the answer."""

    ids: tuple[str, ...]
    start: int
    end: int


def find_markers(answer: str, passage_ids: Collection[str] = ()) -> list[Marker]:
    """Citation markers of ``answer``, in order.

    A marker's every id must look like one (a digit or a ``-``/``_`` in it, which stays a
    wrong citation when no passage has it) or be one of ``passage_ids`` (any case): a
    bracketed word that names no passage is prose.
    """
    markers: list[Marker] = []
    known: set[str] | None = None
    code: list[tuple[int, int]] | None = None
    for match in CITATION.finditer(answer):
        raw = match.group("ids") or match.group("wide") or ""
        ids = tuple(part for part in _SPLIT.split(raw.strip()) if part)
        if not ids or any(part.lower() in _NOT_IDS for part in ids):
            continue
        if match.group("ids") and not all(_looks_like_id(part) for part in ids):
            if known is None:  # built only for an answer with a bracketed word
                known = {pid.strip().lower() for pid in passage_ids}
            if not all(_looks_like_id(part) or part.lower() in known for part in ids):
                continue
        if code is None:
            code = _code_spans(answer)
        if any(start <= match.start() < end for start, end in code):
            continue
        markers.append(Marker(ids, match.start(), match.end()))
    return markers


def _code_spans(answer: str) -> list[tuple[int, int]]:
    """Where ``answer`` has Markdown code (its brackets index, they do not cite)."""
    if "`" not in answer and "~~~" not in answer:
        return []
    return [match.span() for match in _CODE.finditer(answer)]


def _looks_like_id(part: str) -> bool:
    # [1], [12], [doc-3], [doc3], [source_2], [a1b2]: an id has a digit or a separator.
    return any(ch.isdigit() for ch in part) or "-" in part or "_" in part


def id_keys(passage_id: str) -> set[str]:
    """The spellings a citation may use for ``passage_id`` (``doc-3`` also answers ``3``)."""
    lowered = passage_id.strip().lower()
    keys = {lowered}
    digits = _TRAILING_DIGITS.search(lowered)
    if digits:
        keys.add(str(int(digits.group(1))))
    return keys
