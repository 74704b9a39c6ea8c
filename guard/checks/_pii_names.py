"""PERSON and LOCATION without a spaCy model: name and place lists, capitals and context.

Presidio finds names and places only with a spaCy NER model, which is not on PyPI; this
recognizer needs nothing downloaded (lists: :mod:`guard.checks._pii_name_lists`). It
reads runs of capitalised words (``Jean-Luc Picard``, ``Ludwig van Beethoven``,
``O'Brien's``) and scores them like Presidio's NER (0.85 where it is sure, so that
``threshold`` keeps its meaning):

* a title (``Dr.``, ``Mrs``) or a context phrase (``my name is``, ``Dear``,
  ``signed``) before a run: a person, 0.85;
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
from guard.checks._pii_name_context import (
    NAME_FIELDS,
    NEVER,
    NOT_PERSON,
    PERSON_CONTEXT,
    PERSON_OPENERS,
    PLACE_CONTEXT,
    SAID,
    STRONG_CONTEXT,
    STRONG_PLACE,
)
from guard.checks._pii_name_gate import Gate
from guard.checks._pii_name_lists import PARTICLES, TITLES, Gazetteer, gazetteer
from guard.checks._pii_name_words import (
    HAS_UPPER,
    LETTERS,
    TOKEN,
    Word,
    key_of,
    runs,
    sentence_start,
)
from guard.checks._pii_orgs import in_firm

#: The most characters (white space and separators not counted) of a name or address
#: found here: four words and particles, or a street address (a stream's hold-back).
LONGEST_NAME = 64
#: Context phrases after which a capitalised run is a person or a place.
_STRONG = STRONG_CONTEXT + STRONG_PLACE
SURE, INITIAL, ALONE, PLACE, UNSURE, WEAK = 0.85, 0.7, 0.6, 0.6, 0.45, 0.35


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
        found.extend(_read_run(text, lowered, run, lists, entities))
    return found


def _read_for(keys: set[str], lists: Gazetteer) -> bool:
    """Whether a run with a token of these ``keys`` is read (``_read_run``'s first test):
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


#: What makes any capitalised run just after it a name (``_read_run``'s test).
_CONTEXT_OR_FIELD = _STRONG + NAME_FIELDS


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


def _before(lowered: str, start: int) -> str:
    """The words just before ``start`` (lower case, one space between words)."""
    return " ".join(lowered[max(0, start - 40) : start].split()[-3:])


def _read_run(
    text: str, lowered: str, run: list[Word], lists: Gazetteer, entities: frozenset[str]
) -> list[tuple[str, int, int, float]]:
    if not any(
        w.key in lists.starters or w.head in lists.starters or w.key in PERSON_OPENERS for w in run
    ):
        # No word of the run is a name, place, title or opener (``Summarise``, ``Key``):
        # only a context phrase just before it can make it a name (C ``endswith``).
        start = run[0].start
        while start > 0 and lowered[start - 1] in " \t\n\"'":
            start -= 1
        if not lowered.endswith(_STRONG + NAME_FIELDS, 0, start):
            return []
    before = _before(lowered, run[0].start)
    if before.endswith(STRONG_PLACE):
        # ``living in Usquert``: the run is a place, whatever the lists say.
        town = ("LOCATION", run[0].start, run[-1].end, SURE)
        return [town] if "LOCATION" in entities else []
    # Quotes dropped: a record's field names are context too (``"last_name": "Santos"``).
    bare = before.replace('"', "").replace("'", "").rstrip()
    context = before.endswith(PERSON_CONTEXT) or bare.endswith(NAME_FIELDS)
    strong = before.endswith(STRONG_CONTEXT) or bare.endswith(NAME_FIELDS)
    place_context = bare.rsplit(" ", 1)[-1].rstrip(":=") in PLACE_CONTEXT if bare else False
    # Leading words that are no name are context (``Dear``, ``Dr``, ``From``, ``Meet``).
    index = 0
    while index < len(run):
        key = run[index].key
        if key in TITLES or key in PERSON_OPENERS:
            context = strong = True
        elif (
            strong
            or _known(key, lists)
            or _known(run[index].head, lists)
            or (len(key) == 1 and index + 1 < len(run))
            or _place(run, index, lists, True) is not None
        ):
            break
        else:
            place_context, context = key in PLACE_CONTEXT, False
        index += 1
    words = run[index:]
    if any(w.key in NOT_PERSON for w in words):
        # An organisation or event named after a person or place: neither.
        return []
    said = text.startswith(SAID, run[-1].end)
    context = context or said
    at_start = index == 0 and sentence_start(text, run[0].start)
    found: list[tuple[str, int, int, float]] = []
    position = 0
    while position < len(words):
        person = _person(words, position, lists, strong, context, at_start)
        place = _place(words, position, lists, place_context)
        entity, end, score = "", position + 1, 0.0
        if place is not None and (
            person is None
            or place[0] > person[0]
            or (
                place[0] == person[0]
                and (place_context or place[2] or person[1] < ALONE or place[0] > position + 1)
            )
        ):
            entity, end, score = "LOCATION", place[0], place[1]
        elif person is not None:
            entity, end, score = "PERSON", person[0], person[1]
        if entity in entities and score > 0:
            found.append((entity, words[position].start, words[end - 1].end, score))
        position = end
        strong = context = place_context = at_start = False
    return found


def _known(key: str, lists: Gazetteer) -> bool:
    """A word that can begin a name or a place (a title or function word cannot)."""
    if key in NEVER or key in TITLES:
        return False
    return key in lists.starters


def _place(
    words: list[Word], position: int, lists: Gazetteer, context: bool
) -> tuple[int, float, bool] | None:
    """The longest place starting at ``words[position]``: (end index, score, whether it
    is a country, US state or city of 500,000 or more — a place first; a smaller city
    that is a given name (``Tyler``, ``Jackson``) is a person when read as one)."""
    longest = lists.longest_place if words[position].key in lists.place_heads else 1
    for length in range(min(longest, len(words) - position), 0, -1):
        phrase = tuple(w.key for w in words[position : position + length])
        found = lists.places.get(phrase)
        if found is None or words[position + length - 1].particle:
            continue
        kind, common = found
        if common and not context:
            return None
        if kind == "t" and length == 1 and not context and _is_name(phrase[0], lists):
            return None  # ``Ann``, ``Tyler``: a small town, or rather a person

        return position + length, SURE if context else PLACE, kind != "t"  # c, s, T
    return None


def _is_name(key: str, lists: Gazetteer) -> bool:
    return key in lists.first or key in lists.last or key in lists.first_common


def _person(
    words: list[Word], position: int, lists: Gazetteer, sure: bool, context: bool, at_start: bool
) -> tuple[int, float] | None:
    """A person starting at ``words[position]``: (end index, score)."""
    head = words[position]
    if head.particle or head.key in NEVER:
        return None
    end = position + 1
    while end < len(words) and end - position < 4:
        following = words[end]
        if following.particle:
            if end + 1 >= len(words):
                break
            end += 1
            continue
        key = following.key
        if key in NEVER or (key in lists.first_common and key not in lists.last_common):
            break  # a common word after a name is part of it only as a family name
        end += 1
    key, last = head.key, words[end - 1].key
    if sure:
        return end, SURE
    first_name = key in lists.first or head.head in lists.first
    family = last in lists.last or last in lists.last_common
    if end - position > 1:
        if first_name:
            return end, SURE
        if len(key) == 1 and family:
            return end, INITIAL
        if key in lists.first_common and family:
            # ``Bill Gates`` and ``Rose Garden`` read alike: two common words need
            # context, a family name that is no common word does not (``Will Ferrell``).
            if last in lists.last:
                return end, ALONE if at_start else SURE
            return end, UNSURE
        if context and (key in lists.last or key in lists.last_common):
            return end, SURE
        end = position + 1
    if first_name:
        # ``Han``, ``Li``, ``Kim`` alone are as often a dynasty, a word or an initialism.
        return end, SURE if context else ALONE if len(key) > 3 else WEAK
    if key in lists.first_common or key in lists.last or key in lists.last_common:
        return end, INITIAL if context else WEAK
    return None
