"""What a recognizer's regex needs from a text, read from the pattern itself.

:func:`min_digit_run` is the length of the run of digits every match of a pattern
contains (``[0-9]{7}`` in a medical licence, ``\\d{6}`` in a Finnish id): a text whose
longest run of digits is shorter cannot match, so the pattern is not run at all. A
text full of phone numbers and cards in groups of four skips a dozen such patterns.

The figure is a lower bound computed on the parsed pattern (``re``'s own parser):
optional parts, back-references and anything unknown count as breaking a run, so it is
never more than the truth. A pattern the parser cannot read gets 0 (always run).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_parser: Any = importlib.import_module("re._parser")
_constants: Any = importlib.import_module("re._constants")
_DIGIT_CODES = range(ord("0"), ord("9") + 1)


@dataclass(frozen=True, slots=True)
class _Runs:
    """Digit runs of every match of a piece of pattern (lower bounds)."""

    #: Every character the piece matches is a digit (then ``length`` is its minimum).
    digits_only: bool
    length: int
    #: Digits every match starts with / ends with / holds in a row somewhere.
    prefix: int
    suffix: int
    best: int


_BREAK = _Runs(False, 0, 0, 0, 0)
_EMPTY = _Runs(True, 0, 0, 0, 0)
_ONE_DIGIT = _Runs(True, 1, 1, 1, 1)


@lru_cache(maxsize=512)
def min_digit_run(pattern: str) -> int:
    """The fewest digits in a row that every match of ``pattern`` contains."""
    try:
        parsed = _parser.parse(pattern)
    except Exception:  # a ``regex``-only construct: no bound, always run
        return 0
    return _sequence(list(parsed)).best


def max_width(pattern: str) -> int | None:
    """The most characters a match of ``pattern`` spans (look-arounds excluded), or
    ``None``: no bound (``+``, ``*``, ``{n,}``) or a pattern ``re`` cannot read."""
    try:
        width: int = _parser.parse(pattern).getwidth()[1]
    except Exception:  # a ``regex``-only construct: no bound known
        return None
    return width if width < _constants.MAXREPEAT else None


def longest_match(patterns: Iterable[str]) -> int | None:
    """The most characters a match of any of ``patterns`` spans (``None``: no bound)."""
    widths = [max_width(pattern) for pattern in patterns]
    bounded = [width for width in widths if width is not None]
    return max(bounded, default=0) if len(bounded) == len(widths) else None


def _then(first: _Runs, second: _Runs) -> _Runs:
    if first.digits_only and second.digits_only:
        length = first.length + second.length
        return _Runs(True, length, length, length, length)
    prefix = first.length + second.prefix if first.digits_only else first.prefix
    suffix = second.length + first.suffix if second.digits_only else second.suffix
    best = max(first.best, second.best, first.suffix + second.prefix, prefix, suffix)
    return _Runs(False, 0, prefix, suffix, best)


def _sequence(items: list[Any]) -> _Runs:
    runs = _EMPTY
    for op, argument in items:
        runs = _then(runs, _item(op, argument))
    return runs


def _item(op: Any, argument: Any) -> _Runs:
    c = _constants
    if op is c.LITERAL:
        return _ONE_DIGIT if argument in _DIGIT_CODES else _BREAK
    if op is c.IN:
        return _ONE_DIGIT if _digit_set(argument) else _BREAK
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        low, _, body = argument
        inner = _sequence(list(body))
        if low == 0:
            return _BREAK  # may be absent: nothing is certain
        if inner.digits_only:
            length = low * inner.length
            return _Runs(True, length, length, length, length)
        best = max(inner.best, inner.suffix + inner.prefix if low > 1 else 0)
        return _Runs(False, 0, inner.prefix, inner.suffix, best)
    if op is c.SUBPATTERN:
        return _sequence(list(argument[-1]))
    if op is getattr(c, "ATOMIC_GROUP", None):
        return _sequence(list(argument))
    if op is c.BRANCH:
        branches = [_sequence(list(b)) for b in argument[1]]
        if not branches:
            return _BREAK
        return _Runs(
            all(b.digits_only for b in branches),
            min(b.length for b in branches),
            min(b.prefix for b in branches),
            min(b.suffix for b in branches),
            min(b.best for b in branches),
        )
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return _EMPTY  # zero width
    return _BREAK


def _digit_set(items: Any) -> bool:
    """Whether a character class holds nothing but digits."""
    c = _constants
    for op, argument in items:
        if op is c.LITERAL and argument in _DIGIT_CODES:
            continue
        if op is c.RANGE and argument[0] in _DIGIT_CODES and argument[1] in _DIGIT_CODES:
            continue
        if op is c.CATEGORY and argument in (c.CATEGORY_DIGIT, c.CATEGORY_UNI_DIGIT):
            continue
        return False
    return True


#: Presidio's URL pattern without a scheme (``(?i)((www\d{0,3}[.])?[a-z0-9.\-]{1,253}
#: [.](?:com|...)...``, a thousand top-level domains) is tried at every position of a
#: host name, each try backtracking through the domains. Every match lies in one run
#: of ``[a-z0-9.\-]`` (the domain's letters and the dot before it are in the class):
#: if none starts where the run starts, none starts later in it (the class repeat
#: reaches as far from the run's start) unless the run is longer than the repeat's
#: bound. So a run is tried once, at its start.
_RUN_PREFIX = "(?i)((www\\d{0,3}[.])?[a-z0-9.\\-]{1,253}[.]"
_RUN_BOUND = 253
RUN_CLASS = r"[a-z0-9.\-]+"


def starts_with_bounded_run(pattern: str) -> bool:
    """Whether :func:`matches_at_run_starts` finds what ``finditer`` finds."""
    return pattern.startswith(_RUN_PREFIX)


def matches_at_run_starts(pattern: Any, runs: Any, text: str) -> list[Any]:
    """``pattern.finditer(text)`` for a pattern whose matches start a bounded run of
    ``runs``' class (see :data:`RUN_CLASS`): tried at run starts, and where the last
    match ended."""
    found: list[Any] = []
    position, end = 0, len(text)
    while position < end:
        run = runs.search(text, position)
        if run is None:
            break
        start, run_end = run.span()
        if run_end - start >= _RUN_BOUND:
            match = pattern.search(text, start)  # a long run: try every position
        else:
            match = pattern.match(text, start)
        if match is None:
            if run_end - start >= _RUN_BOUND:
                break
            position = run_end
            continue
        found.append(match)
        position = max(match.end(), match.start() + 1)
    return found
