"""Words, stems and numbers: the normalisation every grounding comparison goes through.

Everything here is a pure function of its input, cached where the same word is seen
again and again (stems), and linear in the text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Collection
from functools import lru_cache
from operator import methodcaller

#: Function words carry no evidence: they are dropped before scoring.
STOPWORDS = frozenset(
    """a an the and or but if then than so of to in on at by for from with without into onto
    over under about above below between among through during before after since until upon
    is are was were be been being am do does did done doing has have had having will would
    shall should can could may might must it its it's this that these those there here
    he she they them their theirs his her hers him we us our ours you your yours i me my mine
    who whom whose which what when where why how as also too very just only such same other
    another each every all any both either neither some most more many much few own
    one's s t d ll re ve m o y yes not no nor never none""".split()
)
#: Words that turn a statement around.
NEGATIONS = frozenset("not no never none nothing nobody neither nor cannot without".split())

#: Pairs of opposite words; a claim using one where its window uses the other conflicts.
_ANTONYM_PAIRS = (
    ("increase", "decrease"), ("rise", "fall"), ("higher", "lower"), ("more", "less"),
    ("larger", "smaller"), ("bigger", "smaller"), ("before", "after"), ("win", "lose"),
    ("won", "lost"), ("true", "false"), ("allow", "forbid"), ("accept", "reject"),
    ("maximum", "minimum"), ("above", "below"), ("first", "last"), ("open", "closed"),
    ("increased", "decreased"), ("gain", "loss"), ("profit", "loss"), ("up", "down"),
    ("earliest", "latest"), ("older", "younger"), ("north", "south"), ("east", "west"),
    ("positive", "negative"), ("success", "failure"), ("approve", "deny"),
    ("include", "exclude"), ("legal", "illegal"), ("safe", "unsafe"), ("always", "never"),
)  # fmt: skip
ANTONYMS: dict[str, frozenset[str]] = {}
for _left, _right in _ANTONYM_PAIRS:
    ANTONYMS[_left] = ANTONYMS.get(_left, frozenset()) | {_right}
    ANTONYMS[_right] = ANTONYMS.get(_right, frozenset()) | {_left}

WORD = re.compile(r"\w+(?:'\w+)?")
_find_words = WORD.findall
_ends_contracted_negation = methodcaller("endswith", "n't")
#: "one" is left out: it is a pronoun far more often than a count.
_NUMBER_WORDS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
_NUMBER_WORD_SET = frozenset(_NUMBER_WORDS)
_DIGIT = re.compile(r"\d")
_SEPARATORS = re.compile(r"[,\u202f\u00a0 ]")
_SCALES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mio": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip
#: A figure: digits with thousands separators and decimals, an optional scale word.
#: A spaced ``m`` or ``b`` is a unit, not a scale: "5 m" is five metres, "5m" and "$5M"
#: are five million (groups: whole, decimals, scale, spaced unit).
NUMBER = re.compile(
    # The look-behind (no word character or dot before the figure) comes after the first
    # digit so that the scan can skip to digits: twice as fast on prose.
    r"(\d(?<![\w.]\d)\d{0,2}(?:[,\u202f\u00a0 ]\d{3})+|\d(?<![\w.]\d)\d*)(?:\.(\d+))?"
    r"(?:(\s[mb])\b|\s?(thousand|million|billion|trillion|mn|bn|tn|mio|k|m|b)\b)?",
    re.IGNORECASE,
)

_SUFFIXES = (
    ("ational", "ate"), ("ization", "ize"), ("fulness", "ful"), ("iveness", "ive"),
    ("ations", "ate"), ("ation", "ate"), ("ments", ""), ("ment", ""), ("ness", ""),
    ("ingly", ""), ("edly", ""), ("ities", ""), ("ity", ""), ("ies", "y"), ("ied", "y"),
    ("ing", ""), ("ers", ""), ("er", ""), ("ed", ""), ("ly", ""), ("es", ""), ("s", ""),
)  # fmt: skip


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix-stripping stem: ``grows``, ``grew``-less ``growing`` and ``grown``
    differ, but plural, tense and adverb endings of regular words meet."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + replacement
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # running -> run, stopped -> stop
            if base.endswith("e") and len(base) > 4:
                base = base[:-1]  # create/creat(ed) meet
            return base
    if word.endswith("e") and len(word) > 4:
        return word[:-1]
    return word


