"""Support scoring: how well the passages back one claim.

The passages are sentences, each a set of content stems (:mod:`.passages`); a stem's
inverse document frequency over those sentences makes a word every passage repeats
weak evidence and a rare one strong. A claim is scored against its best *window* — one
sentence with up to one neighbour on each side — as the IDF-weighted share of its
content stems the window contains (a shared five-letter prefix counts for part). Hard
signals then lower that share: a figure the passages do not contain, a proper name
they never mention, a negation or antonym the window does not share.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import add, itemgetter
from typing import NamedTuple

from guard.grounding.figures import figures
from guard.grounding.names import NAME, name_missing
from guard.grounding.negation import denies
from guard.grounding.passages import PassageIndex, rows_of
from guard.grounding.text import ANTONYMS, has_negation, terms_of, words

#: The name pattern (:mod:`.names`), here too for its tests.
_NAME = NAME
_PREFIX_CREDIT = 0.6
_ANTONYM_WORDS = frozenset(ANTONYMS)
_NO_WORDS: frozenset[str] = frozenset()
_weight_of = itemgetter(1)
#: Multipliers applied to the lexical share by each hard signal.
PENALTIES = {
    "number_mismatch": 0.2,
    "name_missing": 0.45,
    "negation": 0.45,
    "antonym": 0.55,
    "number_elsewhere": 0.85,
}


#: Support gathered from several sentences of one passage counts for this much.
SPREAD_DISCOUNT = 0.9
#: Share of the claim's weight one sentence must hold before its negation counts.
NEGATION_MIN_SHARE = 0.5
#: Candidate sentences whose windows are scored.
CANDIDATES = 4
#: The most the spread can reach: a share adds some of the weights the total adds, in
#: its order (rounding is monotonic), so share / total <= 1.0 (tests/grounding).
_SPREAD_CEILING = SPREAD_DISCOUNT


class Support(NamedTuple):
    """A claim's support: score, best passage (index) and the reasons it was lowered (a
    named tuple: one made per claim, cheaper than a frozen dataclass's setattr calls)."""

    score: float
    passage: int | None
    reasons: tuple[str, ...]


class _Terms:
    """A claim's distinct stems in order, with their weights and where they occur (and,
    for the longer ones, where their prefix occurs) as bit masks of rows: what every
    window's share is computed from."""

    __slots__ = ("found", "items", "total")

    def __init__(self, index: PassageIndex, stems: list[str]) -> None:
        #: Per stem: (stem, weight, prefix or None, rows mask, prefix rows mask).
        self.items = index.terms(stems)
        # Added in order as share() adds (sum() compensates from Python 3.12): no share
        # exceeds it, as _whole_sentence and the search's stops rely on.
        self.total = reduce(add, map(_weight_of, self.items), 0.0) or 1.0
        #: The stems found somewhere, whole or by prefix (the others add nothing to any
        #: window).
        self.found = [item for item in self.items if item[3] or item[4]]

    def share(self, window: int) -> float:
        """The weight of the stems the rows of mask ``window`` hold (a stem of which they
        hold only the prefix counts for part)."""
        covered = 0.0
        for _, weight, _, rows, prefix_rows in self.found:
            if rows & window:
                covered += weight
            elif prefix_rows & window:
                covered += weight * _PREFIX_CREDIT
        return covered


