"""One passage read: its sentences as words, and on first need what a call asks of it.

A passage's sentences and words come from C byte operations on its text
(:func:`guard.grounding.text.sentence_words`). Nothing else is read up front: a call
asks where its answer's stems occur in its sentences
(:meth:`guard.grounding.passages.PassageIndex.prepare`), and only the words that can
lead to one of them are stemmed (:class:`Targets`: a word is stemmed once
per call, not once per passage, and most words of a passage are no stem of the
answer). Figures, negations, opposites and names are read when scoring first asks.
What is read depends on the text alone, so :mod:`guard.grounding.passages` keeps it in
a bounded cache keyed by the text.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from itertools import chain, compress
from operator import itemgetter, methodcaller

from guard.grounding.figures import Figure, FigurePool, figures, is_small_integer
from guard.grounding.plain_figures import (
    DIGIT_LETTER,
    figure_shapes,
    figures_of_runs,
    integer_hints,
    integers_of_runs,
    plain_runs,
)
from guard.grounding.text import (
    ANTONYMS,
    FORMS_OF,
    NEGATIONS,
    fold,
    plain_sentence_words,
    sentence_words,
    stems_of,
)
from guard.grounding.units import NUMBER_WORDS, SCALES

#: A shared prefix of this many letters counts as partial evidence (``acquisition`` /
#: ``acquired``); only terms longer than it have one.
PREFIX = 5
_ANTONYM_WORDS = frozenset(ANTONYMS)
_NO_WORDS: frozenset[str] = frozenset()
_SCALE_WORDS = frozenset(SCALES)
_NUMBER_WORDS = frozenset(NUMBER_WORDS)
# (filter() with these tests every word in C: no bytecode per word)
_ends_contracted = methodcaller("endswith", "n't")
_ends_possessive = methodcaller("endswith", "'s")


class Targets:
    """The stems and prefixes one call looks for in its passages, and which words lead
    to them: a word is stemmed (through the stem cache) once per call, however many
    passages hold it, and only when it starts as a target does (see
    :func:`could_lead_to`)."""

    __slots__ = ("_seen", "_starts", "hits", "prefixes", "stems")

    def __init__(self, stems: frozenset[str], prefixes: frozenset[str]) -> None:
        self.stems = stems
        #: Prefixes of length :data:`PREFIX` (of stems longer than it).
        self.prefixes = prefixes
        self._starts = frozenset(map(_start_of, stems)) | frozenset(map(_start_of, prefixes))
        irregular = stems & _VERBS_WITH_FORMS  # (two sets: C walks the smaller)
        if irregular:
            # An irregular form starts unlike its verb (bought, buy).
            self._starts |= {form[:START] for verb in irregular for form in FORMS_OF[verb]}
        #: The word sets learnt so far, kept as given (not copied: a call learns once).
        self._seen: list[AbstractSet[str]] = []
        #: word -> what it leads to: its stem when that is one of ``stems``, else
        #: ``PREFIX_MARK`` + its stem's prefix when that stem is longer than
        #: :data:`PREFIX` and the prefix one of ``prefixes``.
        self.hits: dict[str, str] = {}

    def learn(self, words: AbstractSet[str]) -> None:
        """Sort the words not seen yet into those that lead to a target and the rest.
        A call learns once, over the union of its passages' words (one C set operation,
        not one learn per passage). ``words`` is kept, not copied, to tell the words seen
        in a later learn: it must not change."""
        fresh = words
        for seen in self._seen:
            fresh = fresh - seen
        self._seen.append(words)
        if not fresh:
            return
        # Only a word that starts as a target does can lead to one: the rest are never
        # stemmed (in C: no bytecode per word).
        leading = list(compress(fresh, map(self._starts.__contains__, map(_start_of, fresh))))
        stems, prefixes, hits = self.stems, self.prefixes, self.hits
        for word, stem in zip(leading, stems_of(leading), strict=True):
            if stem in stems:
                hits[word] = stem
            elif len(stem) > PREFIX and stem[:PREFIX] in prefixes:
                hits[word] = PREFIX_MARK + stem[:PREFIX]


#: Marks a prefix among stems (no word holds it).
PREFIX_MARK = "\x00"
#: A word's stem starts with the word's first three letters (tests/grounding checks
#: this on a large word list): a word whose start is no target's start leads to none.
START = 3
_start_of = itemgetter(slice(0, START))
_VERBS_WITH_FORMS = frozenset(FORMS_OF)


class PassageText:
    """One passage's text, read: its sentences as words, and what calls asked of it."""

    __slots__ = (
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
        "_possessives",
        "_runs",
        "_runs_read",
        "_shapes",
        "_simple",
        "_word_values",
        "sentences",
        "text",
        "words",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        if text.isascii() and "'" not in text and "_" not in text:
            # Most passages: no fold (the capitals are lowered in the bytes), and
            # neither "n't" nor "'s" without an apostrophe.
            sentences = plain_sentence_words(text)
            self._contracted = self._possessive = False
        else:
            folded = fold(text)
            sentences = sentence_words(folded)
            self._contracted = "n't" in folded
            self._possessive = "'s" in folded
        # Tuples of strings: the collector stops tracking them, where a cached
        # passage's lists were traversed in every full collection.
        #: Per sentence, its words.
        self.sentences = tuple(map(tuple, sentences))
        #: Every word (figures read number words from it). A frozenset, not a dict made
        #: from one: a second table of every distinct word cost more per first sight
        #: than one tracked set per cached passage costs the collector.
        self.words: frozenset[str] = frozenset(chain.from_iterable(self.sentences))
        self._negated: list[bool] | None = None
        self._opposites: list[frozenset[str]] | None = None
        self._possessives: frozenset[str] | None = None
        self._shapes: bytes | None = None
        self._runs: list[bytes] | None = None
        self._runs_read = False
        self._figure_list: list[Figure] | None = None
        self._integers: frozenset[int] | None = None
        self._integers_read = False
        self._plain: frozenset[int] | None = None
        self._plain_read = False
        self._simple: bool | None = None
        self._word_values: frozenset[int] = frozenset()
        self._figures: FigurePool | None = None

    @property
    def negated(self) -> list[bool]:
        """Per sentence: whether it negates (read on first need: only the sentence that
        best supports a claim is asked). Most passages hold no negation at all: one set
        test spares the per-sentence ones."""
        found = self._negated
        if found is None:
            # Contracted negations ("isn't") count as negations.
            negations = set(self.words & NEGATIONS)
            if self._contracted:
                negations.update(filter(_ends_contracted, self.words))
            if negations:
                found = [not negations.isdisjoint(sentence) for sentence in self.sentences]
            else:
                found = [False] * len(self.sentences)
            self._negated = found
        return found

    @property
    def opposites(self) -> list[frozenset[str]]:
        """Per sentence: its words that have an opposite (the only words the antonym
        test looks at; read on first need, for a claim with such a word)."""
        found = self._opposites
        if found is None:
            if self.words.isdisjoint(_ANTONYM_WORDS):
                found = [_NO_WORDS] * len(self.sentences)
            else:
                found = [
                    _ANTONYM_WORDS.intersection(sentence) or _NO_WORDS
                    for sentence in self.sentences
                ]
            self._opposites = found
        return found

    @property
    def possessives(self) -> frozenset[str]:
        """Its words ending in a possessive ``'s``, that ending stripped (a name is
        mentioned by ``Acme's`` too); read on first need, and only a passage with an
        apostrophe holds any."""
        found = self._possessives
        if found is None:
            found = _NO_WORDS
            if self._possessive:
                found = frozenset(w[:-2] for w in filter(_ends_possessive, self.words))
            self._possessives = found
        return found

    def mentions(self, name: str) -> bool:
        """Whether the passage holds the word ``name``, or ``name`` with a possessive
        ``'s``."""
        return name in self.words or name in self.possessives

    def figure_list(self) -> list[Figure]:
        """The passage's figures as read (read on first need: most claims carry none)."""
        found = self._figure_list
        if found is None:
            runs = self.plain_runs()
            if runs is None:
                found = figures(self.text, self.words)
            else:
                found = figures_of_runs(runs, self.words)
            self._figure_list = found
        return found

    def shapes(self) -> bytes:
        """The text's :func:`~guard.grounding.plain_figures.figure_shapes`, read once (the
        integer rule-out and the plain figures both search them)."""
        found = self._shapes
        if found is None:
            found = self._shapes = figure_shapes(self.text)
        return found

    def plain_runs(self) -> list[bytes] | None:
        """The text's :func:`~guard.grounding.plain_figures.plain_runs`, read once (its
        figures and its integers both read them)."""
        if not self._runs_read:
            self._runs = plain_runs(self.text, self.words, self.shapes())
            self._runs_read = True
        return self._runs

    def may_hold_integer(self, value: int) -> bool:
        """False only when no figure of the passage can match the plain integer
        ``value`` (see :func:`guard.grounding.plain_figures.integer_hints`): most passages are
        ruled out without reading their figures."""
        if not self._integers_read:
            self._integers = integer_hints(self.text, self.words)
            self._integers_read = True
        hints = self._integers
        return hints is None or value in hints or value - 1 in hints

    def rules_out_integer(self, value: int) -> bool:
        """True only when no figure of the passage can match the plain integer ``value``,
        told by two substring searches: without a scale word, a digit touching a letter
        or text beyond ASCII, a matching figure's digits read ``value`` or ``value - 1``
        (see :func:`guard.grounding.plain_figures.integer_hints`), so they are in the text,
        unless a number word is that value. Asked of every passage for a claim's figure
        missing from its best passage: most are ruled out without reading figures. The
        searches come first: a passage holding the digits (its best passage, mostly) is
        not ruled out, without the passage's shapes being read."""
        text = self.text
        if str(value) in text or str(value - 1) in text:
            return False
        simple = self._simple
        if simple is None:
            simple = self._simple = (
                self.text.isascii()
                and self.words.isdisjoint(_SCALE_WORDS)
                and DIGIT_LETTER.search(self.shapes()) is None
            )
            self._word_values = frozenset(NUMBER_WORDS[word] for word in self.words & _NUMBER_WORDS)
        return simple and value not in self._word_values and value - 1 not in self._word_values

    def holds_figure(self, value: float, tolerance: float, unit: str) -> bool:
        """Whether a figure of the passage matches ``value`` (± ``tolerance``) in
        ``unit``. A plain small integer is decided against a passage whose figures are
        bare digit runs by one set lookup (see
        :func:`guard.grounding.plain_figures.plain_integers`), and against another passage
        only when its words allow it (:meth:`may_hold_integer`); anything else against
        the passage's sorted figures."""
        if is_small_integer(value, tolerance, unit):
            if not self._plain_read:
                if self.rules_out_integer(int(value)):
                    return False
                runs = self.plain_runs()
                self._plain = None if runs is None else integers_of_runs(runs, self.words)
                self._plain_read = True
            if self._plain is not None:
                return int(value) in self._plain
            if not self.may_hold_integer(int(value)):
                return False
        return self.figure_pool().matches(value, tolerance, unit)

    def figure_pool(self) -> FigurePool:
        """The passage's figures, sorted for lookups."""
        if self._figures is None:
            self._figures = FigurePool(self.figure_list())
        return self._figures
