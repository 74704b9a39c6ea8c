"""Proper names of a claim: each must occur somewhere in the passages.

A name is a capitalised word not at a sentence start, or an acronym anywhere; a
possessive ``'s`` is dropped and stopwords are no names. :func:`name_missing` asks the
question scoring needs — does one name occur in no passage? — and most names answer it
by one lookup in the call's vocabulary before their place in the sentence is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guard.grounding.passages import PassageIndex
from guard.grounding.text import STOPWORDS, latin_as_shown

#: A capitalised word or an acronym, not inside a word. The look-behind comes after
#: the first capital so that the scan can skip to capitals (2.5 times faster).
NAME = re.compile(r"([A-Z](?<![\w'’][A-Z])(?:[\w'’-]*[A-Za-z0-9]|[A-Z]+))")
#: What may stand between a sentence's start and its first word.
_OPENERS = " *_\"'“‘("
#: A name's word after one of these (openers skipped) is at a sentence start.
_STARTS = ".!?:\n|•-"


def names(text: str) -> list[str]:
    """Lower-cased capitalised words not at a sentence start (and acronyms anywhere)."""
    return list(_names(latin_as_shown(text)))  # a name in look-alike letters is that name


def name_missing(index: PassageIndex, text: str, only: int | None = None) -> bool:
    """Whether a name of :func:`names` ``(text)`` occurs in no passage (in passage
    ``only`` when given): ``not all(index.mentions(name, only) for name in names(text))``.

    A word found in the call's vocabulary is mentioned, whatever its place: most words
    (names or sentence openers) are there, and they need neither their match's position
    nor the text before it; only the others are read as :func:`names` reads them."""
    text = latin_as_shown(text)
    if only is None:
        vocabulary = index.vocabulary()
        for word in NAME.findall(text):  # (strings, no match objects)
            lowered = word.lower()
            if lowered in vocabulary and lowered[-2:] != "'s" and "’" not in lowered:
                continue  # (as _lowered reads it: no curly apostrophe, no possessive)
            lowered = _lowered(word)
            if lowered not in vocabulary and lowered not in STOPWORDS and len(lowered) > 1:
                break  # a word the vocabulary does not answer: read them in place
        else:
            return False
    return not all(index.mentions(name, only) for name in _names(text))


def _names(shown: str) -> Iterator[str]:
    """:func:`names` of a text already shown as read (:func:`latin_as_shown`), one at a
    time: :func:`name_missing` stops at the first name no passage mentions."""
    for match in NAME.finditer(shown):
        word = match.group(1)
        lowered = _lowered(word)
        if lowered in STOPWORDS or len(lowered) < 2:
            continue
        if not word.isupper() and _at_start(shown, match.start()):
            continue
        yield lowered


def _lowered(word: str) -> str:
    lowered = word.lower().replace("’", "'")
    return lowered[:-2] if lowered.endswith("'s") else lowered


def _at_start(text: str, position: int) -> bool:
    before = text[:position].rstrip(_OPENERS)
    return not before or before[-1] in _STARTS