def score_claim(
    index: PassageIndex,
    text: str,
    only_passage: int | None = None,
    claim_words: list[str] | None = None,
    claim_terms: list[str] | None = None,
) -> Support:
    """Score ``text`` (one claim, citation markers removed) against the passages;
    ``claim_words`` is ``words(text)`` and ``claim_terms`` ``terms_of(claim_words)``
    when the caller has them already."""
    if claim_words is None:
        claim_words = words(text)
    if claim_terms is None:
        claim_terms = terms_of(claim_words)
    stems = list(dict.fromkeys(claim_terms))
    claim_figures = figures(text, claim_words)
    if not stems and not claim_figures:
        return Support(1.0, None, ())
    terms = _Terms(index, stems)
    total = terms.total
    whole = _whole_sentence(index, terms) if only_passage is None else None
    best_rows: tuple[int, ...]
    if whole is not None:
        # The search's answer, known without it (see _whole_sentence).
        best_share, best_rows = 1.0, (whole,)
    else:
        rows = _candidates(index, terms, only_passage)
        best_share, best_rows = _best_window(index, terms, rows)
    if whole is None and best_rows and best_share < _SPREAD_CEILING:
        # A long claim may gather its facts from several sentences of one passage: the
        # candidates of the best passage together, a little discounted.
        passage_of = index.row_passage[best_rows[0]]
        spread = [r for r in rows if index.row_passage[r] == passage_of]
        if len(spread) > len(best_rows):
            share = terms.share(_mask(spread)) / total * SPREAD_DISCOUNT
            if share > best_share:
                best_share = share
    passage = index.row_passage[best_rows[0]] if best_rows else None
    reasons: list[str] = []
    score = best_share if stems else 1.0
    # Figures: must be in the supporting passage; elsewhere counts for less.
    for value, tolerance, unit in claim_figures:
        if passage is not None and index.holds_figure(passage, value, tolerance, unit):
            continue
        if (
            index.holds_figure(only_passage, value, tolerance, unit)
            if only_passage is not None
            else index.figure_elsewhere(value, tolerance, unit)
        ):
            reasons.append("number_elsewhere")
        else:
            reasons.append("number_mismatch")
    # Proper names must occur somewhere in the passages.
    if name_missing(index, text, only_passage):
        reasons.append("name_missing")
    if best_rows:
        if whole is not None:
            # Its share: every stem's weight added in order, as the total was.
            top, top_share = whole, total
        elif len(best_rows) == 1:  # (one row: no max() over a generator)
            top = best_rows[0]
            top_share = terms.share(1 << top)
        else:
            top_share, top = max((terms.share(1 << r), r) for r in best_rows)
        # Only a sentence that states the same thing can contradict it by a negation.
        same_statement = top_share / total >= NEGATION_MIN_SHARE
        if same_statement and has_negation(claim_words) != index.negated(top):
            sentence = index.sentence(top)
            if has_negation(claim_words):
                conflict = denies(claim_words, frozenset(terms_of(list(sentence))))
            else:
                conflict = denies(sentence, frozenset(claim_terms))
            if conflict:
                reasons.append("negation")
        window_words = _NO_WORDS
        if not _ANTONYM_WORDS.isdisjoint(claim_words):
            window_words = index.opposites(best_rows)
        if window_words:
            for word in claim_words:
                opposite = ANTONYMS.get(word)
                if opposite and word not in window_words and opposite & window_words:
                    reasons.append("antonym")
                    break
    unique = tuple(dict.fromkeys(reasons))
    for reason in unique:
        score *= PENALTIES[reason]
    # min(max(score, 0.0), 1.0) without the builtins' argument parsing (same picks).
    score = 0.0 if score < 0.0 else score
    return Support(round(1.0 if score > 1.0 else score, 4), passage, unique)


def _best_window(
    index: PassageIndex, terms: _Terms, rows: list[int]
) -> tuple[float, tuple[int, ...]]:
    """The first window (in candidate order) with the highest share.

    A window's share never falls when a sentence is added, so a candidate's widest
    window bounds its narrower ones: a candidate whose widest window cannot beat the
    best so far is skipped, and otherwise its first window reaching that bound wins.
    """
    best_share = 0.0
    best_rows: tuple[int, ...] = ()
    total = terms.total
    for windows in _windows(index, rows):
        if best_share == 1.0:
            break  # no window exceeds it (see _SPREAD_CEILING)
        bound = terms.share(windows[-1][1]) / total
        if bound <= best_share:
            continue
        for window, mask in windows[:-1]:
            if terms.share(mask) / total == bound:
                best_rows = window
                break
        else:
            best_rows = windows[-1][0]
        best_share = bound
    return best_share, best_rows


