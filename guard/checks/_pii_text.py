"""The text the ``pii`` check matches on, and the way back to the characters sent.

Presidio's recognizers see the text folded by :func:`guard.normalize.normalize` (NFKC,
zero-width and bidi controls and soft hyphens dropped, look-alike letters folded) with
the case of the original restored — checksums such as Bitcoin's base58 are
case-sensitive — and every Unicode decimal digit (Arabic-Indic, Devanagari, ...) read
as its ASCII digit. That is the *plain* view.

Digit runs written with unusual separators (``4242·4242·4242·4242``, ``4 2 4 2 ...``,
``078.05.1120``) get a second, *compact* view in which spaced digits are joined and
dots, middle dots, underscores, slashes and Unicode dashes between digits become ``-``
— a separator the number recognizers accept. Only the recognizers of numbers run on it
(an IP address or a date keeps its dots in the plain view).

Both views map spans back to the original text, so a redaction edits exactly the
characters the caller sent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from guard.normalize import Normalized, normalize

#: A run of digits joined by separators; in the compact view its separators change.
#: (``(?:[+(]\s?)?\d+...``, written to start with one character class so that ``re``
#: skips to candidates in C.)
_DIGIT_RUN = re.compile(r"[+(\d](?:(?<=[+(])\s?\d+|(?<=\d)\d*)(?:[\s.\-_/·()‐‑‒–—−]{1,3}\d+)+")
#: A character a run can hold.
_RUN_CHAR = re.compile(r"[\d\s.\-_/·()‐‑‒–—−+]")
#: Separators that the number recognizers do not accept between digits.
_ODD_SEPARATOR = re.compile(r"\d(?:[.·_/‐‑‒–—−]\d|\s\d\s\d\s\d)")
_SEPARATORS = re.compile(r"[\s.\-_/·()‐‑‒–—−]+")
_TO_HYPHEN = str.maketrans(dict.fromkeys(".·_/‐‑‒–—−", "-"))
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=4096)
def _view_char(original: str, folded: str) -> str:
    """The plain-view character for one folded character of ``original``."""
    # A digit of any script is its value (folding for keywords reads the Arabic-Indic
    # five as the look-alike letter "o"; a number recognizer needs the 5).
    digit = unicodedata.decimal(original, None)
    if digit is not None:
        return str(digit)
    if len(folded) == 1 and folded.isdigit() and not folded.isascii():
        return str(unicodedata.decimal(folded, 0))
    nfkc = unicodedata.normalize("NFKC", original)
    if len(nfkc) == 1 and nfkc.lower() == folded:
        # Keep the case the caller wrote (full-width letters fold to their ASCII case).
        return nfkc
    return folded


@dataclass(frozen=True, slots=True)
class View:
    """Text to match on and the map of its positions back to the original text."""

    text: str
    #: Position in the plain view of each character (``None``: the identity).
    to_plain: tuple[int, ...] | None
    plain: Normalized

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``text[start:end]``."""
        if self.to_plain is not None:
            start, end = self.to_plain[start], self.to_plain[end - 1] + 1
        return self.plain.span(start, end)


def plain_view(text: str) -> View:
    """The plain view of ``text`` (see the module docstring)."""
    if text.isascii():
        return View(text, None, Normalized(text, None, len(text)))
    folded = normalize(text)
    index = folded.index
    chars = folded.text
    if index is None:
        # Folding kept every position: only the non-ASCII characters change, found in C
        # (a step per character cost ~1,000 instructions a character of prose).
        pieces: list[str] = []
        last = 0
        for match in _NOT_ASCII.finditer(text):
            at = match.start()
            pieces += (text[last:at], _view_char(text[at], chars[at]))
            last = at + 1
        pieces.append(text[last:])
        out = "".join(pieces)
    else:
        out = "".join(
            text[i] if text[i].isascii() else _view_char(text[i], c)
            for i, c in zip(index, chars, strict=True)
        )
    return View(out, None, Normalized(out, folded.index, folded.original_length))


def compact_view(plain: View) -> View | None:
    """The compact view of ``plain``, or ``None`` when no digit run needs one."""
    text = plain.text
    if _ODD_SEPARATOR.search(text) is None:
        return None
    parts: list[str] = []
    positions: list[int] = []
    last = 0
    for run in _odd_runs(text):
        piece = run.group()
        if not _needs_compacting(piece):
            continue
        start, end = run.span()
        parts.append(text[last:start])
        positions.extend(range(last, start))
        for offset, char in _compacted(piece):
            parts.append(char)
            positions.append(start + offset)
        last = end
    if not parts:
        return None
    parts.append(text[last:])
    positions.extend(range(last, len(text)))
    return View("".join(parts), tuple(positions), plain.plain)


def _odd_runs(text: str) -> list[re.Match[str]]:
    """The runs of ``_DIGIT_RUN.finditer(text)`` that hold an odd separator, found from
    the odd separators: the runs of a text full of ordinary numbers are not all read.

    A run is made of digits, separators and ``+``: no run crosses any other character,
    so ``finditer`` resumed just after one finds the same runs from there on.
    """
    found: list[re.Match[str]] = []
    resume = 0
    for odd in _ODD_SEPARATOR.finditer(text):
        at = odd.start()
        if at < resume:
            continue  # in the last run found
        restart = at
        while restart > resume and _RUN_CHAR.match(text, restart - 1) is not None:
            restart -= 1
        for run in _DIGIT_RUN.finditer(text, restart):
            resume = run.end()
            if run.end() > at:
                # Runs before it hold no odd separator (it would have been found).
                found.append(run)
                break
        else:
            break  # no run from here on
    return found


def _compacted(piece: str) -> list[tuple[int, str]]:
    """The characters of a digit run in the compact view, with their offsets.

    One digit between every separator means the digits were spaced out: the spaces go
    (``5 3 6 - 2 2 - 1 2 3 4`` is ``536-22-1234``); when single digits remain between
    the other separators too (``4·1·1·1``), those go as well. Otherwise odd separators
    become ``-``.
    """
    groups = [g for g in _SEPARATORS.split(piece.lstrip("+(")) if g]
    if not (len(groups) >= 4 and all(len(g) == 1 for g in groups)):
        return [(i, " " if c.isspace() else c.translate(_TO_HYPHEN)) for i, c in enumerate(piece)]
    kept = [(i, c) for i, c in enumerate(piece) if not c.isspace()]
    rest = "".join(c for _, c in kept)
    single = all(len(g) == 1 for g in _SEPARATORS.split(rest.lstrip("+(")) if g)
    return [(i, c.translate(_TO_HYPHEN)) for i, c in kept
            if not (single and not c.isdigit() and c != "+")]  # fmt: skip


def _needs_compacting(run: str) -> bool:
    """A run of at least 9 digits (the shortest number entity written with odd
    separators) with a separator the number recognizers do not accept; not an IPv4
    address or a version string (dots between groups of one to three digits)."""
    if _ODD_SEPARATOR.search(run) is None or sum(c.isdigit() for c in run) < 9:
        return False
    return _DOTTED.fullmatch(run) is None


_DOTTED = re.compile(r"\d{1,3}(?:\.\d{1,3})+")
