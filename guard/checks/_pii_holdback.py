"""How much of a streamed text the ``pii`` check holds back: what an entity still being
written could extend (the last token, the groups of a number written in groups before
it, and a token glued to the first of them) — and never more than the longest match the
configured recognizers can produce (:func:`capped`).

A stream asks on every delta, so the common case (an ASCII word at the end) is settled
by C string methods; the rest by a walk back over the last tokens.
"""

from __future__ import annotations

import re

from guard.checks._pii_holdback_names import (
    MAX_HOLD,
    PARTICLES,
    STILL_JOINING,
    SpaceMarks,
    as_read,
    name_holdback,
)
from guard.normalize import normalize

#: Characters the detector never sees (format controls): they are inside a token.
_INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
#: The last run of digits of a token, and the number separators after it (``(415)`` of
#: ``www.example.com/(415)``: a number written in groups may go on after the space).
_LAST_RUN = re.compile(rf"[\w{_INVISIBLE}]*\d[\w{_INVISIBLE}]*[()+\-.·/]*$")
_GROUP = re.compile(rf"[\w()+\-.·/{_INVISIBLE}]{{1,24}}")
_GROUP_TAIL = re.compile(rf"[\w()+\-.·/{_INVISIBLE}]+$")
#: In an ASCII last token, what only :func:`holdback`'s walk can judge: a digit
#: (a number may go on), or a capital in its last four characters (``DE``, ``NHS``: a
#: group of a number written in groups).
_NOT_PLAIN_WORD = re.compile(r"[0-9]|[A-Z][^A-Z]{0,3}\Z|\A[^A-Za-z]*\Z")
#: The start of a token that may be the last group of a number written in groups before
#: it, glued to what follows (``555-0132`` of ``555-0132_maria@x.io``).
_GROUP_HEAD = re.compile(rf"[()+\-.·/{_INVISIBLE}]*\d")
#: A token of number separators only (the start of a group being written).
_SEPARATORS = re.compile(rf"[()+\-.·/{_INVISIBLE}]+")
#: How much of the window's end the fast path of :func:`holdback` reads.
_FAST_TAIL = 64
#: Characters not counted against a recognizer's longest match (:func:`capped`): white
#: space and the separators the compact view drops between spaced or dotted digits.
_UNCOUNTED = frozenset(" \t\n\r\x0b\x0c.-_/·()‐‑‒–—−")


def holdback(text: str, *, ner: bool, names: bool = False, marks: SpaceMarks | None = None) -> int:
    """The trailing characters an entity still being written could extend: the last
    token, and the groups before it when they could be one number written in groups
    (``+1 415 555``, ``DE89 3704``, ``4 2 4 2``); with NER, the last three words.

    A stream calls this on every delta: an ASCII word (no digit, no capital near its
    end) at the end of the text is settled by C string methods on the last
    characters (~0.3 us); anything else takes the walk (:func:`holdback_walk`).
    ``names``: at least what :func:`name_holdback` holds (a lower-case last word, the
    common case, holds no name: settled here without asking it). ``marks``: a stream
    window's :class:`~guard.checks._pii_holdback_names.SpaceMarks` (:func:`as_read`).
    """
    if ner:
        text = as_read(text, marks)
        hold = holdback_walk(text, ner=ner)
        return max(hold, name_holdback(text, read=True)) if names else hold
    # The common case first: an ASCII word (being written, or done and followed by
    # one space) after a space, not a short capitalised group.
    space = text.rfind(" ")
    word = text[space + 1 :]
    if not word and space > 0:
        word = text[text.rfind(" ", 0, space) + 1 : space]
    if (
        len(word) <= _FAST_TAIL
        and word.isalpha()
        and word.isascii()
        and not (len(word) <= 4 and word.isupper())  # ``DE``, ``NHS``: a group
    ):
        hold = len(word) if space < len(text) - 1 else 0
        # A word still being written (``d`` of ``Maria d``, ``sa`` of ``Will sa``) may
        # become a particle or a verb that makes the run before it a person.
        particles = STILL_JOINING if hold else PARTICLES
        if names and not (word.islower() and word not in particles):
            return max(hold, name_holdback(text, marks=marks))
        return hold
    text = as_read(text, marks)
    if names:
        return _with_names(text, _pattern_holdback(text))
    return _pattern_holdback(text)


def _with_names(text: str, pattern: int) -> int:
    """The hold-back of a text (as :func:`as_read` reads it) whose pattern hold-back is
    ``pattern``, with PERSON / LOCATION: what :func:`name_holdback` holds, and never a
    cut inside a capitalised run: when the pattern hold-back is the longer, the run just
    before its cut is held too
    (``Jean-Luc `` + ``Picard,``: the last token being written is held whole, and the
    name it ends must not be released in part)."""
    name = name_holdback(text, read=True)
    if pattern <= name:
        return name
    cut = len(text) - pattern
    # Only a capitalised word or a number (``Hauptstraße`` + `` 5``) continues a run
    # across a space (a particle or a verb being written is the last word:
    # name_holdback held its run already).
    if cut == 0 or (text[cut - 1].isspace() and not (text[cut].isupper() or text[cut].isdigit())):
        return pattern
    return pattern + name_holdback(text[:cut], read=True)


#: Lower-case ASCII prose: letters and spaces only.
_LOWER_PROSE = re.compile("[a-z ]+")