def _whole_sentence(index: PassageIndex, terms: _Terms) -> int | None:
    """The sentence the search (:func:`_candidates`, :func:`_best_window`) picks when
    its first candidate holds every stem of the claim (a claim copied from a passage,
    mostly), found from the stems' masks alone; ``None`` when that is not the case.

    Why it is the search's answer: every stem occurs somewhere (no prefix credit), so
    the candidate search walks the rows of each stem in at most ``common`` rows, in
    order. A row holding all walked stems has the highest total (a float sum that only
    grows with each positive weight added), every such row has the same total, and the
    lowest of them is reached first (the first walked stem's rows are walked in order;
    ranking keeps ties in that order): it is the first candidate. When it also holds the
    stems not walked, its share is the claim's whole weight (the same sum in the same
    order): 1.0, which its one-sentence window reaches first and no window exceeds, nor
    the discounted spread (0.9 at most). tests/grounding/test_whole_sentence.py compares
    this with the search."""
    common = _common_rows(index)
    every = walked = -1
    for item in terms.items:
        mask = item[3]
        if not mask:
            return None
        every &= mask
        if mask.bit_count() <= common:
            walked &= mask
    if walked == -1 or not every:
        return None  # nothing walked: the search finds no candidate at all
    first = walked & -walked
    return first.bit_length() - 1 if every & first else None


def _common_rows(index: PassageIndex) -> int:
    """Rows a stem may occur in and still lead the candidate search: ``max(8, a third
    of the rows)``."""
    third = index.rows_total // 3
    return third if third > 8 else 8


def _candidates(index: PassageIndex, terms: _Terms, only: int | None) -> list[int]:
    """The few sentences with the most weight of the claim's stems (inverted index walk).

    Weights are summed per row in a list, in the order of the claim's stems; rows are
    ranked by weight, ties in the order they were first reached (weights are positive:
    a row still at 0.0 was not reached)."""
    # Stems in most sentences cannot tell candidates apart (and walking their rows is
    # the cost): they still count in each window's share, not in the search.
    common = _common_rows(index)
    totals = [0.0] * index.rows_total
    reached: list[int] = []
    for stem, weight, prefix, mask, prefix_rows in terms.items:
        count = mask.bit_count()
        if count > common:
            continue
        rows: Iterable[int]
        if count:
            rows = index.rows(stem)
        elif prefix is not None and prefix_rows:
            # (a set, as the rows were gathered before: the same order of additions)
            rows = set(rows_of(prefix_rows))
            weight = weight * _PREFIX_CREDIT
        else:
            continue
        for row in rows:
            total = totals[row]
            if total == 0.0:
                reached.append(row)
            totals[row] = total + weight
    if only is not None:
        reached = [r for r in reached if index.row_passage[r] == only]
        if not reached:
            first = index.offsets[only]
            return [first] if first < len(index) and index.row_passage[first] == only else []
    return sorted(reached, key=totals.__getitem__, reverse=True)[:CANDIDATES]


def _windows(index: PassageIndex, rows: list[int]) -> list[list[tuple[tuple[int, ...], int]]]:
    """Per candidate sentence: it alone and with its neighbours of the same passage,
    the widest window last; each window with its bit mask."""
    out: list[list[tuple[tuple[int, ...], int]]] = []
    last = len(index) - 1
    passage_of = index.row_passage
    for row in rows:
        passage = passage_of[row]
        bit = 1 << row
        windows: list[tuple[tuple[int, ...], int]] = [((row,), bit)]
        before = row > 0 and passage_of[row - 1] == passage
        after = row < last and passage_of[row + 1] == passage
        if before:
            windows.append(((row - 1, row), bit | bit >> 1))
        if after:
            windows.append(((row, row + 1), bit | bit << 1))
        if before and after:
            windows.append(((row - 1, row, row + 1), bit | bit >> 1 | bit << 1))
        out.append(windows)
    return out


def _mask(rows: Iterable[int]) -> int:
    """The bit mask of ``rows``."""
    mask = 0
    for row in rows:
        mask |= 1 << row
    return mask
