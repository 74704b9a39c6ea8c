"""The name and place lists of the offline PERSON / LOCATION recognizer, read once.

``guard/checks/pii_names/`` ships four lists (built by ``tests/data/pii/build_names.py``;
each file names its sources and licences): given names (US Census 1990, public domain;
popular names of 106 countries, CC0), family names (the 12,000 most frequent of the
census, and the same international set) and places (countries, US states and cities of
50,000 inhabitants or more from GeoNames, CC BY 4.0). Entries are lower case; a ``*``
marks a name that is also a common English word (``will``, ``grant``, ``mobile``). The
fourth, ``words.txt`` (``tests/data/pii/build_words.py``; SCOWL, permissive licence),
holds the common English words that are no name: an opener makes none of them a person
(``Hello World``, ``Hi Team``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DIR = Path(__file__).with_name("pii_names")

#: Titles before a name (``Dr. Ada Lovelace``): what follows is a person.
TITLES = frozenset(
    """mr mrs ms miss mx dr prof sir dame madam mme mlle herr frau sr sra srta dott
    rev fr capt lt col sgt gen dra dott sig mevr dhr mme mlle srta ing""".split()
)
#: Lower-case particles inside a name or place (``Ludwig van Beethoven``, ``Rio de
#: Janeiro``).
PARTICLES = frozenset("de da do dos das di del della la le van von der den du bin al y".split())


_LETTERS_APART = str.maketrans({"ø": "o", "ł": "l", "ı": "i", "đ": "d", "ß": "ss", "æ": "ae",
                                "œ": "oe", "þ": "th", "ð": "d"})  # fmt: skip


def fold(word: str) -> str:
    """``word`` (lower case) without accents: the form the lists keep (``jürgen`` and
    ``jurgen``, ``søren`` and ``soren`` are one name)."""
    if word.isascii():
        return word
    split = unicodedata.normalize("NFD", word.translate(_LETTERS_APART))
    return "".join(c for c in split if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """The lists, as sets of lower-case words (and place phrases as word tuples)."""

    first: frozenset[str]
    #: Given names that are also common words: only with context or a family name.
    first_common: frozenset[str]
    last: frozenset[str]
    last_common: frozenset[str]
    #: Place phrase (lower-case words) -> (kind: c country, s state, t city; common word).
    places: dict[tuple[str, ...], tuple[str, bool]]
    #: The most words in a place phrase.
    longest_place: int
    #: The first words of places of more than one word (``los``, ``san``, ``sri``): kept
    #: when written in capitals, where other short capitalised words are acronyms.
    place_heads: frozenset[str]
    #: Every word that can start a name or place, or a title: a text with none of them
    #: (and no context phrase) has no PERSON or LOCATION for this recognizer.
    starters: frozenset[str]
    #: Common English words that are no given or family name (``world``, ``team``).
    words: frozenset[str]


def _entries(name: str) -> list[tuple[str, bool]]:
    lines = (_DIR / name).read_text(encoding="utf-8").splitlines()
    entries = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        word = line.split("\t", 1)[0]
        entries.append((word.rstrip("*"), word.endswith("*")))
    return entries


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shipped lists (read on first use, ~30 ms, then shared)."""
    first = _entries("first.txt")
    last = _entries("last.txt")
    places: dict[tuple[str, ...], tuple[str, bool]] = {}
    for line in (_DIR / "places.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, kind = line.split("\t")
        words = tuple(name.rstrip("*").split())
        if words[0] == "the" and len(words) > 1:
            words = words[1:]  # ``The Hague``: the article is no part of the name read
        places[words] = (kind, name.endswith("*"))
    starters = {w for w, _ in first} | {w for w, _ in last} | TITLES
    starters |= {words[0] for words in places}
    return Gazetteer(
        first=frozenset(w for w, common in first if not common),
        first_common=frozenset(w for w, common in first if common),
        last=frozenset(w for w, common in last if not common),
        last_common=frozenset(w for w, common in last if common),
        places=places,
        longest_place=max(len(words) for words in places),
        place_heads=frozenset(words[0] for words in places if len(words) > 1),
        starters=frozenset(starters),
        words=frozenset(word for word, _ in _entries("words.txt")),
    )
