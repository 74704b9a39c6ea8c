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

from guard.grounding.figures import Figure, FigurePool, figures, integer_hints, plain_figures
from guard.grounding.text import ANTONYMS, NEGATIONS, fold, sentence_words, stem_lookup

#: A shared prefix of this many letters counts as partial evidence (``acquisition`` /
#: ``acquired``); only terms longer than it have one.
PREFIX = 5
_ANTONYM_WORDS = frozenset(ANTONYMS)
_NO_WORDS: frozenset[str] = frozenset()


class PassageText:
    """One passage's text, read: sentences as sets of stems, and where each stem is."""

    __slots__ = (
        "_figure_list",
        "_figures",
        "_integers",
        "_integers_read",
        "_long_prefixes",
        "_prefix_of",
        "_prefixes",
        "negated",
        "opposites",
        "terms",
        "text",
        "vocab",
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
        #: test and a copy per sentence); whether it negates; its words that have an
        #: opposite (the only words the antonym test looks at). Most passages hold no
        #: negation or opposite at all: one set test each spares the per-sentence ones.
        #: The stems are tuples, not sets: no hashing, and the garbage collector stops
        #: tracking a tuple of strings after its first pass, where a cached passage's
        #: sets were traversed again in every collection of their generation.
        self.terms = [tuple(map(stem_of, sentence)) for sentence in sentences]
        # Contracted negations ("isn't") count as negations.
        negations = set(NEGATIONS.intersection(every_word))
        if "n't" in folded:
            negations.update(w for w in every_word if w.endswith("n't"))
        if negations:
            self.negated = [not negations.isdisjoint(sentence) for sentence in sentences]
        else:
            self.negated = [False] * len(sentences)
        if _ANTONYM_WORDS.isdisjoint(every_word):
            self.opposites = [_NO_WORDS] * len(sentences)
        else:
            self.opposites = [
                _ANTONYM_WORDS.intersection(sentence) or _NO_WORDS for sentence in sentences
            ]
        self._long_prefixes: frozenset[str] | None = None
        #: Every word (figures read number words from it) and, for names, every word
        #: with its possessive ``'s`` also stripped.
        self.words = every_word
        self.vocab = self.words
        if "'s" in folded:
            self.vocab = self.words | {w[:-2] for w in every_word if w.endswith("'s")}
        self._figure_list: list[Figure] | None = None
        self._integers: frozenset[int] | None = None
        self._integers_read = False
        self._figures: FigurePool | None = None
        self._prefix_of: dict[str, str] | None = None
        self._prefixes: list[frozenset[str | None] | None] | None = None

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

    def figure_pool(self) -> FigurePool:
        """The passage's figures, sorted for lookups."""
        if self._figures is None:
            self._figures = FigurePool(self.figure_list())
        return self._figures

    def _prefix_map(self) -> dict[str, str]:
        """Each longer stem of the passage -> its prefix (one loop over the passage's
        distinct stems; rows then map their stems through it in C)."""
        found = self._prefix_of
        if found is None:
            found = self._prefix_of = {
                stem: stem[:PREFIX] for stem in frozenset().union(*self.terms) if len(stem) > PREFIX
            }
        return found

    @property
    def long_prefixes(self) -> frozenset[str]:
        """The five-letter prefixes of the passage's longer stems: a claim's stem the
        passages lack looks for partial evidence only in passages with its prefix (read
        on first need: most claims find their stems)."""
        found = self._long_prefixes
        if found is None:
            found = self._long_prefixes = frozenset(self._prefix_map().values())
        return found

    def prefixes(self, row: int) -> frozenset[str | None]:
        """The prefixes of sentence ``row``'s longer stems (and ``None`` for its shorter
        ones: no claim prefix is ``None``, so it never counts)."""
        known = self._prefixes
        if known is None:
            known = self._prefixes = [None] * len(self.terms)
        found = known[row]
        if found is None:
            found = known[row] = frozenset(map(self._prefix_map().get, self.terms[row]))
        return found

    def rows_with_prefix(self, prefix: str) -> list[int]:
        """Sentences holding a stem longer than :data:`PREFIX` that starts with ``prefix``."""
        if prefix not in self.long_prefixes:
            return []
        return [row for row in range(len(self.terms)) if prefix in self.prefixes(row)]
