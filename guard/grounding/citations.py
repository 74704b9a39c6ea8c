"""Citation markers in an answer: ``[1]``, ``[1, 3]``, ``[doc-3]``, ``[^2]``, ``【1】``,
``【4†source】``. Markdown links (``[text](url)``) and checkboxes are not citations."""

from __future__ import annotations

import re
from dataclasses import dataclass

CITATION = re.compile(
    r"\[\^?(?P<ids>[A-Za-z0-9][\w.:-]{0,40}(?:\s*[,;]\s*[A-Za-z0-9][\w.:-]{0,40})*)\](?!\()"
    r"|【(?P<wide>[^】†]{1,40})(?:†[^】]{0,60})?】"
)
_SPLIT = re.compile(r"\s*[,;]\s*")
#: Bracketed words that look like ids but are prose (``[sic]``, ``[x]`` checkboxes).
_NOT_IDS = frozenset({"sic", "x", "edit", "citation needed", "note"})
_TRAILING_DIGITS = re.compile(r"(\d+)$")


@dataclass(frozen=True, slots=True)
class Marker:
    """One citation marker: the ids it names and its span in the answer."""

    ids: tuple[str, ...]
    start: int
    end: int


def find_markers(answer: str) -> list[Marker]:
    """Citation markers of ``answer``, in order."""
    markers: list[Marker] = []
    for match in CITATION.finditer(answer):
        raw = match.group("ids") or match.group("wide") or ""
        ids = tuple(part for part in _SPLIT.split(raw.strip()) if part)
        if not ids or any(part.lower() in _NOT_IDS for part in ids):
            continue
        if match.group("ids") and not all(_looks_like_id(part) for part in ids):
            continue
        markers.append(Marker(ids, match.start(), match.end()))
    return markers


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
