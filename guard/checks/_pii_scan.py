"""One call's scan of one view: the windows built for it, what was found, and the
answers worked out once per call.

A text dense with entities often repeats one (the same e-mail address in every quoted
message, one phone number in a signature), and a stream rescans its window on every
delta: a checksum or ``phonenumbers`` parse is worked out once per call (or stream).
These answers live in the call's :class:`Answers` (a stream's in its window) and go
with it — nothing derived from a caller's text is kept across calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guard.checks._pii_hits import Hit
from guard.checks._pii_prefilter import (
    DIGIT_ANCHORED,
    LONG_ANCHORS,
    LONG_RUNS,
    LONG_TOKENS,
    TOKEN_ANCHORS,
    Signals,
)
from guard.checks._pii_text import View
from guard.checks._pii_windows import Edges, Windows, windows, windows_around

#: The most answers a stream keeps (a long stream of numbers starts afresh past it).
_STREAM_ANSWERS = 4096


@dataclass(slots=True)
class Answers:
    """Validation scores and phone parses worked out in one call, by the value."""

    #: (``id`` of the pattern, matched text) -> Presidio's score for it.
    scores: dict[tuple[int, str], float] = field(default_factory=dict)
    #: (candidate, region) -> spans of the numbers ``phonenumbers`` finds in it.
    phones: dict[tuple[str, str], tuple[tuple[int, int], ...]] = field(default_factory=dict)

    @classmethod
    def of_stream(cls, memo: dict[str, object], name: str) -> Answers:
        """The answers of one stream (kept in its window's ``memo``): each delta rescans
        the window, and the same candidates were parsed on the last delta."""
        answers = memo.get(name)
        if not isinstance(answers, cls):
            answers = memo[name] = cls()
        elif len(answers.scores) + len(answers.phones) > _STREAM_ANSWERS:
            answers.scores.clear()
            answers.phones.clear()
        return answers


@dataclass(slots=True)
class Scan:
    """The scan of one view: hits found so far and the windows built for it."""

    view: View
    signals: Signals
    answers: Answers
    hits: list[Hit] = field(default_factory=list)
    #: View spans and scores of what was found (phone candidates inside them are skipped).
    spans: list[tuple[int, int, float]] = field(default_factory=list)
    _windows: dict[str, Windows] = field(default_factory=dict)
    _edges: Edges | None = None

    def windows(self, key: str | None) -> Windows | None:
        """The parts of the text that patterns of window ``key`` need to see (``None``:
        all of it), built once per scan (see :func:`guard.checks._pii_prefilter.window_key`)."""
        if key is None:
            return None
        part = self._windows.get(key)
        if part is not None:
            return part
        text = self.signals.text
        edges = self._edges
        if edges is None:
            edges = self._edges = Edges(text)
        if key == "digits":
            part = windows_around(text, self.signals.digit_runs, tokens=2, edges=edges)
        elif key in LONG_TOKENS:
            run, length = LONG_RUNS[key], LONG_TOKENS[key]
            spans = [span for span in edges.long_tokens(length) if run.search(text, *span)]
            part = windows_around(text, spans, tokens=0, edges=edges)
        else:
            anchor, before, after = TOKEN_ANCHORS[key]
            if key in DIGIT_ANCHORED:
                # Two digits in a row: only the digit windows can hold one.
                digits = self.windows("digits")
                assert digits is not None
                found = digits.positions(m.span() for m in anchor.finditer(digits.text))
                part = windows_around(text, found, tokens=before, right=after, edges=edges)
            elif key in LONG_ANCHORS:
                # No match crosses white space: the long tokens hold every one.
                found = [match.span() for start, end in edges.long_tokens(LONG_ANCHORS[key])
                         for match in anchor.finditer(text, start, end)]  # fmt: skip
                part = windows_around(text, found, tokens=before, right=after, edges=edges)
            else:
                part = windows(text, anchor, tokens=before, right=after, edges=edges)
        self._windows[key] = part
        return part
