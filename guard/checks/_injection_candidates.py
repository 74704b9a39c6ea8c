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


@dataclass(frozen=True, slots=True)
class Candidates:
    """The patterns' FilteredRE2 (pattern ``n`` at index ``n``, :data:`SENTINEL` after
    them) and each pattern as the filter compiled it (``alone``, ``re2`` patterns)."""

    filter: Any
    alone: tuple[Any, ...]

    def Match(self, data: bytes) -> list[int] | None:  # the sets' name: the probe times either
        """The patterns ``data`` may match, ascending, or None when the atom search
        failed (no sentinel)."""
        found: list[int] | None = self.filter.Match(data + SENTINEL_TEXT, True)
        sentinel = len(self.alone)
        if not found or found[-1] != sentinel:
            return None
        found.pop()
        return found


def compile_candidates(patterns: Sequence[str], options: Any) -> Candidates:
    """``patterns`` compiled with ``options`` into a :class:`Candidates`. Raises
    ``RuntimeError`` naming the pattern's number when one does not compile, or when the
    sentinel does not work (a pattern without atoms would always be a candidate)."""
    compiled = re2.Filter()
    for number, pattern in enumerate([*patterns, SENTINEL]):
        try:
            compiled.Add(pattern, options)
        except re2.error as error:
            raise RuntimeError(
                f"injection signal or obfuscation sign {number} does not compile on RE2"
            ) from error
    compiled.Compile()
    candidates = Candidates(compiled, tuple(compiled.re(n) for n in range(len(patterns))))
    if len(patterns) in (compiled.Match(b"", True) or []):
        raise RuntimeError("the injection grammar's prefilter sentinel has no atom")
    return candidates
