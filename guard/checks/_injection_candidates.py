"""Which grammar patterns a text can match, from the literal words they need (FilteredRE2).

Most of the grammar's ~230 patterns cannot match unless some words occur: an override
needs "ignore" or "disregard" *and* "instructions" or "rules"... RE2's FilteredRE2 works
those required literals ("atoms", three letters or more) out of each compiled pattern,
and one search of all atoms (a set of plain literals) tells which patterns may match:
their prefilter holds given the atoms found. Only those are then searched, each alone.
A pattern with no atom (``[)\\]}]``, a spaced-letters sign...) is always a candidate.
The prefilter only ever over-approximates (a candidate may not match; a pattern that
matches is always a candidate), so the answer is the same as a search of every
pattern, and of the sets (tests/checks/test_injection_grammar_salad.py compares them).

Why: a set of all patterns builds a DFA state for each new mix of partial matches it
meets, and text the process never saw meets many (2,000 labelled texts: 0.42 ms mean per
text, p99 3.4 ms, where a re-sent text costs 0.01 ms). A set of literals meets far fewer
mixes, and the few candidates alone meet few states each: first-sight text costs about
half as much (figures in bench/README.md, ``injection.scan.first-sight``).

Like the grammar's sets (:mod:`guard.checks._injection_grammar_set`), the atom search
cannot fail once compiled (a many-match DFA resets a full cache, it never bails), and
like them it carries a sentinel so a failure would still be seen, not read as "nothing
can match": :data:`SENTINEL` is a pattern of its own whose atom is added after the text
(atoms found in more text give more candidates, never fewer, and each candidate is then
searched in the text itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2

#: A pattern with one atom, searched for in :data:`SENTINEL_TEXT` appended to every text.
SENTINEL = "guardwire atom sentinel"
SENTINEL_TEXT = b"\n" + SENTINEL.encode()


#: Filters per group of patterns (the ASCII-capable ones, the other scripts'): the atoms of
#: all patterns as one set cost word salad ~3 ms per 2 KB (its DFA meets a new mix of
#: atoms on most bytes), split in two per group ~0.4 ms, new text the same or less
#: (more filters: no better). Patterns stay in grammar order, so a filter holds a few
#: languages and a salad wakes mostly one.
FILTERS_PER_GROUP = 2


@dataclass(frozen=True, slots=True)
class Filter:
    """One FilteredRE2 over some patterns: ``numbers`` maps its indices to the grammar's
    (its sentinel at ``len(numbers)``); ``non_ascii`` when all of them need a non-ASCII
    character (the filter is then skipped on ASCII text)."""

    filter: Any
    numbers: tuple[int, ...]
    non_ascii: bool


@dataclass(frozen=True, slots=True)
class Candidates:
    """The filters and each pattern as its filter compiled it (``alone``, ``re2``
    patterns, by grammar number)."""

    filters: tuple[Filter, ...]
    alone: tuple[Any, ...]

    def Match(
        self, data: bytes, ascii_text: bool = False
    ) -> list[int] | None:  # the sets' name: the probe times either
        """The patterns ``data`` may match, ascending, or None when an atom search failed
        (no sentinel). ``ascii_text``: skip the filters of other scripts."""
        subject = data + SENTINEL_TEXT
        found: list[int] = []
        for part in self.filters:
            if ascii_text and part.non_ascii:
                continue
            answer: list[int] | None = part.filter.Match(subject, True)
            sentinel = len(part.numbers)
            if not answer or answer[-1] != sentinel:
                return None
            answer.pop()
            found.extend(part.numbers[n] for n in answer)
        return sorted(found)


def compile_candidates(
    patterns: Sequence[str], options: Sequence[Any], non_ascii: Sequence[bool] | None = None
) -> Candidates:
    """``patterns`` compiled (pattern ``n`` with ``options[n]``) into a
    :class:`Candidates`, grouped by ``non_ascii`` (pattern ``n`` can only match text with
    a non-ASCII character; default none). Raises ``RuntimeError`` naming the pattern's
    number when one does not compile, or when a sentinel does not work (a pattern
    without atoms is always a candidate)."""
    script = list(non_ascii) if non_ascii is not None else [False] * len(patterns)
    alone: list[Any] = [None] * len(patterns)
    filters: list[Filter] = []
    for other in (False, True):
        group = [n for n in range(len(patterns)) if script[n] == other]
        for part in range(FILTERS_PER_GROUP):
            numbers = group[
                len(group) * part // FILTERS_PER_GROUP : len(group)
                * (part + 1)
                // FILTERS_PER_GROUP
            ]
            if numbers:
                filters.append(_filter(patterns, numbers, other, options, alone))
    return Candidates(tuple(filters), tuple(alone))


def _filter(
    patterns: Sequence[str],
    numbers: list[int],
    other: bool,
    options: Sequence[Any],
    alone: list[Any],
) -> Filter:
    compiled = re2.Filter()
    for number in numbers:
        try:
            compiled.Add(patterns[number], options[number])
        except re2.error as error:
            raise RuntimeError(
                f"injection signal or obfuscation sign {number} does not compile on RE2"
            ) from error
    compiled.Add(SENTINEL, options[numbers[0]])
    compiled.Compile()
    if len(numbers) in (compiled.Match(b"", True) or []):
        raise RuntimeError("the injection grammar's prefilter sentinel has no atom")
    for index, number in enumerate(numbers):
        alone[number] = compiled.re(index)
    return Filter(compiled, tuple(numbers), other)
