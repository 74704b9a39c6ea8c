"""Figures of plain text read by byte operations instead of the figure regex.

A passage whose figures are bare digit runs (no scale or unit word, no ``%``, no digit
touching a letter, a dot or a group separator) has exactly those runs as figures, and
a plain small integer can be ruled out of most passages by their digits and words
alone. These readings are C byte translations and searches (a few µs per 2 KB, where
the regex costs tens); tests/grounding/test_figures.py compares each with the regex.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from guard.grounding.figures import (
    _FIGURE_WORDS,
    _NUMBER_WORD_SET,
    _SCALE_WORDS,
    Figure,
    _common,
    _figure,
    _meets,
)
from guard.grounding.units import NUMBER_WORDS


def integer_hints(text: str, words: Collection[str]) -> frozenset[int] | None:
    """The integers whose neighbours a figure of ``text`` could match, read without
    the figure regex; ``None`` when that cannot be told so cheaply.

    A plain integer ``n`` below 1,000 (tolerance 0.5, no unit) matches a figure of
    ``text`` only if that figure's value is within 0.5 of it, or within the rounding of
    a rounded figure. Without a scale word, a figure's value is its digits (a rounded
    one written in full is 10,000 or more, out of reach), so its whole part is a run of
    digits reading ``n`` or ``n - 1`` (or a group of three digits starting a run:
    grouped digits may stop inside one); a number word is its value. A scale word
    among ``words``, a digit followed by a letter (``5k``, ``3bn``, ``4th``) or text
    beyond ASCII (other digits) gives ``None``. So ``n`` may be matched only if ``n``
    or ``n - 1`` is in the set: a claim's figure missing from its best passage is then
    looked for only in the passages that may hold it (tests/grounding/test_figures.py
    checks this against the figures read). C byte operations only: a few µs, where
    reading the figures costs tens.
    """
    if not text.isascii() or _meets(words, _SCALE_WORDS):
        return None
    data = text.encode()
    if DIGIT_LETTER.search(data.translate(_SHAPES)):
        return None
    runs = data.translate(_DIGITS_ONLY).split()
    found = set(map(int, runs))
    found.update(int(run[:3]) for run in runs if len(run) > 3)
    found.update(NUMBER_WORDS[word] for word in _common(words, _NUMBER_WORD_SET))
    return frozenset(found)


#: Byte tables: every digit as ``0`` and every letter as ``a`` (the rest a space), and
#: the digits alone.
_SHAPES = bytes(
    48 if chr(c).isdigit() and c < 128 else 97 if chr(c).isalpha() and c < 128 else 32
    for c in range(256)
)
_DIGITS_ONLY = bytes(c if 48 <= c <= 57 else 32 for c in range(256))
#: Searched from a digit (rare), not a letter: ``b"0a" in`` 2 KB of shapes 2.7 us, this
#: 0.7 us. In :data:`_SHAPES`: a digit before a letter; in :data:`_FIGURE_SHAPES`:
#: ``0a``, ``a0``, ``.0``, ``,0`` or ``0 0`` (five searches 11 us, one regex 1.8 us).
DIGIT_LETTER = re.compile(b"0a")
NOT_PLAIN = re.compile(b"0(?:a| 0|(?<=[a.,]0))")


#: Digits as ``0``, letters and ``_`` as ``a``, ``.`` and ``,`` as themselves, the
#: white space ``\s`` knows in ASCII as a space, the rest as ``#``.
_FIGURE_SHAPES = bytes(
    48
    if 48 <= c <= 57
    else 97
    if c < 128 and (chr(c).isalpha() or c == 95)
    else c
    if c in (44, 46)
    else 32
    if chr(c) in " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
    else 35
    for c in range(256)
)


def plain_figures(text: str, vocabulary: Collection[str]) -> list[Figure] | None:
    """:func:`figures` of ``text`` when each is a bare run of digits, read by byte
    translation instead of the figure regex (a passage's figures, several times
    faster); ``vocabulary`` must hold every lower-cased word of ``text`` (a passage's
    words). ``None`` when a figure might be more (see :func:`plain_runs`)."""
    runs = plain_runs(text, vocabulary)
    return None if runs is None else figures_of_runs(runs, vocabulary)


def figures_of_runs(runs: list[bytes], vocabulary: Collection[str]) -> list[Figure]:
    """:func:`plain_figures` from the text's :func:`plain_runs` (a passage computes
    them once for its figures and its integers)."""
    found: list[Figure] = []
    for run in runs:
        if len(run) < 5:
            found.append((float(run), 0.5, ""))
        else:
            found.append((*_figure(run.decode(), "", "", False), ""))
    for word in _common(vocabulary, _NUMBER_WORD_SET):
        found.append((float(NUMBER_WORDS[word]), 0.0, ""))
    return found


def plain_integers(text: str, vocabulary: Collection[str]) -> frozenset[int] | None:
    """When :func:`plain_figures` reads ``text``: the integers a plain small integer
    (see :func:`is_small_integer`) matches among its figures, which are exactly their
    values (each figure is a whole number; a rounded one is 10,000 or more, and its
    rounding reaches no lower than half of it). ``None`` otherwise. Deciding a claim's
    small integer against a passage by one set lookup spares reading and sorting the
    passage's figures (tests/grounding compares this with the figure pool)."""
    runs = plain_runs(text, vocabulary)
    return None if runs is None else integers_of_runs(runs, vocabulary)


def integers_of_runs(runs: list[bytes], vocabulary: Collection[str]) -> frozenset[int]:
    """:func:`plain_integers` from the text's :func:`plain_runs`."""
    found = set(map(int, runs))
    found.update(NUMBER_WORDS[word] for word in _common(vocabulary, _NUMBER_WORD_SET))
    return frozenset(found)


def figure_shapes(text: str) -> bytes:
    """``text``'s UTF-8 as :data:`_FIGURE_SHAPES` reads it (what :func:`plain_runs`
    and a passage's integer rule-out search)."""
    return text.encode().translate(_FIGURE_SHAPES)


def plain_runs(
    text: str, vocabulary: Collection[str], shapes: bytes | None = None
) -> list[bytes] | None:
    """The digit runs of ``text`` when each is a figure of its digits alone, else
    ``None``: text beyond ASCII, ``%``, a scale or unit word, an apostrophe (it joins
    words the figure regex reads apart), or a digit run touching a letter, a dot or a
    group separator. Otherwise every digit run starts a figure the regex reads as its
    digits alone (tests/grounding compares the two on random text). ``shapes`` is
    :func:`figure_shapes` of ``text`` when the caller has it."""
    if not text.isascii() or "%" in text or _meets(vocabulary, _FIGURE_WORDS):
        return None
    if "'" in text:
        return None  # "km'0" is one word, but "km" a unit to the figure regex
    if shapes is None:
        shapes = figure_shapes(text)
    # Shapes after which a digit run may not be a plain integer figure: a letter right
    # after or before digits (``5k``, ``a4``), a dot before digits (``.5``, ``1.5``), or
    # digits after a group separator (``1,000``, ``1 000``).
    if NOT_PLAIN.search(shapes):
        return None
    return text.encode().translate(_DIGITS_ONLY).split()
