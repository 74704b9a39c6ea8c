"""One passage read: its sentences as stems, its words, and (on first need) its
figures and stem prefixes.

A passage's sentences and words come from C byte operations on its text
(:func:`guard.grounding.text.sentence_words`); each distinct word is stemmed once
(:func:`guard.grounding.text.stem_lookup`). Everything else — figures, the prefixes
that give partial credit, whether a small integer could be among its figures — is
read when scoring first asks for it. What is read depends on the text alone, so
:mod:`guard.grounding.passages` keeps it in a bounded cache keyed by the text.
"""

from __future__ import annotations

from itertools import compress
from operator import itemgetter

from guard.grounding.figures import (
    Figure,
    FigurePool,
    figures,
    integer_hints,
    is_small_integer,
    plain_figures,
    plain_integers,
)
from guard.grounding.text import ANTONYMS, NEGATIONS, fold, sentence_words, stem_lookup

#: A shared prefix of this many letters counts as partial evidence (``acquisition`` /
#: ``acquired``); only terms longer than it have one.
PREFIX = 5
_ANTONYM_WORDS = frozenset(ANTONYMS)
_NO_WORDS: frozenset[str] = frozenset()
_prefix_of = itemgetter(slice(0, PREFIX))


class PassageText:
    """One passage's text, read: sentences as sets of stems, and where each stem is."""

    __slots__ = (
        "_by_prefix",
        "_contracted",
        "_figure_list",
        "_figures",
        "_integers",
        "_integers_read",
        "_negated",
        "_opposites",
        "_plain",
        "_plain_read",
        "_possessive",
        "_sentences",
        "_vocab",
        "terms",
        "text",
        "words",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        folded = fold(text)
        sentences = sentence_words(folded)
        every_word: frozenset[str] = frozenset().union(*sentences)
        stem_of = stem_lookup(every_word)
        #: Per sentence: its content stems (and ``""`` when it holds a word without
        #: one: no claim stem is ``""``, so it never counts, and leaving it in spares a
        #: test and a copy per sentence). The stems are tuples, not sets: no hashing,
        #: and the garbage collector stops tracking a tuple of strings after its first
        #: pass, where a cached passage's sets were traversed again in every collection
        #: of their generation.
        self.terms = [tuple(map(stem_of, sentence)) for sentence in sentences]
        #: Every word (figures read number words from it).
        self.words = every_word
        self._sentences = sentences
        self._contracted = "n't" in folded
        self._possessive = "'s" in folded
        self._negated: list[bool] | None = None
        self._opposites: list[frozenset[str]] | None = None
        self._vocab: frozenset[str] | None = None
        self._by_prefix: tuple[list[str], list[str]] | None = None
        self._figure_list: list[Figure] | None = None
        self._integers: frozenset[int] | None = None
        self._integers_read = False
        self._plain: frozenset[int] | None = None
        self._plain_read = False
        self._figures: FigurePool | None = None

    @property
    def negated(self) -> list[bool]:
        """Per sentence: whether it negates (read on first need: only the sentence that
        best supports a claim is asked). Most passages hold no negation at all: one set
        test spares the per-sentence ones."""
        found = self._negated
        if found is None:
            # Contracted negations ("isn't") count as negations.
            negations = set(NEGATIONS.intersection(self.words))
            if self._contracted:
                negations.update(w for w in self.words if w.endswith("n't"))
            if negations:
                found = [not negations.isdisjoint(sentence) for sentence in self._sentences]
            else:
                found = [False] * len(self._sentences)
            self._negated = found
        return found

    @property
    def opposites(self) -> list[frozenset[str]]:
        """Per sentence: its words that have an opposite (the only words the antonym
        test looks at; read on first need, for a claim with such a word)."""
        found = self._opposites
        if found is None:
            if _ANTONYM_WORDS.isdisjoint(self.words):
                found = [_NO_WORDS] * len(self._sentences)
            else:
                found = [
                    _ANTONYM_WORDS.intersection(sentence) or _NO_WORDS
                    for sentence in self._sentences
                ]
            self._opposites = found
        return found

    @property
    def vocab(self) -> frozenset[str]:
        """Every word and, for names, every word with its possessive ``'s`` stripped."""
        found = self._vocab
        if found is None:
            found = self.words
            if self._possessive:
                found = found | {w[:-2] for w in found if w.endswith("'s")}
            self._vocab = found
        return found

    def figure_list(self) -> list[Figure]:
        """The passage's figures as read (read on first need: most claims carry none)."""
        found = self._figure_list
        if found is None:
            found = plain_figures(self.text, self.words)
            if found is None:
                found = figures(self.text, self.words)
            self._figure_list = found
        return found

    def may_hold_integer(self, value: int) -> bool:
        """False only when no figure of the passage can match the plain integer
        ``value`` (see :func:`guard.grounding.figures.integer_hints`): most passages are
        ruled out without reading their figures."""
        if not self._integers_read:
            self._integers = integer_hints(self.text, self.words)
            self._integers_read = True
        hints = self._integers
        return hints is None or value in hints or value - 1 in hints

    def holds_figure(self, value: float, tolerance: float, unit: str) -> bool:
        """Whether a figure of the passage matches ``value`` (± ``tolerance``) in
        ``unit``: a plain small integer against a passage whose figures are bare digit
        runs by one set lookup (see :func:`guard.grounding.figures.plain_integers`),
        anything else against the passage's sorted figures."""
        if is_small_integer(value, tolerance, unit):
            if not self._plain_read:
                self._plain = plain_integers(self.text, self.words)
                self._plain_read = True
            if self._plain is not None:
                return int(value) in self._plain
        return self.figure_pool().matches(value, tolerance, unit)

    def figure_pool(self) -> FigurePool:
        """The passage's figures, sorted for lookups."""
        if self._figures is None:
            self._figures = FigurePool(self.figure_list())
        return self._figures

    def _long_stems(self) -> tuple[list[str], list[str]]:
        """The passage's stems longer than :data:`PREFIX`, and their prefixes (read on
        first need: a call asks which sentences hold a stem with its answer's prefixes)."""
        found = self._by_prefix
        if found is None:
            stems = [stem for stem in frozenset().union(*self.terms) if len(stem) > PREFIX]
            found = self._by_prefix = (stems, list(map(_prefix_of, stems)))
        return found

    def masks(
        self, stems: frozenset[str], prefixes: frozenset[str]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Where ``stems`` and ``prefixes`` occur, as bit masks of sentences (bit ``n``:
        sentence ``n``): per stem the sentences holding it, per prefix the sentences
        holding a stem longer than :data:`PREFIX` that starts with it. Only those found
        are keys. One pass over the sentences, looking only for the given stems and
        the passage's longer stems with one of the prefixes."""
        extra: list[str] = []
        if prefixes:
            long_stems, long_prefixes = self._long_stems()
            extra = list(compress(long_stems, map(prefixes.__contains__, long_prefixes)))
        targets = stems.union(extra) if extra else stems
        found: dict[str, int] = {}
        get = found.get
        bit = 1
        for row in self.terms:
            for stem in targets.intersection(row):
                found[stem] = get(stem, 0) | bit
            bit <<= 1
        prefix_masks: dict[str, int] = {}
        for stem in extra:
            prefix = stem[:PREFIX]
            prefix_masks[prefix] = prefix_masks.get(prefix, 0) | found[stem]
        return found, prefix_masks
