"""Windows: the parts of a text a pattern needs to see, joined into one string.

Most of a 2 KB prompt cannot hold a card number or an IBAN: only the text around digit
runs (or around an ``@``, a ``word.tld``, ...) can. Running a recognizer's regexes on
those windows instead of the whole text keeps what they find — windows start and end at
whitespace — at a fraction of the cost.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate, compress, count
from operator import add

_TOKEN_LIMIT = 256
_SPACE = re.compile(r"\s")
#: Every character ``\s`` matches (``str.isspace``) but the space itself, to a space.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_TO_SPACE = str.maketrans(dict.fromkeys(WHITESPACE, " "))
#: Joins windows: whitespace keeps token boundaries, NUL keeps matches from crossing.
WINDOW_JOIN = "\n\x00\n"


@dataclass(slots=True)
class Windows:
    """Parts of a text joined into one string, with the way back to text positions."""

    text: str
    #: (position in ``text``, position in the original) of each part.
    starts: list[tuple[int, int]]

    def position(self, at: int) -> int:
        """The original position of ``text[at]``."""
        index = bisect_right(self.starts, (at, 1 << 62)) - 1
        joined, original = self.starts[index]
        return original + at - joined

    def positions(self, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """The original spans of ``spans`` of ``text`` (in order, none across a join):
        one bisect per part reached, not one per span."""
        starts, found = self.starts, []
        joined = original = 0
        following = -1  # where the next part starts in ``text`` (-1: look it up)
        for start, end in spans:
            if start >= following:
                index = bisect_right(starts, (start, 1 << 62)) - 1
                joined, original = starts[index]
                following = starts[index + 1][0] if index + 1 < len(starts) else 1 << 62
            found.append((original + start - joined, original + end - joined))
        return found


def windows(
    text: str,
    anchor: re.Pattern[str],
    *,
    tokens: int,
    right: int | None = None,
    min_length: int = 1,
    edges: Edges | None = None,
) -> Windows:
    """The text around each ``anchor`` match (``min_length`` characters or more), widened
    to whole tokens plus ``tokens`` neighbouring tokens on each side (``right`` after
    it when given; entities written in groups: ``AB 12 34 56 C``, ``GB82 WEST 1234
    ...``), overlapping windows merged.

    Windows start and end at whitespace (or the text's ends), so word boundaries and
    look-arounds see what they see in the whole text: whatever a pattern finds in them
    it finds there. A token longer than 256 characters is cut (a window stays small).
    """
    spans = [m.span() for m in anchor.finditer(text) if m.end() - m.start() >= min_length]
    return windows_around(text, spans, tokens=tokens, right=right, edges=edges)


def windows_around(
    text: str,
    spans: Iterable[tuple[int, int]],
    *,
    tokens: int,
    right: int | None = None,
    edges: Edges | None = None,
) -> Windows:
    """:func:`windows` for spans already found (in text order)."""
    merged: list[list[int]] = []
    after = tokens if right is None else right
    if tokens == after == 0:
        return _token_windows(text, spans, edges)
    right_limit, left_limit = _TOKEN_LIMIT * (after + 1), _TOKEN_LIMIT * (tokens + 1)
    spaces: list[int] = []
    count = length = 0
    for found_start, found_end in spans:
        if edges is None:
            edges = Edges(text)
        if not spaces:
            spaces, count, length = edges.spaces, len(edges.spaces), edges.length
        # The token walk to the right, written out here (a dense text has hundreds of
        # digit runs; tests/checks/test_pii_speed.py keeps the readable walk to compare).
        index = bisect_left(spaces, found_end)
        end = spaces[index] if index < count else length
        for _ in range(after):
            gap = 0
            while index < count and spaces[index] == end and gap < 2:
                end, index, gap = end + 1, index + 1, gap + 1
            if gap == 0 or (index < count and spaces[index] == end):
                break
            end = spaces[index] if index < count else length
        end = min(end, found_end + right_limit)
        if merged and found_start <= merged[-1][1]:
            # Inside the last window: its left edge is no further right than that one.
            merged[-1][1] = max(merged[-1][1], end)
            continue
        # The same walk to the left.
        index = bisect_right(spaces, found_start - 1) - 1
        start = spaces[index] + 1 if index >= 0 else 0
        for _ in range(tokens):
            gap = 0
            while index >= 0 and spaces[index] == start - 1 and gap < 2:
                start, index, gap = start - 1, index - 1, gap + 1
            if gap == 0 or (index >= 0 and spaces[index] == start - 1):
                break
            start = spaces[index] + 1 if index >= 0 else 0
        start = max(start, found_start - left_limit)
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return _joined(text, merged)


def _joined(text: str, merged: list[list[int]]) -> Windows:
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    position = 0
    for start, end in merged:
        starts.append((position, start))
        parts.append(text[start:end])
        position += end - start + len(WINDOW_JOIN)
    return Windows(WINDOW_JOIN.join(parts), starts)


def _token_windows(text: str, spans: Iterable[tuple[int, int]], edges: Edges | None) -> Windows:
    """:func:`windows_around` with no neighbouring tokens: the tokens of the spans (what
    the token walk gives for 0 tokens, without walking: most windows are these)."""
    merged: list[list[int]] = []
    spaces: list[int] = []
    count = length = 0
    for found_start, found_end in spans:
        if edges is None:
            edges = Edges(text)
        if not spaces:
            spaces, count, length = edges.spaces, len(edges.spaces), edges.length
        index = bisect_left(spaces, found_end)
        end = min(spaces[index] if index < count else length, found_end + _TOKEN_LIMIT)
        if merged and found_start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            continue
        index = bisect_right(spaces, found_start - 1) - 1
        start = max(spaces[index] + 1 if index >= 0 else 0, found_start - _TOKEN_LIMIT)
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return _joined(text, merged)


class Edges:
    """Token edges of one text, from its whitespace positions (one regex pass; shared
    by the windows of one text)."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        # Every whitespace character made a space, then the lengths of the pieces
        # between spaces: a C-speed split instead of a regex match object per space.
        pieces = text.translate(_TO_SPACE).split(" ")
        #: The length of the token after each space (and before the first): 0 between
        #: two spaces.
        self.lengths = list(map(len, pieces))
        self.spaces = list(map(add, accumulate(self.lengths[:-1]), count()))

    def long_tokens(self, length: int) -> list[tuple[int, int]]:
        """Spans of the tokens of ``length`` characters or more (the lengths compared
        in C: a text has thousands of tokens and a handful of long ones)."""
        spaces, lengths, found = self.spaces, self.lengths, []
        for index in compress(count(), map(length.__le__, lengths)):
            start = spaces[index - 1] + 1 if index else 0
            found.append((start, start + lengths[index]))
        return found
