"""Text normalisation for matching, with spans that map back to the original text.

Evasion tricks (full-width letters, zero-width joiners, bidi controls, variation
selectors, accents and Zalgo marks, Hangul fillers, look-alike letters, odd case) must
not hide a match, but a redaction must edit the characters the user actually sent.
:func:`normalize` returns the folded text and, when it differs in length from the
original, an index map from folded positions to original positions.

Each code point folds on its own (so a stream folds each delta once, see
:class:`FoldedText`): compatibility decomposition (NFKD), combining marks dropped, lower
case, Hangul recomposed; default-ignorable code points dropped; blank-looking characters
become a space; Latin look-alikes (UTS #39 confusables, small capitals) become the
letter. The data is generated (scripts/gen_confusables.py -> fold_table.txt). ASCII is
only lower-cased. Control characters (NUL, BEL...) are kept: keyword patterns see through
them (guard.checks._patterns).
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: Blank-looking characters that are not white space: Hangul fillers (default-ignorable,
#: but used in place of a space) and the braille blank. They fold to a space, so that
#: ``a\u3164bomb`` reads as ``a bomb``.
BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

#: Dropped for matching: format characters and combining marks (accents, Zalgo stacks,
#: the combining grapheme joiner, variation selectors). Default-ignorable code points in
#: other categories come from the generated table.
_DROP_CATEGORIES = frozenset({"Cf", "Mn", "Me"})

#: The generated data (scripts/gen_confusables.py): default-ignorable code points and
#: Latin look-alikes (UTS #39 confusables, small capitals).
_TABLE_FILE = Path(__file__).with_name("fold_table.txt")


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in _TABLE_FILE.read_text(encoding="utf-8").splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "drop":
            first, last = (int(part, 16) for part in rest.split("\t"))
            table.update(dict.fromkeys(map(chr, range(first, last + 1)), ""))
        elif kind == "map":
            source, target = rest.split("\t")
            table[chr(int(source, 16))] = "".join(chr(int(t, 16)) for t in target.split())
    return table


def _strip_marks(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in _DROP_CATEGORIES)


def fold_base(char: str) -> str:
    """Fold one character without the generated table: compatibility decomposition
    (full-width, ligatures, mathematical letters), combining marks stripped, lower case,
    recomposed (Hangul)."""
    if char in BLANKS:
        return " "
    if unicodedata.category(char) in _DROP_CATEGORIES:
        return ""
    # Lower-casing can add a mark ("İ" -> "i" + U+0307): strip marks after it too.
    lowered = _strip_marks(unicodedata.normalize("NFKD", char)).lower()
    return unicodedata.normalize("NFC", _strip_marks(unicodedata.normalize("NFKD", lowered)))


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    table = _table()
    found = table.get(char)
    if found is not None:
        return found
    if "\ud800" <= char <= "\udfff":
        # A lone surrogate (JSON "\ud800"): not encodable, so the regex engine (which
        # works on UTF-8) could not read the text; it reads as a replacement character.
        return "\ufffd"
    return "".join(table.get(c, c) for c in fold_base(char))


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
    if end <= start:
        return original_start, original_start
    # index[end - 1] + 1 also covers a ligature that folded to several characters;
    # dropped characters inside the span are covered by the range, and those right after
    # it (the combining marks of its last letter) up to the next folded character too.
    following = index[end] if end < len(index) else original_length
    return original_start, max(index[end - 1] + 1, following)


#: Code point -> folded text of every code point folded so far (``str.translate`` reads
#: it at C speed), and the characters that do not fold to exactly one character (dropped,
#: or grown into several): only text holding one of them needs an index map back.
_FOLD_MAP: dict[int, str] = {}
_NOT_SINGLE: set[str] = set()
#: The characters of ``_FOLD_MAP``'s keys, as a set of strings: a text's unseen
#: characters are then one C-level set difference.
_KNOWN: set[str] = set()
#: Distinct code points kept (a text cycling through all of Unicode must not grow the map
#: without bound; an entry is ~100 bytes). Past it, a text's unseen code points are folded
#: into a map of that text's characters only.
_FOLD_MAP_SIZE = 65536


def _fold_one(char: str) -> str:
    folded = char.lower() if char.isascii() else _fold_char(char)
    if len(folded) != 1:
        _NOT_SINGLE.add(char)
    return folded


def _fold_map_for(chars: set[str]) -> dict[int, str]:
    """A fold map holding every code point of ``chars``."""
    new = chars.difference(_KNOWN)
    if not new:
        return _FOLD_MAP
    if len(_KNOWN) + len(new) > _FOLD_MAP_SIZE:
        fold_map = _FOLD_MAP
        return {ord(c): fold_map[ord(c)] if c in _KNOWN else _fold_one(c) for c in chars}
    _FOLD_MAP.update((ord(char), _fold_one(char)) for char in new)
    _KNOWN.update(new)
    return _FOLD_MAP


def normalize(text: str) -> Normalized:
    """Fold ``text`` for matching: NFKC, lower case, look-alikes, format chars dropped."""
    if text.isascii():
        # Fast path: ASCII lower-casing never changes positions.
        return Normalized(text.lower(), None, len(text))
    chars = set(text)
    fold_map = _fold_map_for(chars)
    folded_text = text.translate(fold_map)
    special = chars.intersection(_NOT_SINGLE)
    if not special:
        return Normalized(folded_text, None, len(text))
    # Positions agree between the characters that fold to one: map only the others. (A
    # text holding one of them never has the identity map: a dropped character leaves a
    # position out, a grown one repeats it.)
    found: list[int] = []
    for char in special:
        at = text.find(char)
        while at >= 0:
            found.append(at)
            at = text.find(char, at + 1)
    found.sort()
    index: list[int] = []
    kept = 0
    for position in found:
        index.extend(range(kept, position))
        index.extend([position] * len(fold_map[ord(text[position])]))
        kept = position + 1
    index.extend(range(kept, len(text)))
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
