"""A first look at ASCII text for the PERSON / LOCATION recognizer, in C string methods:
which capitalised words could begin a name, place, title or street, and what comes
before them (:mod:`guard.checks._pii_names` reads the text no further when nothing can).

The recognizer's token regex is tried at every position of the text (~10 us per KB of
prose), and most replies hold capitalised words that are no name (``The``, ``This``).
Here the capitals are found by one ``bytes.translate`` and one ``split`` (~3 us per KB
together); only the words they begin are read in Python. The answer is a superset of
what the token regex would find, so a text it clears has no name for the recognizer.
"""

from __future__ import annotations

import re
import string
from operator import itemgetter
from typing import Any, NamedTuple

import ahocorasick

_UPPER = bytes(range(0x41, 0x5B))
_LOWER = string.ascii_lowercase.encode()
#: A capital's letter (lower case) by its byte.
_LETTER = tuple(bytes([c]) for c in range(256))
#: Capitals become ``\x01`` (a ``\x01`` of the text becomes ``\x02``): splitting at
#: ``\x01`` cuts the text just before every capital.
_MARK = bytes.maketrans(_UPPER + b"\x01", b"\x01" * len(_UPPER) + b"\x02")
_NOT_UPPER = bytes(c for c in range(256) if c not in _UPPER)
#: What a capital that begins a token cannot follow (the token regex's look-behind
#: rejects a word character): a letter, a digit, or another capital (``""``: the piece
#: between two capitals is empty). Not ``_``: markdown emphasis (``_Ann_``) may.
_INSIDE_WORD = frozenset(bytes([c]) for c in (string.digits + string.ascii_letters).encode())
_INSIDE_WORD |= {b""}
#: Skipped before a run when its context phrase is looked for (as ``read_run`` does).
_SKIPPED = b" \t\n\"'*_"
#: Put before the text's first piece: what is before a capital at the text's start
#: (no context phrase ends in it; line breaks before a capital are skipped).
_START = b"\x00"
#: How much of the text before a capital is kept to read what comes before it: a
#: longer stretch of skipped characters reads as unknown (``?``).
_TAIL = itemgetter(slice(-16, None))
#: The most (letter, piece) pairs :func:`_by_kind` makes before reading capital by capital.
_MOST_KINDS = 32
#: The leading letters of a word (``o`` of ``o'brien``, ``u`` of ``u.s.``).
_LEAD = re.compile(r"[a-z]*")


class Capitals(NamedTuple):
    """The capitalised words of an ASCII text that may begin a token of the recognizer."""

    #: Their leading letters, lower case (``mcdonald`` of ``McDonald's``): a token's key
    #: begins with them.
    leads: set[bytes]
    #: The character before each (spaces, line breaks and quotes skipped), ``\x00`` at
    #: the start of the text, ``?`` where unknown: where a context phrase would end.
    before: set[bytes]


def lead_of(word: str) -> bytes:
    """The leading letters of a lower-case word (``o`` of ``o'brien``), as looked up in
    :attr:`Capitals.leads` (ASCII letters only: ``b""`` for ``ørsted``)."""
    match = _LEAD.match(word)
    return match.group().encode() if match is not None else b""


def capitals(text: str) -> Capitals:
    """The words ``text`` (ASCII) holds that begin with a capital not inside a word (a
    superset: see :func:`_by_kind`)."""
    letters, pieces = _split(text)
    words = _by_kind(letters, pieces) or _in_order(letters, pieces)
    assert words is not None  # nothing to stop at
    return words


def _split(text: str) -> tuple[bytes, list[bytes]]:
    """The capitals' letters (lower case) and the pieces of ``text`` between them."""
    encoded = text.encode("ascii")
    return encoded.translate(None, _NOT_UPPER).lower(), encoded.translate(_MARK).split(b"\x01")


def _by_kind(letters: bytes, pieces: list[bytes]) -> Capitals | None:
    """The leads as every capital's letter before every piece's leading letters, when
    the text has few kinds of each (``The ... . The ... .``): a superset of the leads,
    read without a step per capital. ``None`` when there are many kinds, or a piece is
    all letters (a word goes on past a capital: ``McDonald``, ``API``)."""
    distinct = set(pieces[1:-1])  # each after one capital and before the next
    kinds = set(letters)
    if (len(distinct) + 1) * len(kinds) > _MOST_KINDS:
        return None
    heads: list[bytes] = []
    # ``\n``: nothing is before the first capital but what the text starts with.
    before = {_TAIL(_START + pieces[0]).rstrip(_SKIPPED)[-1:] or b"?"}
    for piece in (*distinct, pieces[-1]):
        rest = piece.lstrip(_LOWER)
        if not rest:
            return None
        heads.append(piece[: len(piece) - len(rest)])
    for piece in distinct:
        before.add(_TAIL(piece).rstrip(_SKIPPED)[-1:] or b"?")
    leads = {_LETTER[letter] + head for letter in kinds for head in heads}
    return Capitals(leads, before)


