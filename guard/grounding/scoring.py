"""Support scoring: how well the passages back one claim.

The passages are indexed once per call: split into sentences, each a set of content
stems; an inverted index from stem to sentences; inverse document frequencies over
those sentences (so a word every passage repeats is weak evidence, a rare one strong).
A claim is scored against its best *window* — one sentence with up to one neighbour on
each side — as the IDF-weighted share of its content stems the window contains (a
shared five-letter prefix counts for part). Hard signals then lower that share:
a figure the passages do not contain, a proper name they never mention, a negation or
antonym the window does not share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from guard.grounding.text import (
    ANTONYMS,
    NEGATIONS,
    STOPWORDS,
    FigurePool,
    figures,
    has_negation,
    terms_of,
    words,
)

#: Words of a passage, and its sentence ends: terminal punctuation followed by space or
#: the end (``1.5`` stays whole), and line breaks.
_TOKENS = re.compile(r"\w+(?:'\w+)?|[.!?](?=\s|$)|\n")
_ENDS = frozenset({".", "!", "?", "\n"})
_NAME = re.compile(r"(?<![\w'’])([A-Z][\w'’-]*[A-Za-z0-9]|[A-Z]{2,})")
#: A shared prefix of this many letters counts as partial evidence (``acquisition`` /
#: ``acquired``).
_PREFIX = 5
_PREFIX_CREDIT = 0.6
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


@dataclass(slots=True)
class _Sentence:
    passage: int
    terms: frozenset[str]
    negated: bool
    #: Its words: ``tokens[start:end]`` of its passage.
    start: int
    end: int


@dataclass(slots=True)
class PassageIndex:
    """The passages of one call, ready to score claims against."""

    ids: list[str]
    sentences: list[_Sentence] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    #: First letters of the longer terms -> sentences with such a term (partial evidence).
    prefixes: dict[str, set[int]] = field(default_factory=dict)
    #: Per passage: its lower-case words and sentence ends.
    tokens: list[list[str]] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    unseen_idf: float = 1.0
    #: Per passage: its text (figures are read from it on first need), its figures,
    #: and its lower-case words (for names).
    texts: list[str] = field(default_factory=list)
    figures: list[FigurePool | None] = field(default_factory=list)
    vocab: list[frozenset[str]] = field(default_factory=list)
    all_vocab: frozenset[str] = frozenset()
    #: Terms of multi-sentence windows, united on first use.
    windows: dict[tuple[int, ...], frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, passages: Sequence[tuple[str, str]]) -> PassageIndex:
        """Index ``(id, text)`` passages: one regex pass per passage gives its words and
        sentence ends."""
        index = cls(ids=[pid for pid, _ in passages])
        postings = index.postings
        for number, (_, text) in enumerate(passages):
            tokens = _TOKENS.findall(text.lower().replace("’", "'").replace("_", " "))
            index.texts.append(text)
            index.figures.append(None)
            # Contracted negations ("isn't") of this passage, to test sentences by set.
            contracted = {t for t in set(tokens) if t.endswith("n't")} | NEGATIONS
            index.tokens.append(tokens)
            start = 0
            for end in [i for i, t in enumerate(tokens) if t in _ENDS] + [len(tokens)]:
                sentence_words = tokens[start:end]
                if sentence_words:
                    terms = frozenset(terms_of(sentence_words))
                    row = len(index.sentences)
                    negated = not contracted.isdisjoint(sentence_words)
                    index.sentences.append(_Sentence(number, terms, negated, start, end))
                    for term in terms:
                        rows = postings.get(term)
                        if rows is None:
                            postings[term] = [row]
                        else:
                            rows.append(row)
                start = end + 1
            index.vocab.append(frozenset(_name_forms(set(tokens) - _ENDS)))
        for term, rows in postings.items():
            if len(term) > _PREFIX:
                index.prefixes.setdefault(term[:_PREFIX], set()).update(rows)
        total = len(index.sentences) + 1
        index.idf = {t: math.log(1.0 + total / (0.5 + len(rows))) for t, rows in postings.items()}
        index.unseen_idf = math.log(1.0 + total / 0.5)
        index.all_vocab = frozenset().union(*index.vocab) if index.vocab else frozenset()
        return index

    def figure_pool(self, number: int) -> FigurePool:
        """The figures of passage ``number`` (read on first need: most claims carry
        none, and a figure found in the best passage needs no other)."""
        return _figure_pool(self, number)


def _figure_pool(index: PassageIndex, number: int) -> FigurePool:
    pool = index.figures[number]
    if pool is None:
        text = index.texts[number]
        pool = index.figures[number] = FigurePool(figures(text, index.tokens[number]))
    return pool


def _name_forms(passage_words: set[str]) -> set[str]:
    forms = set(passage_words)
    for word in passage_words:
        if word.endswith("'s"):
            forms.add(word[:-2])
    return forms


@dataclass(frozen=True, slots=True)
class Support:
    """A claim's support: score, best passage (index) and the reasons it was lowered."""

    score: float
    passage: int | None
    reasons: tuple[str, ...]


