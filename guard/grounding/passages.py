"""The passage index: each passage read once, the passages of one call joined cheaply.

A passage is read into sentences of words (:class:`PassageText`, in
:mod:`guard.grounding.passage_text`). That work depends on the passage's text alone,
so it is kept in a bounded LRU keyed by the text: agents and chat clients resend the
same retrieved context on every turn, and a reask scores a second answer against the
same passages.

The passages of one call (:class:`PassageIndex`) are numbered rows (sentences) across
passages. Where the answer's stems occur — and the prefixes of its longer stems — is
found in one pass over the rows, for those stems only, and kept as a bit mask of rows
per stem: a window's share is then a few integer ``&``, a stem's document frequency a
bit count. Only the words that start as one of the answer's stems are stemmed
(:class:`~guard.grounding.passage_text.Targets`): most words of a passage never are.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from itertools import chain, compress
from typing import cast

from guard.grounding.figures import Figure, FigurePool, is_small_integer
from guard.grounding.passage_text import _NO_WORDS, PREFIX, PREFIX_MARK, PassageText, Targets

__all__ = ["PREFIX", "PassageIndex", "PassageText", "clear_cache", "index_of", "read"]

#: Passage texts kept indexed, counted in characters (about 12 bytes per character,
#: text and words, measured with tracemalloc on the bench's passages: 512 K characters
#: hold some 250 passages of 2 KB in ~6 MB).
CACHE_CHARACTERS = 512_000
_cache: OrderedDict[str, PassageText] = OrderedDict()
_cached_characters = 0
_cache_lock = threading.Lock()


def read(text: str) -> PassageText:
    """``text`` indexed, from the cache when it was seen lately."""
    global _cached_characters
    with _cache_lock:
        found = _cache.get(text)
        if found is not None:
            _cache.move_to_end(text)
            return found
    found = PassageText(text)
    if len(text) <= CACHE_CHARACTERS // 4:
        with _cache_lock:
            if text not in _cache:
                _cache[text] = found
                _cached_characters += len(text)
                while _cached_characters > CACHE_CHARACTERS:
                    evicted, _ = _cache.popitem(last=False)
                    _cached_characters -= len(evicted)
    return found


#: The last few calls' indexes, whole: a reask, or the next turn of an agent with the
#: same context, also finds the stems it looked up before.
_INDEXES = 16
_indexes: OrderedDict[tuple[tuple[str, str], ...], PassageIndex] = OrderedDict()


def index_of(passages: Sequence[tuple[str, str]]) -> PassageIndex:
    """The index of ``(id, text)`` passages, from the cache when they were seen lately."""
    key = tuple(passages)
    with _cache_lock:
        found = _indexes.get(key)
        if found is not None:
            _indexes.move_to_end(key)
            return found
    found = PassageIndex(key)
    with _cache_lock:
        _indexes[key] = found
        while len(_indexes) > _INDEXES:
            _indexes.popitem(last=False)
    return found


def clear_cache() -> None:
    """Forget every indexed passage (benchmarks measure the first sight of a text)."""
    global _cached_characters
    with _cache_lock:
        _cache.clear()
        _indexes.clear()
        _cached_characters = 0


class PassageIndex:
    """The passages of one call: rows are their sentences, numbered across passages.

    Where a stem occurs is a bit mask of rows (bit ``n``: row ``n``), computed for the
    answer's stems only: a window's support is then a few integer ``&`` per claim stem,
    and a stem's rows and document frequency come from its mask."""

    __slots__ = (
        "_every_figure",
        "_masks",
        "_prefix_masks",
        "_rows",
        "_terms",
        "_vocabulary",
        "ids",
        "offsets",
        "passages",
        "row_passage",
        "rows_total",
    )

    def __init__(self, passages: Sequence[tuple[str, str]]) -> None:
        self.ids = [pid for pid, _ in passages]
        self.passages = [read(text) for _, text in passages]
        self.offsets: list[int] = []
        self.row_passage: list[int] = []
        total = 0
        for number, passage in enumerate(self.passages):
            self.offsets.append(total)
            count = len(passage.sentences)
            self.row_passage.extend([number] * count)
            total += count
        self.rows_total = total
        self._masks: dict[str, int] = {}
        self._prefix_masks: dict[str, int] = {}
        self._rows: dict[str, list[int]] = {}
        self._terms: dict[str, tuple[str, float, str | None, int, int]] = {}
        self._every_figure: FigurePool | None = None
        self._vocabulary: set[str] | None = None

    def __len__(self) -> int:
        return self.rows_total

    def prepare(self, stems: set[str] | frozenset[str]) -> None:
        """Find the rows of every stem in ``stems``, and of the prefixes of the longer
        ones, in one pass over the rows of every passage (an answer's stems are few: a
        set intersection per row beats indexing every stem of every passage)."""
        wanted = frozenset(stems.difference(self._masks))
        if not wanted:
            return
        prefixes = frozenset(
            {stem[:PREFIX] for stem in wanted if len(stem) > PREFIX}.difference(self._prefix_masks)
        )
        masks = dict.fromkeys(wanted, 0)
        marked = {PREFIX_MARK + prefix: 0 for prefix in prefixes}
        targets = Targets(wanted, prefixes)
        targets.learn(self.vocabulary())
        hits = targets.hits
        # Every key :attr:`Targets.hits` names, to its rows: one pass over the rows of
        # every passage (bit ``n``: row ``n``), one set intersection per row with the
        # words that lead to a target; rows are gathered per word (one lookup per word
        # and row), then per key.
        word_rows = dict.fromkeys(hits, 0)
        # (a frozenset's intersection with a tuple: a third cheaper than a dict's keys
        # & the tuple, one row at a time)
        hit_words = frozenset(hits).intersection
        bit = 1
        for sentence in chain.from_iterable([passage.sentences for passage in self.passages]):
            for word in hit_words(sentence):
                word_rows[word] |= bit
            bit <<= 1
        found = masks | marked
        for word, key in hits.items():
            found[key] |= word_rows[word]
        masks = {stem: found[stem] for stem in masks}
        marked = {key: found[key] for key in marked}
        # A prefix's rows: those of the stems given with that prefix, and those of the
        # other stems that start with it.
        for stem, mask in masks.items():
            if len(stem) > PREFIX and stem[:PREFIX] in prefixes:
                marked[PREFIX_MARK + stem[:PREFIX]] |= mask
        self._masks.update(masks)
        prefix_masks = self._prefix_masks
        prefix_masks.update((key[1:], mask) for key, mask in marked.items())
        # Every stem asked for is scored (each claim reads its stems' terms): their
        # weights (inverse document frequency over the rows: a word every passage
        # repeats is weak evidence, a rare one strong) and terms in one loop here.
        total = self.rows_total + 1
        log, terms = math.log, self._terms
        for stem, mask in masks.items():
            weight = log(1.0 + total / (0.5 + mask.bit_count()))
            if len(stem) > PREFIX:
                prefix = stem[:PREFIX]
                terms[stem] = (stem, weight, prefix, mask, prefix_masks[prefix])
            else:
                terms[stem] = (stem, weight, None, mask, 0)

    def mask(self, stem: str) -> int:
        """The rows holding ``stem``, as a bit mask."""
        found = self._masks.get(stem)
        if found is None:
            self.prepare({stem})
            found = self._masks[stem]
        return found

    def prefix_mask(self, prefix: str) -> int:
        """The rows holding a stem longer than :data:`PREFIX` that starts with ``prefix``
        (a prefix of a stem given to :meth:`prepare`), as a bit mask."""
        return self._prefix_masks[prefix]

    def rows(self, stem: str) -> list[int]:
        """The rows holding ``stem``, in order."""
        found = self._rows.get(stem)
        if found is None:
            found = self._rows[stem] = rows_of(self.mask(stem))
        return found

    def idf(self, stem: str) -> float:
        """Inverse document frequency of ``stem`` over the rows (a word every passage
        repeats is weak evidence, a rare one strong): its :meth:`term`'s weight."""
        return self.term(stem)[1]

    def term(self, stem: str) -> tuple[str, float, str | None, int, int]:
        """``stem``, its weight (:meth:`idf`), its prefix (``None`` for a stem no longer
        than :data:`PREFIX`), and the rows holding it and its prefix as bit masks (0
        without a prefix); computed by :meth:`prepare`."""
        found = self._terms.get(stem)
        if found is None:
            self.prepare({stem})
            found = self._terms[stem]
        return found

    def terms(self, stems: list[str]) -> list[tuple[str, float, str | None, int, int]]:
        """:meth:`term` of each stem, in order: those :meth:`prepare` computed are
        looked up in C, only the others call :meth:`term`."""
        found = list(map(self._terms.get, stems))
        if None in found:
            return [self.term(stem) for stem in stems]
        return cast(list[tuple[str, float, str | None, int, int]], found)

    def negated(self, row: int) -> bool:
        """Whether sentence ``row`` negates."""
        passage = self.row_passage[row]
        return self.passages[passage].negated[row - self.offsets[passage]]

    def sentence(self, row: int) -> tuple[str, ...]:
        """The words of sentence ``row``, in order."""
        passage = self.row_passage[row]
        return self.passages[passage].sentences[row - self.offsets[passage]]

    def opposites(self, rows: tuple[int, ...]) -> frozenset[str]:
        """The words of ``rows`` that have an opposite."""
        found: frozenset[str] = _NO_WORDS
        for row in rows:
            passage = self.row_passage[row]
            words = self.passages[passage].opposites[row - self.offsets[passage]]
            if words:
                found = found | words
        return found

    def mentions(self, name: str, only: int | None = None) -> bool:
        """Whether the passages (or passage ``only``) contain the word ``name`` (or
        ``name`` with a possessive ``'s``)."""
        if only is not None:
            return self.passages[only].mentions(name)
        # One lookup in every passage's words (a name is mostly there), then the few
        # possessives.
        return name in self.vocabulary() or any(
            name in passage.possessives for passage in self.passages
        )

    def vocabulary(self) -> set[str]:
        """Every word of every passage, in one set."""
        found = self._vocabulary
        if found is None:
            found = self._vocabulary = set().union(*[passage.words for passage in self.passages])
        return found

    def holds_figure(self, number: int, value: float, tolerance: float, unit: str) -> bool:
        """Whether passage ``number`` holds a figure matching ``value`` (± ``tolerance``)
        in ``unit``."""
        return self.passages[number].holds_figure(value, tolerance, unit)

    def figure_elsewhere(self, value: float, tolerance: float, unit: str) -> bool:
        """Whether any passage holds a figure matching ``value`` (± ``tolerance``) in
        ``unit``. A plain small integer is looked for passage by passage, where most
        passages answer without reading their figures (see
        :meth:`PassageText.holds_figure`)."""
        if is_small_integer(value, tolerance, unit):
            return any(passage.holds_figure(value, tolerance, unit) for passage in self.passages)
        return self.every_figure().matches(value, tolerance, unit)

    def every_figure(self) -> FigurePool:
        """The figures of every passage in one pool: a claim's figure missing from its
        best passage is looked for elsewhere with one lookup, not one per passage (and
        one sort, not one per passage)."""
        found = self._every_figure
        if found is None:
            every: list[Figure] = []
            for passage in self.passages:
                every.extend(passage.figure_list())
            found = self._every_figure = FigurePool(every)
        return found


#: ``bin()``'s digits as bytes 0 and 1 (every other byte unused).
_BINARY_DIGITS = bytes(1 if byte == ord("1") else 0 for byte in range(256))


def rows_of(mask: int) -> list[int]:
    """The rows of a bit mask, in order. A mask with many rows set is read in C from its
    binary digits (lowest first; about as costly as 10 rows of the bit loop plus one per
    10 digits, measured), one with few by a bit loop."""
    if mask.bit_count() > 16 + mask.bit_length() // 10:
        digits = bin(mask)[:1:-1].encode().translate(_BINARY_DIGITS)
        return list(compress(range(len(digits)), digits))
    rows: list[int] = []
    while mask:
        low = mask & -mask
        rows.append(low.bit_length() - 1)
        mask ^= low
    return rows