def _in_order(
    letters: bytes, pieces: list[bytes], stop: frozenset[bytes] = frozenset()
) -> Capitals | None:
    """:func:`capitals` capital by capital (a word may go on past a capital); ``None``
    at the first lead in ``stop``."""
    leads: set[bytes] = set()
    before: set[bytes] = set()
    count = len(letters)
    previous = _START + pieces[0]
    for index in range(count):
        piece = pieces[index + 1]
        if previous[-1:] in _INSIDE_WORD:
            previous = piece
            continue
        before.add(_TAIL(previous).rstrip(_SKIPPED)[-1:] or b"?")
        rest = piece.lstrip(_LOWER)
        lead = letters[index : index + 1] + piece[: len(piece) - len(rest)]
        follow = index + 1
        while not rest and follow < count:
            following = pieces[follow + 1]
            rest = following.lstrip(_LOWER)
            lead += letters[follow : follow + 1] + following[: len(following) - len(rest)]
            follow += 1
        if lead in stop:
            return None
        leads.add(lead)
        previous = piece
    return Capitals(leads, before)


#: What ends the word before a German street's number (ASCII: no ``straße``).
_GERMAN_ENDINGS = (b"strasse", b"weg", b"gasse", b"platz", b"allee")


def phrases(words: tuple[str, ...]) -> Any:
    """An automaton finding any of ``words`` in a text: ``next(it.iter(text), None)``."""
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


class Gate(NamedTuple):
    """What makes the recognizer read an ASCII text in full."""

    #: The leading letters of every word that can start a name or place, of titles and
    #: of street words: a capitalised word beginning so is read in full.
    starts: frozenset[bytes]
    #: Capitalised words that say a person follows (``Dear``, ``Hi``).
    openers: frozenset[bytes]
    #: Where a context phrase, a record's field name or a particle ends (their last
    #: characters): a run after one may be a name.
    ends: frozenset[bytes]
    #: The context phrases that make any capitalised run after them a person or place,
    #: as an Aho-Corasick automaton: one C pass over the text for all of them (a loop
    #: of ``in`` tests costs ~1 us a phrase per 2 KB, a regex alternation ten times that).
    context: Any

    @classmethod
    def of(
        cls,
        starters: frozenset[str],
        openers: frozenset[str],
        context: tuple[str, ...],
        before_runs: tuple[str, ...],
    ) -> Gate:
        """The gate for these lists (``before_runs``: what a run may follow to be a
        name: context phrases, field names, particles)."""
        return cls(
            starts=frozenset(lead_of(word) for word in starters) - {b""},
            openers=frozenset(word.encode() for word in openers),
            ends=frozenset(word[-1:].encode() for word in before_runs) | {b"?"},
            context=phrases(context),
        )

    def clears(self, text: str, lowered: str, *, german: bool) -> bool:
        """Whether the recognizer finds nothing in ``text`` (ASCII; ``lowered``: in
        lower case; ``german``: whether German street addresses are looked for), read
        from its capitalised words alone. ``False`` when unsure: the text is read in
        full.

        Every run the recognizer reads has a token with a key in its lists (or a
        hyphenated given name beginning like one), an opener, or a context phrase or
        field name just before it."""
        letters, pieces = _split(text)
        quick = _by_kind(letters, pieces)
        if quick is not None and self._clear(quick, lowered, german):
            return True
        # The quick reading joins every letter to every piece: read capital by capital,
        # stopping at the first word that begins like a known one (most prose with
        # names or words like ``In``, ``May`` has one: the full read follows).
        words = _in_order(letters, pieces, self.starts)
        return words is not None and self._clear(words, lowered, german)

    def _clear(self, words: Capitals, lowered: str, german: bool) -> bool:
        if not self.starts.isdisjoint(words.leads):
            return False  # a known word, title or street word (or one beginning alike)
        if german and any(lead.endswith(_GERMAN_ENDINGS) for lead in words.leads):
            return False  # ``Hauptstrasse 5``
        if not self.openers.isdisjoint(words.leads):
            return False  # an opener (``Hi``): the run it begins may be a name
        if self.ends.isdisjoint(words.before):
            return True  # no run where a context phrase or particle ends
        return next(self.context.iter(lowered), None) is None
