"""Text normalisation for matching, with spans that map back to the original text.

Evasion tricks (full-width letters, zero-width joiners, bidi controls, Cyrillic
look-alikes, odd case) must not hide a match, but a redaction must edit the characters
the user actually sent. :func:`normalize` returns the folded text and, when it differs in
length from the original, an index map from folded positions to original positions.
"""

from __future__ import annotations

import unicodedata
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
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Normalized:
    """Folded text plus the map back to the original (``None`` when positions agree)."""

    text: str
    index: tuple[int, ...] | None
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the folded text back to a span of the original text."""
        if self.index is None:
            return start, end
        if start >= len(self.index):
            return self.original_length, self.original_length
        original_start = self.index[start]
        # index[end - 1] + 1 also covers a ligature that folded to several characters;
        # dropped format characters inside the span are covered by the range.
        original_end = self.index[end - 1] + 1 if end > start else original_start
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
