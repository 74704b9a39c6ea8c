"""Text normalisation for matching, with spans that map back to the original text.

Evasion tricks (full-width letters, zero-width joiners, bidi controls, Cyrillic
look-alikes, odd case) must not hide a match, but a redaction must edit the characters
the user actually sent. :func:`normalize` returns the folded text and, when it differs in
length from the original, an index map from folded positions to original positions.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Format characters (Unicode category Cf) are dropped: zero-width space/joiners, bidi
# controls, word joiner, BOM, soft hyphen, tag characters...
_DROP_CATEGORIES = frozenset({"Cf"})

# Common Latin look-alikes from Cyrillic and Greek (a subset of Unicode's confusables
# that covers the letters seen in evasion attempts; a full table costs memory for
# letters nobody uses to evade a keyword list).
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j",
    "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ԛ": "q", "ѡ": "w",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y",
    # Dotless i: a case-insensitive regex matches it as "i", so folding must too (the
    # rules check finds where a regex can start by the literal "i" in folded text).
    "ı": "i",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Normalized:
    """Folded text plus the map back to the original (``None`` when positions agree)."""

    text: str
    index: tuple[int, ...] | None
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the folded text back to a span of the original text."""
        return _original_span(self.index, self.original_length, start, end)

    def position(self, original: int) -> int:
        """The folded position of original position ``original`` (or of what follows)."""
        return original if self.index is None else bisect_left(self.index, original)


def _original_span(
    index: Sequence[int] | None, original_length: int, start: int, end: int
) -> tuple[int, int]:
    if index is None:
        return start, end
    if start >= len(index):
        return original_length, original_length
    original_start = index[start]
    # index[end - 1] + 1 also covers a ligature that folded to several characters;
    # dropped format characters inside the span are covered by the range.
    original_end = index[end - 1] + 1 if end > start else original_start
    return original_start, original_end


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if unicodedata.category(char) in _DROP_CATEGORIES:
        return ""
    folded = unicodedata.normalize("NFKC", char).lower()
    return "".join(_CONFUSABLES.get(c, c) for c in folded)


def normalize(text: str) -> Normalized:
    """Fold ``text`` for matching: NFKC, lower case, look-alikes, format chars dropped."""
    if text.isascii():
        # Fast path: ASCII lower-casing never changes positions.
        return Normalized(text.lower(), None, len(text))
    parts: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        folded = char.lower() if char.isascii() else _fold_char(char)
        if folded:
            parts.append(folded)
            index.extend([position] * len(folded))
    folded_text = "".join(parts)
    if len(folded_text) == len(text) and all(i == p for p, i in enumerate(index)):
        return Normalized(folded_text, None, len(text))
    return Normalized(folded_text, tuple(index), len(text))


class FoldedText:
    """Folded text grown piece by piece (a stream window), with the map back.

    Folding is per character, so folding a delta and appending it equals folding the
    whole text again; a stream window folds each character once instead of once per
    check per delta. Positions are relative to the first original character kept.
    """

    __slots__ = ("index", "original_length", "text")

    def __init__(self) -> None:
        self.text = ""
        #: Original position of each folded character; ``None`` while they agree.
        self.index: list[int] | None = None
        self.original_length = 0

    def append(self, original: str) -> None:
        """Fold ``original`` and append it."""
        if self.index is None and original.isascii():
            self.text += original.lower()
            self.original_length += len(original)
            return
        piece = normalize(original)
        base = self.original_length
        if piece.index is not None or self.index is not None:
            if self.index is None:
                self.index = list(range(len(self.text)))
            if piece.index is None:
                self.index.extend(range(base, base + len(piece.text)))
            else:
                self.index.extend(base + i for i in piece.index)
        self.text += piece.text
        self.original_length = base + len(original)

    def drop(self, count: int) -> None:
        """Forget the first ``count`` original characters (and what they folded to)."""
        if self.index is None:
            self.text = self.text[count:]
        else:
            start = bisect_left(self.index, count)
            self.text = self.text[start:]
            index = [i - count for i in self.index[start:]]
            identity = len(index) == self.original_length - count and all(
                i == p for p, i in enumerate(index)
            )
            self.index = None if identity else index
        self.original_length -= count

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the folded text back to a span of the original text."""
        return _original_span(self.index, self.original_length, start, end)

    def position(self, original: int) -> int:
        """The folded position of original position ``original`` (or of what follows)."""
        return original if self.index is None else bisect_left(self.index, original)
