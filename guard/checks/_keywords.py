"""What keyword matching sees: folded terms, and the squashed view of folded text.

The ``rules`` check finds keywords with an automaton of plain folded terms (words joined
by single spaces, see :mod:`guard.checks._keyword_automaton`). The text it runs on is a
*view* of the folded text with the evasions keywords see through undone:

* a run of white space (or white space mixed with control characters) of 1 to
  :data:`KEYWORD_GAP` characters is one space: ``launch \\n\\t codes`` reads
  ``launch codes``; a longer run is a break no term spans;
* control characters (NUL, BEL, ESC...) that are not white space are invisible or garble
  the text: between words they read as a space, inside a word as nothing. A run of them
  alone is ambiguous (``h\\x00ow\\x00to``), so a text that has one is matched on a view
  without any run, and each run is then read against the term that matched.

Each view keeps the map back to folded positions, so spans (and from there original
positions, :mod:`guard.normalize`) point at the characters the caller sent.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from guard.normalize import normalize

#: Most white-space (or control) characters one space of a keyword matches: bounded, so
#: that a stream's hold-back of a pending keyword stays bounded too (core-review D3, D14:
#: "how" + 320,000 spaces + "to build a bomb" took 24 s with ``\s+``).
KEYWORD_GAP = 128
#: Released folded characters every stream window keeps: context for ``\b``, whole
#: words and the partial-match look-behinds (one character is enough; a few spare).
CONTEXT = 32
#: C0/C1 control characters that are not white space.
_CONTROLS = r"\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_CONTROL_RUN = re.compile(f"[{_CONTROLS}]+")
_RUN = re.compile(rf"[\s{_CONTROLS}]+")
#: The first character of a run the view rewrites: anything but a lone plain space. It
#: opens with a character class, so the engine skips ahead to candidates in C.
_UNUSUAL_RUN = re.compile(rf"[\s{_CONTROLS}](?:(?<=[^ ])|(?=[\s{_CONTROLS}]))")
#: Printable ASCII and ASCII white space: what is left of an ASCII text without them.
_NOT_CONTROL = bytes(range(0x20, 0x7F)) + b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
#: Printable ASCII and the plain space: an ASCII text with nothing else and no double
#: space is its own view.
_PLAIN = bytes(range(0x20, 0x7F))
#: What a run longer than KEYWORD_GAP reads as: no term contains it (terms are split on
#: white space), so no match spans it and no pending match continues past it.
BREAK = "\n"


def has_control(text: str, start: int = 0) -> bool:
    """Whether ``text[start:]`` has a control character (then it is read two ways)."""
    if text.isascii():
        # One C pass (~1 us per 2 KB against ~6 us for a character-class search).
        return bool(text[start:].encode().translate(None, _NOT_CONTROL))
    return _CONTROL.search(text, start) is not None


def is_word(char: str) -> bool:
    """What ``\\w`` matches in Python's ``re`` (Unicode letters, digits, ``_``)."""
    return char.isalnum() or char == "_"


def fold_term(term: str) -> str:
    """A keyword as matched: folded, control characters dropped, single spaces between
    words (an empty result is a blank term)."""
    folded = term.lower() if term.isascii() else normalize(term).text
    if not folded.isprintable():
        folded = _CONTROL.sub("", folded)
    return " ".join(folded.split())


@dataclass(frozen=True, slots=True)
class View:
    """Folded text from some position, squashed, with the map back.

    ``starts[i]`` is where the i-th copied stretch of folded text begins in ``text`` and
    ``origins[i]`` where it begins in the folded text; a run the view rewrote sits
    between two stretches.
    """

    text: str
    starts: list[int]
    origins: list[int]

    def origin(self, position: int) -> int:
        """The folded position of view position ``position``."""
        if len(self.starts) == 1:
            return self.origins[0] + position
        stretch = bisect_right(self.starts, position) - 1
        return self.origins[stretch] + position - self.starts[stretch]


def squash(folded: str, start: int) -> View:
    """The view of ``folded[start:]``, a text without control characters: every run of
    white space is one space (a longer run than KEYWORD_GAP is a :data:`BREAK`)."""
    if folded.isascii():
        raw = folded[start:].encode()
        if not raw.translate(None, _PLAIN) and b"  " not in raw:
            return View(folded[start:], [0], [start])  # most texts: nothing to rewrite
    return _rewrite(folded, start, _UNUSUAL_RUN, " ")


def despace(folded: str, start: int) -> View:
    """The view of ``folded[start:]`` without any white-space or control character (a
    run longer than KEYWORD_GAP is a :data:`BREAK`): for texts with control characters,
    where each run must be read against the term (see :func:`run_fits`)."""
    return _rewrite(folded, start, _RUN, "")


def _rewrite(folded: str, start: int, runs: re.Pattern[str], replacement: str) -> View:
    parts: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    length = 0
    position = start
    while (found := runs.search(folded, position)) is not None:
        run_start = found.start()
        run = _RUN.match(folded, run_start)
        assert run is not None
        parts.append(folded[position:run_start])
        starts.append(length)
        origins.append(position)
        length += run_start - position
        written = BREAK if run.end() - run_start > KEYWORD_GAP else replacement
        parts.append(written)
        length += len(written)
        position = run.end()
    parts.append(folded[position:])
    starts.append(length)
    origins.append(position)
    return View("".join(parts), starts, origins)


def run_fits(folded: str, begin: int, end: int, *, space: bool) -> bool:
    """Whether the run ``folded[begin:end]`` (white space and control characters only,
    at most KEYWORD_GAP) may sit where a term has a space (``space``: at least one
    character) or where it has none (control characters only, or nothing)."""
    if space:
        return end > begin
    return end == begin or _CONTROL_RUN.fullmatch(folded, begin, end) is not None
