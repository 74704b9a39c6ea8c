"""What the detector found: hits, their canonical values, and how overlaps resolve."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from guard.checks._pii_recognizers import NUMBER_ENTITIES

#: What ``str.isalnum`` rejects (``\w`` is exactly ``isalnum`` and ``_``).
_NOT_ALNUM = re.compile(r"[\W_]")


@dataclass(frozen=True, slots=True)
class Hit:
    """One entity found: its span in the original text, score and canonical value.

    ``value`` (the entity as matched, separators dropped for numbers) keys hashes and
    pseudonyms so that ``4242 4242 ...`` and ``4242-4242-...`` are one card. It is
    user data: it never leaves the check.
    """

    entity: str
    start: int
    end: int
    score: float
    value: str


def canonical(entity: str, value: str) -> str:
    """The value that keys hashes and pseudonyms (numbers without separators)."""
    if entity in NUMBER_ENTITIES:
        return _NOT_ALNUM.sub("", value).upper()
    return value.lower() if entity in ("EMAIL_ADDRESS", "URL") else value


def resolve(hits: list[Hit]) -> list[Hit]:
    """Keep the best of overlapping hits.

    A hit inside a longer one is part of it (a card number inside an IBAN, an NHS-valid
    digit run inside a phone number with its country code, a domain inside an e-mail);
    of hits that overlap otherwise, the higher score wins, then the longer span.
    Sorting and a sweep keep this O(n log n) for texts with hundreds of entities.
    """
    if len(hits) < 2:
        return hits
    outer: list[Hit] = []
    reach, reach_start = -1, -1
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        inside = reach > hit.end or (reach == hit.end and reach_start < hit.start)
        if not inside:
            outer.append(hit)
        if hit.end > reach:
            reach, reach_start = hit.end, hit.start
    starts: list[int] = []
    kept: list[Hit] = []
    for hit in sorted(outer, key=lambda h: (-h.score, h.start - h.end, h.start)):
        index = bisect_left(starts, hit.start)
        if index > 0 and kept[index - 1].end > hit.start:
            continue
        if index < len(kept) and kept[index].start < hit.end:
            continue
        starts.insert(index, hit.start)
        kept.insert(index, hit)
    return kept
