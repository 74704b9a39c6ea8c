"""Windows: the parts of a text a pattern needs to see, joined into one string.

Most of a 2 KB prompt cannot hold a card number or an IBAN: only the text around digit
runs (or around an ``@``, a ``word.tld``, ...) can. Running a recognizer's regexes on
those windows instead of the whole text keeps what they find — windows start and end at
whitespace — at a fraction of the cost.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

_TOKEN_LIMIT = 256
_SPACE = re.compile(r"\s")
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


def windows(
    text: str,
    anchor: re.Pattern[str],
    *,
    tokens: int,
    min_length: int = 1,
    edges: Edges | None = None,
) -> Windows:
    """The text around each ``anchor`` match (``min_length`` characters or more), widened
    to whole tokens plus ``tokens`` neighbouring tokens on each side (entities written
    in groups: ``AB 12 34 56 C``, ``GB82 WEST 1234 ...``), overlapping windows merged.

    Windows start and end at whitespace (or the text's ends), so word boundaries and
    look-arounds see what they see in the whole text: whatever a pattern finds in them
    it finds there. A token longer than 256 characters is cut (a window stays small).
    """
    spans: list[list[int]] = []
    for match in anchor.finditer(text):
        if match.end() - match.start() < min_length:
            continue
        if edges is None:
            edges = Edges(text)
        start, end = edges.left(match.start(), tokens), edges.right(match.end(), tokens)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    position = 0
    for start, end in spans:
        starts.append((position, start))
        parts.append(text[start:end])
        position += end - start + len(WINDOW_JOIN)
    return Windows(WINDOW_JOIN.join(parts), starts)


class Edges:
    """Token edges of one text, from its whitespace positions (one regex pass; shared
    by the windows of one text)."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        self.spaces = [m.start() for m in _SPACE.finditer(text)]

    def left(self, at: int, tokens: int) -> int:
        spaces = self.spaces
        index = bisect_right(spaces, at - 1) - 1
        start = spaces[index] + 1 if index >= 0 else 0
        for _ in range(tokens):
            # Up to two whitespace characters, then the token before them.
            gap = 0
            while index >= 0 and spaces[index] == start - 1 and gap < 2:
                start, index, gap = start - 1, index - 1, gap + 1
            if gap == 0 or (index >= 0 and spaces[index] == start - 1):
                break
            start = spaces[index] + 1 if index >= 0 else 0
        return max(start, at - _TOKEN_LIMIT * (tokens + 1))

    def right(self, at: int, tokens: int) -> int:
        spaces = self.spaces
        index = bisect_left(spaces, at)
        end = spaces[index] if index < len(spaces) else self.length
        for _ in range(tokens):
            gap = 0
            while index < len(spaces) and spaces[index] == end and gap < 2:
                end, index, gap = end + 1, index + 1, gap + 1
            if gap == 0 or (index < len(spaces) and spaces[index] == end):
                break
            end = spaces[index] if index < len(spaces) else self.length
        return min(end, at + _TOKEN_LIMIT * (tokens + 1))