def prose_holdback(text: str, released: int, *, names: bool) -> int | None:
    """:func:`holdback` (no NER) when the text not released yet, ``text[released:]``, is
    lower-case ASCII letters and spaces and the answer needs no walk: the last word is
    inside it (after a space inside it) and is no particle being written; ``None``
    otherwise (ask :func:`holdback`). Such text ends no entity either: a stream on
    prose (most deltas) is settled by one regex and two ``rfind``."""
    if _LOWER_PROSE.fullmatch(text, released) is None:
        return None
    last = text.rfind(" ")
    if last < released:
        return None  # the last word may begin in released text
    if last < len(text) - 1:  # a word being written, all of it unreleased
        word = text[last + 1 :]
        if len(word) > _FAST_TAIL or (names and word in STILL_JOINING):
            return None
        return len(word)
    before = text.rfind(" ", 0, last)  # a word done, followed by one space
    if before < released or before == last - 1:
        return None
    word = text[before + 1 : last]
    if len(word) > _FAST_TAIL or (names and word in PARTICLES):
        return None
    return 0


def _pattern_holdback(text: str) -> int:
    """:func:`holdback` past its common case (no NER, no names)."""
    tail = text[-_FAST_TAIL:]
    body = tail.rstrip(" \t")
    spaces = len(tail) - len(body)
    if spaces > 2:
        return 0  # a wide gap: nothing continues across it
    words = body.rsplit(None, 1)
    if not words or (len(words[-1]) == len(body) and len(tail) < len(text)):
        return holdback_walk(text, ner=False)  # no token, or one that may begin before the tail
    word = words[-1]
    if body[-1].isspace():
        return 0  # a line break: nothing continues across it
    if not word.isascii() or _NOT_PLAIN_WORD.search(word) is not None:
        return holdback_walk(text, ner=False)
    # A word still being written is held whole (an e-mail or URL may begin with it);
    # a finished one, followed by one or two spaces, is no group of a number.
    return 0 if spaces else len(word)


def holdback_walk(text: str, *, ner: bool) -> int:
    """:func:`holdback` by walking back over the last tokens."""
    end = len(text)
    limit = max(0, end - MAX_HOLD)
    hold_from = position = end
    count = 0
    while position > limit:
        gap = position
        while gap > limit and text[gap - 1] in " \t" and position - gap < 2:
            gap -= 1
        if gap == limit or text[gap - 1].isspace():
            break  # a line break or a wide gap: nothing continues across it
        # The token ending at ``gap`` (``text[gap - 1]`` is no white space), by C.
        start = gap - len(text[limit:gap].rsplit(None, 1)[-1])
        if count == 0 and gap == end:
            # The last token, nothing after it yet: any of it may still grow.
            hold_from = start
        # The last token, still being written, beginning with a group: what it is glued
        # to (an e-mail, a URL) may beat the number now and lose once the token goes on
        # (``(415) 555-0132_maria@x.io`` + ``_``: the e-mail is gone, the phone is
        # back), so the groups before it are held as if it were one.
        head = count == 0 and gap == end and _GROUP_HEAD.match(text, start, gap) is not None
        tail = _GROUP_TAIL.search(text, start, gap)
        group = tail is not None and (
            _is_group(tail.group())
            # Separators still being written (``-`` before ``555``) may begin a group.
            or (count == 0 and gap == end and _SEPARATORS.fullmatch(tail.group()) is not None)
        )
        if ner and count < 3:
            hold_from = start
        elif group and tail is not None:
            # A piece of a number written in groups (``DE89`` in ``https://DE89``,
            # ``943`` in ``,943``) may go on after the space.
            hold_from = min(hold_from, tail.start())
            if tail.start() > start:
                # Something else is glued before it: no earlier group counts, but
                # the token it is glued to is held too — an entity there (a URL
                # ending in ``,943``) may lose to the number now and win once the
                # number changes, so it must not be released before the number.
                hold_from = min(hold_from, start)
                if not head:
                    break
        else:
            # A long token: a number may still begin at its last run of digits
            # (``-555-1234`` + `` 4111 ...``), and the token is held whole with it, as
            # a glued token is above: an e-mail or URL it holds (``https://x/a.4111`` +
            # `` 1111 1111 1111``) may lose to the number now and win once it changes.
            run = _LAST_RUN.search(text, start, gap)
            if run is not None and len(run.group()) <= 24:
                hold_from = min(hold_from, start)
            if not head:
                break
        position = start
        count += 1
    return end - hold_from


def _is_group(token: str) -> bool:
    """A short piece of a number written in groups (digits, or IBAN-style capitals)."""
    return _GROUP.fullmatch(token) is not None and (
        any(c.isdigit() for c in token) or (token.isupper() and len(token) <= 4)
    )


def capped(text: str, hold: int, longest: int) -> int:
    """``hold`` cut to the trailing characters an entity of at most ``longest``
    characters could be spread over: an entity still being written ends the text and
    is matched on the folded text (zero-width and format characters and combining marks
    dropped, spaced or dotted digits joined), so the last ``longest`` folded characters
    other than white space and number separators hold all of it that has arrived."""
    tail = text[len(text) - hold :]
    folded = normalize(tail)
    counted = 0
    for position in range(len(folded.text) - 1, -1, -1):
        char = folded.text[position]
        if char in _UNCOUNTED or char.isspace():
            continue
        counted += 1
        if counted == longest:
            start = position if folded.index is None else folded.index[position]
            return hold - start
    return hold