def score_claim(index: PassageIndex, text: str, only_passage: int | None = None) -> Support:
    """Score ``text`` (one claim, citation markers removed) against the passages."""
    claim_words = words(text)
    terms = list(dict.fromkeys(terms_of(claim_words)))
    claim_figures = figures(text, claim_words)
    if not terms and not claim_figures:
        return Support(1.0, None, ())
    weights = {t: index.idf.get(t, index.unseen_idf) for t in terms}
    total = sum(weights.values()) or 1.0
    rows = _candidates(index, terms, weights, only_passage)
    best_share = 0.0
    best_rows: tuple[int, ...] = ()
    for window in _windows(index, rows):
        share = _share(index, window, terms, weights) / total
        if share > best_share:
            best_share, best_rows = share, window
    if best_rows:
        # A long claim may gather its facts from several sentences of one passage: the
        # candidates of the best passage together, a little discounted.
        passage_of = index.sentences[best_rows[0]].passage
        spread = tuple(r for r in rows if index.sentences[r].passage == passage_of)
        if len(spread) > len(best_rows):
            share = _share(index, spread, terms, weights) / total * SPREAD_DISCOUNT
            if share > best_share:
                best_share = share
    passage = index.sentences[best_rows[0]].passage if best_rows else None
    reasons: list[str] = []
    score = best_share if terms else 1.0
    # Figures: must be in the supporting passage; elsewhere counts for less.
    for value, tolerance in claim_figures:
        if passage is not None and index.figure_pool(passage).matches(value, tolerance):
            continue
        numbers = [only_passage] if only_passage is not None else range(len(index.texts))
        if any(index.figure_pool(n).matches(value, tolerance) for n in numbers):
            reasons.append("number_elsewhere")
        else:
            reasons.append("number_mismatch")
    # Proper names must occur somewhere in the passages.
    vocabulary = index.vocab[only_passage] if only_passage is not None else index.all_vocab
    for name in _names(text):
        if name not in vocabulary:
            reasons.append("name_missing")
            break
    if best_rows:
        window_words = frozenset().union(*(_words_of(index, r) for r in best_rows))
        top_share, top = max((_share(index, (r,), terms, weights), r) for r in best_rows)
        # Only a sentence that states the same thing can contradict it by a negation.
        same_statement = top_share / total >= NEGATION_MIN_SHARE
        if same_statement and has_negation(claim_words) != index.sentences[top].negated:
            reasons.append("negation")
        for word in claim_words:
            opposite = ANTONYMS.get(word)
            if opposite and word not in window_words and opposite & window_words:
                reasons.append("antonym")
                break
    unique = tuple(dict.fromkeys(reasons))
    for reason in unique:
        score *= PENALTIES[reason]
    return Support(round(min(max(score, 0.0), 1.0), 4), passage, unique)


def _names(text: str) -> list[str]:
    """Lower-cased capitalised words not at a sentence start (and acronyms anywhere)."""
    names: list[str] = []
    for match in _NAME.finditer(text):
        word = match.group(1)
        before = text[: match.start()].rstrip(" *_\"'“‘(")
        at_start = not before or before[-1] in ".!?:\n|•-"
        lowered = word.lower().replace("’", "'")
        if lowered.endswith("'s"):
            lowered = lowered[:-2]
        if lowered in STOPWORDS or (at_start and not word.isupper()) or len(lowered) < 2:
            continue
        names.append(lowered)
    return names


def _candidates(
    index: PassageIndex, terms: list[str], weights: dict[str, float], only: int | None
) -> list[int]:
    """The few sentences with the most weight of ``terms`` (inverted index walk)."""
    gathered: dict[int, float] = {}
    # Terms in most sentences cannot tell candidates apart (and walking their postings
    # is the cost): they still count in each window's share, not in the search.
    common = max(8, len(index.sentences) // 3)
    for term in terms:
        weight = weights[term]
        rows = index.postings.get(term, ())
        if len(rows) > common:
            continue
        for row in rows:
            gathered[row] = gathered.get(row, 0.0) + weight
        if term not in index.postings and len(term) >= _PREFIX + 1:
            for row in index.prefixes.get(term[:_PREFIX], ()):
                gathered[row] = gathered.get(row, 0.0) + weight * _PREFIX_CREDIT
    if only is not None:
        gathered = {r: w for r, w in gathered.items() if index.sentences[r].passage == only}
        if not gathered:
            starts = [r for r, s in enumerate(index.sentences) if s.passage == only]
            return starts[:1]
    return sorted(gathered, key=gathered.__getitem__, reverse=True)[:4]


def _windows(index: PassageIndex, rows: list[int]) -> list[tuple[int, ...]]:
    """Each candidate sentence alone and with its neighbours of the same passage."""
    out: list[tuple[int, ...]] = []
    last = len(index.sentences) - 1
    for row in rows:
        passage = index.sentences[row].passage
        before = row - 1 if row > 0 and index.sentences[row - 1].passage == passage else None
        after = row + 1 if row < last and index.sentences[row + 1].passage == passage else None
        out.append((row,))
        if before is not None:
            out.append((before, row))
        if after is not None:
            out.append((row, after))
        if before is not None and after is not None:
            out.append((before, row, after))
    return out


def _words_of(index: PassageIndex, row: int) -> list[str]:
    sentence = index.sentences[row]
    return index.tokens[sentence.passage][sentence.start : sentence.end]


def _share(
    index: PassageIndex, window: tuple[int, ...], terms: list[str], weights: dict[str, float]
) -> float:
    if len(window) == 1:
        present = index.sentences[window[0]].terms
    else:
        # Windows repeat across the claims of one answer: unite their terms once.
        cached = index.windows.get(window)
        if cached is None:
            cached = index.windows[window] = frozenset().union(
                *(index.sentences[r].terms for r in window)
            )
        present = cached
    covered = 0.0
    for term in terms:
        if term in present:
            covered += weights[term]
        elif len(term) > _PREFIX:
            rows = index.prefixes.get(term[:_PREFIX])
            if rows is not None and not rows.isdisjoint(window):
                covered += weights[term] * _PREFIX_CREDIT
    return covered