def fold(text: str) -> str:
    """``text`` as words are read from it: lower case, curly apostrophes straight, and
    underscores as spaces (``snake_case`` is two words)."""
    return text.lower().replace("’", "'").replace("_", " ")


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (apostrophes inside words kept, curly ones made straight)."""
    return words_of_folded(fold(text))


def words_of_folded(text: str) -> list[str]:
    """The words :data:`WORD` finds in already folded ``text``.

    A word never spans white space, so the text is split there first (C speed) and only
    pieces that are not a plain alphanumeric run go through the regex: the same words,
    in half the time of one ``findall`` over the text (bench/grounding.py).
    """
    out: list[str] = []
    for piece in text.split():
        if piece.isalnum():  # exactly the characters \w matches, underscore aside
            out.append(piece)
        else:
            out.extend(_find_words(piece))
    return out


def sentence_words(text: str) -> list[list[str]]:
    """The words of folded ``text``, per sentence: a sentence ends at ``.``, ``!`` or
    ``?`` followed by white space or the end (``1.5`` stays whole), and at a line
    break. Sentences without words are dropped."""
    sentences: list[list[str]] = []
    for line in text.split("\n"):
        current: list[str] = []
        for piece in line.split():
            if piece.isalnum():
                current.append(piece)
                continue
            current.extend(_find_words(piece))
            if piece[-1] in ".!?" and current:
                sentences.append(current)
                current = []
        if current:
            sentences.append(current)
    return sentences


#: word -> its content stem ("" for none): a plain dict is cheaper per lookup than an
#: lru_cache wrapper, and words repeat across calls. Cleared when it grows large.
_TERMS: dict[str, str] = {}
_TERMS_LIMIT = 200_000


def term(word: str) -> str:
    """The content stem of a lower-case word, or ``""`` for a stopword, a figure or a
    scale word (figures are compared as values, see :func:`figures`)."""
    known = _TERMS.get(word)
    if known is not None:
        return known
    dropped = word in STOPWORDS or word in _SCALES or _DIGIT.search(word)
    found = "" if dropped else stem(word)
    if len(_TERMS) >= _TERMS_LIMIT:
        _TERMS.clear()
    _TERMS[word] = found
    return found


def terms_of(word_list: list[str]) -> list[str]:
    """Content stems of a word list, in order."""
    get = _TERMS.get
    out = []
    for word in word_list:
        found = get(word)
        if found is None:
            found = term(word)
        if found:
            out.append(found)
    return out


def content_terms(text: str) -> list[str]:
    """Content stems of ``text``, in order (see :func:`term`)."""
    return terms_of(words(text))


def has_negation(tokens: list[str] | frozenset[str]) -> bool:
    """Whether a word list negates (``not``, ``never``, ``isn't``...)."""
    if not NEGATIONS.isdisjoint(tokens):
        return True
    return any(map(_ends_contracted_negation, tokens))


def figures(text: str, word_list: Collection[str] | None = None) -> list[tuple[float, float]]:
    """Figures in ``text`` as (value, tolerance); ``word_list`` is ``words(text)`` when the
    caller has it already (number words such as ``seven`` are found there).

    ``1.5 million`` and ``1,500,000`` are both 1.5e6. The tolerance is half a unit of the
    last significant digit written, so a rounded figure (``1.5 million`` for
    ``1,512,000``) still matches; a year-like integer is exact.
    """
    found: list[tuple[float, float]] = []
    if _DIGIT.search(text):
        # findall hands over plain tuples (no match objects); most figures are plain
        # integers and take the short way.
        for whole, decimals, unit, scale in NUMBER.findall(text):
            if not (decimals or scale or unit) and whole.isdigit() and len(whole) < 5:
                found.append((float(whole), 0.5))
            else:
                found.append(_figure(whole, decimals, scale, bool(unit)))
    vocabulary = words(text) if word_list is None else word_list
    for word in _NUMBER_WORD_SET.intersection(vocabulary):
        found.append((float(_NUMBER_WORDS[word]), 0.0))
    return found


def _figure(whole: str, decimals: str, scale: str, unit: bool) -> tuple[float, float]:
    digits = whole if whole.isdigit() else _SEPARATORS.sub("", whole)
    value = float(f"{digits}.{decimals}" if decimals else digits)
    step = 10.0 ** -len(decimals) if decimals else 1.0
    if scale:
        factor = _SCALES[scale.lower()]
        value, step = value * factor, step * factor
    elif not decimals and not unit and value >= 10000:
        # 1,500,000 written in full: trailing zeros are rounding, not precision.
        stripped = digits.rstrip("0")
        step = 10.0 ** (len(digits) - len(stripped)) if stripped else 1.0
    return value, step / 2


class FigurePool:
    """The figures of one passage, sorted by value for range lookups."""

    __slots__ = ("reach", "tolerances", "values")

    def __init__(self, found: list[tuple[float, float]]) -> None:
        found = sorted(found)
        self.values = [value for value, _ in found]
        self.tolerances = [tolerance for _, tolerance in found]
        #: The widest tolerance of a rounded passage figure ("about 1.5 million").
        self.reach = max((t for t in self.tolerances if t > 0.5), default=0.0)

    def matches(self, value: float, tolerance: float) -> bool:
        """Whether ``value`` (± ``tolerance``) equals one of the figures, or lies within
        the rounding of a rounded one."""
        exact = max(tolerance, 1e-9 * max(abs(value), 1.0))
        low = bisect_left(self.values, value - max(exact, self.reach))
        for position in range(low, len(self.values)):
            other = self.values[position]
            if other > value + max(exact, self.reach):
                break
            gap = abs(value - other)
            if gap <= exact:
                return True
            other_tolerance = self.tolerances[position]
            if other_tolerance > 0.5 and gap <= other_tolerance:
                return True
        return False
