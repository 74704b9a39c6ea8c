"""Common synonyms, as stems: a claim may say ``completed`` where its passage says
``finished``, ``film`` where it says ``movie``.

The table (``synonyms.txt`` beside this module) is derived from Open English WordNet
(CC BY 4.0) by ``bench/grounding_synonyms.py``; nothing is downloaded. It is read on the
first claim that needs it: only a claim with a stem no passage holds asks for it (the
scorer's slow path, see :func:`guard.grounding.scoring.score_claim`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guard.grounding.passages import PassageIndex

#: A claim's stem (its weight, rows and prefix rows), as the scorer reads it.
Term = tuple[str, float, str | None, int, int]
#: A stem no passage holds, found as one of its synonyms, counts for this much.
SYNONYM_CREDIT = 0.85

_PATH = Path(__file__).with_name("synonyms.txt")
_NONE: tuple[str, ...] = ()
_table: dict[str, tuple[str, ...]] | None = None
_lock = threading.Lock()


def _read() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    with _PATH.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            stem, *others = line.split()
            table[stem] = tuple(others)
    return table


def table() -> dict[str, tuple[str, ...]]:
    """Stem -> the stems of its synonyms (read once, on first use)."""
    global _table
    found = _table
    if found is None:
        with _lock:
            found = _table
            if found is None:
                found = _table = _read()
    return found


def synonyms(stem: str) -> tuple[str, ...]:
    """The stems ``stem`` may be written as (empty when the table has none)."""
    return table().get(stem, _NONE)


def widen(index: PassageIndex, items: list[Term]) -> list[Term] | None:
    """``items`` with each stem no passage holds (whole or by prefix) replaced by the rows
    of its synonyms, at :data:`SYNONYM_CREDIT` of its weight; ``None`` when no synonym
    occurs. (The caller keeps counting shares out of the claim's whole weight.)"""
    known = table()
    alternatives = {item[0]: known.get(item[0]) for item in items if not (item[3] or item[4])}
    if not any(alternatives.values()):
        return None
    index.prepare_synonyms(known)
    out: list[Term] = []
    changed = False
    for item in items:
        mask = 0
        if not (item[3] or item[4]):
            for stem in alternatives.get(item[0]) or ():
                mask |= index.mask(stem)
        if mask:
            # The candidate search walks rows by key: the synonyms' rows under one.
            out.append((index.alias(item[0], mask), item[1] * SYNONYM_CREDIT, None, mask, 0))
            changed = True
        else:
            out.append(item)
    return out if changed else None
