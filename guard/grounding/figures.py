"""Figures: numbers with their scale and unit, compared as values.

``1.5 million`` and ``1,500,000`` are both 1.5e6; ``5 km``, ``5,000 m`` and ``5
kilometres`` are one length; ``8%`` and ``8 percent`` one share. A figure with a unit
matches a passage figure of the same dimension (converted) or one without a unit; it
does not match a figure of another dimension (``5 km`` is not ``5 miles``). A figure
without a unit matches by value, whatever unit the passage wrote.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Collection
from collections.abc import Set as AbstractSet
from math import isfinite

from guard.grounding.text import words
from guard.grounding.units import NUMBER_WORDS, SCALES, UNIT_SPELLINGS, UNITS

#: Plain integers below this can be ruled out of a passage by its words (see
#: :func:`guard.grounding.plain_figures.integer_hints`).
SMALL_INTEGER = 1000
_SCALE_WORDS = frozenset(SCALES)
#: Words that may make a figure more than its digits: scale and unit words.
_FIGURE_WORDS = _SCALE_WORDS | {w for s in UNIT_SPELLINGS for w in s.split()}

#: A figure as read: (value, tolerance, unit or "").
Figure = tuple[float, float, str]

_DIGIT = re.compile(r"\d")
_SEPARATORS = re.compile(r"[,\u202f\u00a0 ]")
_NUMBER_WORD_SET = frozenset(NUMBER_WORDS)
#: A figure: digits with thousands separators and decimals, an optional scale word,
#: an optional unit. A spaced ``m`` or ``b`` is not a scale: "5 m" is five metres, "5m"
#: and "$5M" are five million (groups: whole, decimals, spaced m/b, scale, unit).
_FIGURE = (
    # The look-behind (no word character or dot before the figure) comes after the first
    # digit so that the scan can skip to digits: twice as fast on prose.
    r"(\d(?<![\w.]\d)\d{0,2}(?:[,\u202f\u00a0 ]\d{3})+|\d(?<![\w.]\d)\d*)(?:\.(\d+))?"
    # Only the words after the digits have a case: the flag is scoped to them, so the
    # scan for a figure's first digit runs without case folding. The look-ahead lets
    # the scale alternation be tried only before a letter one of its words starts with
    # (most figures have none: it halved a passage's figure reading).
    r"(?i:(?:(?=\s?[bkmt])(?:(\s[mb])\b|\s?(thousand|million|billion|trillion|mn|bn|tn|mio|k|m|b)\b))?"
    # The unit: any whole word (or ``%``) after the figure, kept only when it is one of
    # UNIT_SPELLINGS. A word that is not a unit holds no digit, so the figures found
    # after it are those an alternation of every spelling found; one pattern per
    # spelling tried after every figure was a third of a passage's figure reading.
    r"(?:\s?(per\scent|[^\W\d_]+|%)(?!\w))?)"
)
NUMBER = re.compile(_FIGURE)
#: The same for ASCII text in ASCII classes, which the engine tests faster than Unicode
#: categories: ``\d`` is ``[0-9]``, a letter ``[A-Za-z]``, and ``\s`` the ASCII white
#: space ``str.isspace`` knows (``re.ASCII``'s ``\s`` lacks ``\x1c``-``\x1f``).
_ASCII_NUMBER = re.compile(
    _FIGURE.replace(r"\d", "[0-9]")
    .replace("[^\\W[0-9]_]", "[A-Za-z]")
    .replace(r"\s", r"[\t\n\x0b\x0c\r\x1c-\x1f ]"),
    re.ASCII,
)


def _common(vocabulary: Collection[str], fixed: frozenset[str]) -> AbstractSet[str]:
    """The words of ``vocabulary`` among ``fixed``, iterating the smaller when
    ``vocabulary`` is a set or a dict's keys (a passage's words are the keys of a dict:
    a fixed word list is not walked word by word against them)."""
    if isinstance(vocabulary, AbstractSet):
        return vocabulary & fixed
    return fixed.intersection(vocabulary)


def _meets(vocabulary: Collection[str], fixed: frozenset[str]) -> bool:
    """Whether a word of ``vocabulary`` is among ``fixed`` (see :func:`_common`)."""
    if isinstance(vocabulary, AbstractSet):
        return not vocabulary.isdisjoint(fixed)
    return not fixed.isdisjoint(vocabulary)


def figures(text: str, word_list: Collection[str] | None = None) -> list[Figure]:
    """Figures in ``text`` as (value, tolerance, unit); ``word_list`` is ``words(text)``
    when the caller has it already (number words such as ``seven`` are found there).

    The tolerance is half a unit of the last significant digit written, so a rounded
    figure (``1.5 million`` for ``1,512,000``) still matches; a year-like integer is exact.
    """
    found: list[Figure] = []
    # findall hands over plain tuples (no match objects); most figures are plain
    # integers and take the short way. (Its scan skips to digits: no text holding none
    # needs a test first.)
    number = _ASCII_NUMBER if text.isascii() else NUMBER
    for whole, decimals, spaced, scale, written in number.findall(text):
        # Most figures are followed by a word that is no unit: one lookup tells.
        unit = UNIT_SPELLINGS.get(written.lower(), "") if written else ""
        if not unit and len(written) == 8:
            unit = _unit(written)  # "per cent" with any white space
        if not (decimals or scale or spaced or unit) and whole.isdigit() and len(whole) < 5:
            found.append((float(whole), 0.5, ""))
            continue
        value, tolerance = _figure(whole, decimals, scale, bool(spaced))
        if spaced[1:].lower() == "m" and not unit:
            unit = "m"  # "5 m" is five metres
        found.append((value, tolerance, unit))
    vocabulary = words(text) if word_list is None else word_list
    number_words: Collection[str]
    # (a claim's word list, mostly: told apart from a set without the ABC's check)
    if type(vocabulary) is not list and isinstance(vocabulary, AbstractSet):
        number_words = _common(vocabulary, _NUMBER_WORD_SET)
    elif _NUMBER_WORD_SET.isdisjoint(vocabulary):
        return found  # most claims write no number word
    else:
        # A claim's words: its number words in the order it writes them (a set's order
        # follows the process's string hashes, and a claim's reasons follow its figures).
        number_words = dict.fromkeys(filter(_NUMBER_WORD_SET.__contains__, vocabulary))
    for word in number_words:
        found.append((float(NUMBER_WORDS[word]), 0.0, ""))
    return found


def _unit(written: str) -> str:
    """The unit ``written`` names, ``""`` for none (or a word that is no unit)."""
    if not written:
        return ""
    return UNIT_SPELLINGS.get(" ".join(written.lower().split()), "")


def _figure(whole: str, decimals: str, scale: str, spaced: bool) -> tuple[float, float]:
    digits = whole if whole.isdigit() else _SEPARATORS.sub("", whole)
    value = float(f"{digits}.{decimals}" if decimals else digits)
    step = 10.0 ** -len(decimals) if decimals else 1.0
    if scale:
        factor = SCALES[scale.lower()]
        value, step = value * factor, step * factor
    elif not decimals and not spaced and value >= 10000:
        # 1,500,000 written in full: trailing zeros are rounding, not precision.
        stripped = digits.rstrip("0")
        step = 10.0 ** (len(digits) - len(stripped)) if stripped else 1.0
    return value, step / 2


class _Values:
    """Figures sorted by value for range lookups; ``rounded`` ones (a tolerance over
    half a unit: ``1.5 million``, ``1,500,000``) match anything within their rounding.

    Every figure's value is in :attr:`values`; the rounded ones are also kept apart with
    their tolerances, so that a lookup scans the window of :attr:`reach` through the few
    rounded figures only, and every figure only near ``value``."""

    __slots__ = ("reach", "rounded", "rounded_values", "values")

    def __init__(self, values: list[float], rounded: list[tuple[float, float]]) -> None:
        values.sort()
        rounded.sort()
        self.values = values
        #: The rounded figures as (value, tolerance), by value.
        self.rounded = rounded
        self.rounded_values = [value for value, _ in rounded]
        #: How far from a value rounded figures are looked for: the largest rounded
        #: figure's value (what this was before rounded figures were kept apart; it
        #: was documented as their widest tolerance, which it is not, and is kept so
        #: that results stay the same: see the commit).
        self.reach = max(self.rounded_values, default=0.0)

    def matches(self, value: float, tolerance: float) -> bool:
        """Whether a figure within ``max(exact, reach)`` of ``value`` is within ``exact``
        of it (``tolerance``, at least a relative 1e-9), or a rounded one within its own
        tolerance."""
        exact = max(tolerance, 1e-9 * max(abs(value), 1.0))
        reach = max(exact, self.reach)
        low, high = value - reach, value + reach
        start, stop = low, high
        if reach != exact and isfinite(low + high):
            # A figure within ``exact`` of ``value`` lies within ``2 * exact`` of it however
            # the subtractions round (``exact`` is at least 1e-9 of ``value``, far above a
            # rounding error): the whole window is scanned through rounded figures only.
            near_low, near_high = value - 2 * exact, value + 2 * exact
            start = near_low if near_low > low else low
            stop = near_high if near_high < high else high
        values = self.values
        for position in range(bisect_left(values, start), len(values)):
            other = values[position]
            if other > stop:
                break
            if abs(value - other) <= exact:
                return True
        rounded = self.rounded
        for position in range(bisect_left(self.rounded_values, low), len(rounded)):
            other, own = rounded[position]
            if other > high:
                break
            if abs(value - other) <= own:
                return True
        return False


def _values(found: list[tuple[float, float, bool]]) -> _Values:
    """(value, tolerance, rounded) figures as :class:`_Values`."""
    rounded = [(value, tolerance) for value, tolerance, is_rounded in found if is_rounded]
    return _Values([value for value, _, _ in found], rounded)


class FigurePool:
    """The figures of one passage (or of several: a figure matches the pool of several
    passages exactly when it matches one of theirs, every test being "some figure is
    close enough"): all by value, and those with a unit by dimension."""

    __slots__ = ("_by_dimension", "_every", "_unitless")

    def __init__(self, found: list[Figure]) -> None:
        self._every = _Values(
            [value for value, _, _ in found], [(v, t) for v, t, _ in found if t > 0.5]
        )
        self._by_dimension: dict[str, _Values] = {}
        if all(not unit for _, _, unit in found):
            self._unitless = self._every  # most passages write no unit: one sorted list
            return
        self._unitless = _values([(v, t, t > 0.5) for v, t, u in found if not u])
        dimensions: dict[str, list[tuple[float, float, bool]]] = {}
        for value, tolerance, unit in found:
            if unit:
                dimension, factor = UNITS[unit]
                entry = (value * factor, tolerance * factor, tolerance > 0.5)
                dimensions.setdefault(dimension, []).append(entry)
        self._by_dimension = {d: _values(entries) for d, entries in dimensions.items()}

    def matches(self, value: float, tolerance: float, unit: str = "") -> bool:
        """Whether the figure ``value`` (± ``tolerance``) in ``unit`` is among these."""
        if not unit:
            return self._every.matches(value, tolerance)
        dimension, factor = UNITS[unit]
        same = self._by_dimension.get(dimension)
        if same is not None and same.matches(value * factor, tolerance * factor):
            return True
        return self._unitless.matches(value, tolerance)


def is_small_integer(value: float, tolerance: float, unit: str) -> bool:
    """Whether a figure is a plain integer below :data:`SMALL_INTEGER` written without
    a unit: the figures :func:`guard.grounding.plain_figures.integer_hints` can rule out."""
    return not unit and tolerance == 0.5 and value < SMALL_INTEGER and value.is_integer()
