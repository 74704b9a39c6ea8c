"""PERSON and LOCATION without a spaCy model: name and place lists, capitals and context.

Presidio finds names and places only with a spaCy NER model, which is not on PyPI; this
recognizer needs nothing downloaded (lists: :mod:`guard.checks._pii_name_lists`). It
reads runs of capitalised words (``Jean-Luc Picard``, ``Ludwig van Beethoven``,
``O'Brien's``) and scores them like Presidio's NER (0.85 where it is sure, so that
``threshold`` keeps its meaning):

* a title (``Dr.``, ``Mrs``) or a context phrase (``my name is``, ``signed``) before a
  run: a person, 0.85; an opener (``Dear``, ``Hi``) too, but not before a common English
  word that is no known name (``Hello World``, ``Hi Team``, ``Dear Customer``);
* a given name and a family name (or any capitalised word after a given name that is
  not a common word): 0.85; an initial and a family name (``J. Smith``): 0.7;
* a given name alone: 0.6 — but a given name that is also a common word (``Will``,
  ``May``, ``Grant``, ``Rose``, ``Bill``) counts only with context or a family name,
  and a family name alone only with context (0.35 otherwise: under the threshold);
* a country, US state or city: 0.6, 0.85 after ``in``/``from``/``near``...; a city
  that is a common word (``Mobile``, ``Reading``) only after those; a street address
  (``12 Oak Street``): 0.85.

The first word of a sentence is capitalised anyway: a common-word name there needs a
family name after it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from guard.checks._pii_addresses import find_addresses
from guard.checks._pii_name_context import NAME_FIELDS, PERSON_OPENERS
from guard.checks._pii_name_gate import Gate
from guard.checks._pii_name_lists import PARTICLES, TITLES, Gazetteer, gazetteer
from guard.checks._pii_name_runs import STRONG, SURE, read_run
from guard.checks._pii_name_words import HAS_UPPER, LETTERS, TOKEN, key_of, runs
from guard.checks._pii_orgs import in_firm

#: The most characters (white space and separators not counted) of a name or address
#: found here: four words and particles, or a street address (a stream's hold-back).
LONGEST_NAME = 64


def find_names(
    text: str, entities: frozenset[str], *, digits: bool = True
) -> list[tuple[str, int, int, float]]:
    """PERSON / LOCATION spans in ``text`` with their scores (``entities``: which;
    ``digits``: whether the text may hold a digit, i.e. a street address)."""
    lowered = text.lower()
    if lowered == text:
        # Every name, place and street holds a capital (``lower`` is C's ASCII fast
        # path: ~1 us for 2 KB, where a regex for capitals or ``islower`` takes 20).
        return []
    if text.isascii() and _gate().clears(text, lowered, german=False):
        # No capitalised word begins a name, place or title (C methods): streets only.
        return _addresses(text, entities, digits)
    return read_names(text, lowered, entities, digits=digits)


def _addresses(
    text: str, entities: frozenset[str], digits: bool
) -> list[tuple[str, int, int, float]]:
    if not digits or "LOCATION" not in entities:
        return []
    return [("LOCATION", start, end, SURE) for start, end in find_addresses(text)]


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``start:end`` overlaps one of ``spans``."""
    return any(s < end and start < e for s, e in spans)


def read_names(
    text: str, lowered: str, entities: frozenset[str], *, digits: bool
) -> list[tuple[str, int, int, float]]:
    """:func:`find_names` without the first look (``lowered``: ``text`` in lower case)."""
    addresses = _addresses(text, entities, digits)
    found = _read_runs(text, lowered, entities)
    # A firm named after people (``Hall, Rogers and Sexton``, ``Rossi S.p.A.``).
    found = [hit for hit in found if hit[0] != "PERSON" or not in_firm(text, hit[1], hit[2])]
    if not addresses:
        return found
    # A street named after a person (``rue Tristan Lévy``) is part of the address.
    spans = [(start, end) for _, start, end, _ in addresses]
    found = [hit for hit in found if not _inside(hit[1], hit[2], spans)] + addresses
    return sorted(found, key=lambda hit: hit[1])


def _read_runs(
    text: str, lowered: str, entities: frozenset[str]
) -> list[tuple[str, int, int, float]]:
    """The names and places of the capitalised runs of ``text``."""
    found: list[tuple[str, int, int, float]] = []
    keys = {key_of(t) for t in TOKEN.findall(text)}
    lists = gazetteer()
    if not _read_for(keys, lists) and next(_gate().context.iter(lowered), None) is None:
        return found  # no known word and no context phrase: nothing to read further
    for run in runs(text, lists.place_heads):
        found.extend(read_run(text, lowered, run, lists, entities))
    return found


def _read_for(keys: set[str], lists: Gazetteer) -> bool:
    """Whether a run with a token of these ``keys`` is read (``read_run``'s first test):
    a known word, a hyphenated given name's head (``jean`` of ``Jean-Luc``) or an
    opener. The recognizer's first looks answer for the whole text, so they ask what
    it asks of each run: a stream sees only the text near a run."""
    return (
        not lists.starters.isdisjoint(keys)
        or not PERSON_OPENERS.isdisjoint(keys)
        or not lists.starters.isdisjoint(_heads(keys))
    )


def _heads(keys: set[str]) -> set[str]:
    """The first parts of hyphenated keys (``jean`` of ``jean-luc``, ``street`` of
    ``street-to``): what the recognizer reads such a word as, besides its key."""
    return {key.partition("-")[0] for key in keys if "-" in key}


#: What makes any capitalised run just after it a name (``read_run``'s test).
_CONTEXT_OR_FIELD = STRONG + NAME_FIELDS


@lru_cache(maxsize=1)
def _gate() -> Gate:
    return Gate.of(
        gazetteer().starters,
        PERSON_OPENERS,
        _CONTEXT_OR_FIELD,
        _CONTEXT_OR_FIELD + tuple(PARTICLES),
    )


def may_end_name(text: str, start: int, end: int) -> bool:
    """Whether a name or place found in ``text`` could end in ``text[start:end]``: it
    holds a capitalised word that begins a name or place, or a title or context phrase
    comes before it. A stream releasing clean prose (``The``, ``Note:``) skips the scan."""
    if HAS_UPPER.search(text, start, end) is None:
        return False
    lists = gazetteer()
    if _read_for({key_of(t) for t in TOKEN.findall(text, start, end)}, lists):
        return True
    lowered = text[max(0, start - 64) : end].lower()
    if _STRONG_PHRASE.search(lowered) is not None:
        return True
    if lowered.isascii():
        # The words as C splits them (``LETTERS``, a Unicode class, costs ~5 us here).
        return not _TITLE_BYTES.isdisjoint(lowered.encode().translate(_NOT_LETTER).split())
    return not TITLES.isdisjoint(LETTERS.findall(lowered))


#: Any context phrase or field name as a substring: one C search where a loop of
#: ``in`` tests cost ~160 bytecodes per call (a stream asks once per capitalised word).
_STRONG_PHRASE = re.compile("|".join(re.escape(phrase) for phrase in _CONTEXT_OR_FIELD))
#: ``TITLES`` as the words of an ASCII text split where :data:`_NOT_LETTER` puts spaces.
_TITLE_BYTES = frozenset(title.encode() for title in TITLES)
_NOT_LETTER = bytes(c if chr(c).isalpha() and c < 0x80 else 0x20 for c in range(256))
