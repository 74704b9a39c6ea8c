"""How much of a streamed text the ``pii`` check holds back for a name, place or
street address still being written (:func:`name_holdback`), and how the hold-back walks
read a text (:func:`as_read`): see :mod:`guard.checks._pii_holdback`.

A stream releases a capitalised run only once nothing after it can change what the
PERSON / LOCATION recognizer makes of it (tests/streaming/test_stream_names.py): a word
that may still join the run (another capitalised word, a particle, a verb such as
``said`` that makes it a person, a street number), and the run's own token whole.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from guard.checks._pii_name_context import SAID
from guard.checks._pii_name_words import UPPER

if TYPE_CHECKING:
    from guard.checks._text_check import StreamWindow

#: The longest text a stream holds back for a pending entity (a longer URL split
#: across chunks may be released in part).
MAX_HOLD = 256
#: Characters the pii check reads as a space (its view folds them so: no-break, thin and
#: ideographic spaces, line separators, spacing accents; tests/streaming/
#: test_stream_spaces.py checks the list against guard.normalize): the walks read them
#: as spaces too, or ``4111\u00a01111`` and ``Ann\u202fLee`` would be cut apart.
AS_SPACE = (
    "\u00a0\u00a8\u00af\u00b4\u00b8\u02d8\u02d9\u02da\u02db\u02dc\u02dd\u037a"
    "\u0384\u0385\u115f\u1160\u1680\u1fbd\u1fbf\u1fc0\u1fc1\u1fcd\u1fce\u1fcf"
    "\u1fdd\u1fde\u1fdf\u1fed\u1fee\u1ffd\u1ffe\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2017\u2028\u2029\u202f\u203e\u205f"
    "\u2800\u3000\u309b\u309c\u3164\ufc5e\ufc5f\ufc60\ufc61\ufc62\ufc63\ufe49"
    "\ufe4a\ufe4b\ufe4c\ufe70\ufe72\ufe74\ufe76\ufe78\ufe7a\ufe7c\ufe7e\uffa0"
    "\uffe3"
)  # fmt: skip
_TO_SPACE = str.maketrans(dict.fromkeys(AS_SPACE, " "))
_ANY_AS_SPACE = re.compile(f"[{AS_SPACE}]")
#: The last of :data:`AS_SPACE` in a text (``.*`` backtracks from the end).
_LAST_AS_SPACE = re.compile(f"(?s:.*)[{AS_SPACE}]")


def as_read(text: str, marks: SpaceMarks | None = None) -> str:
    """The end of ``text`` that a hold-back walk reads (as long as the longest hold-back
    and one character more), with :data:`AS_SPACE` made spaces (positions unchanged).
    ``marks``: the stream's, when ``text`` is a stream window's (:class:`SpaceMarks`)."""
    if text.isascii():
        return text
    if marks is not None:
        spaces = marks.near_end(text)
    else:
        spaces = _ANY_AS_SPACE.search(text, len(text) - MAX_HOLD - 1) is not None
    if not spaces:
        return text  # nothing to translate (a translation costs ~100 instructions a character)
    return text[-MAX_HOLD - 1 :].translate(_TO_SPACE)


#: Where a stream window's ``memo`` keeps its :class:`SpaceMarks` (no check's name).
_MEMO_KEY = "(as_space)"


class SpaceMarks:
    """Where the last of :data:`AS_SPACE` is in one stream window's text, each character
    searched once: :func:`as_read` searching the last 257 characters of a non-ASCII
    text on every delta cost ~17,500 instructions (callgrind, ~68 a character in
    ``re``'s character class), the characters new since the last search a few hundred.
    Positions are the whole stream's (the window drops released text: ``dropped``)."""

    __slots__ = ("_end", "_last", "_window")

    def __init__(self, window: StreamWindow) -> None:
        self._window = window
        #: How much of the stream was searched, and the last one found (-1: none).
        self._end = 0
        self._last = -1

    @classmethod
    def of_stream(cls, window: StreamWindow) -> SpaceMarks:
        """The marks of one stream window (kept in its ``memo``: they depend on its text
        only, so every check reading it shares them)."""
        marks = window.memo.get(_MEMO_KEY)
        if not isinstance(marks, cls):
            marks = window.memo[_MEMO_KEY] = cls(window)
        return marks

    def near_end(self, text: str) -> bool:
        """Whether the last ``MAX_HOLD + 1`` characters of ``text``, the window's text,
        (what :func:`as_read` reads) hold one of :data:`AS_SPACE`."""
        dropped = self._window.dropped
        end = dropped + len(text)
        reach = max(dropped, end - MAX_HOLD - 1)
        start = max(self._end, reach) - dropped
        self._end = end
        if not text[start:].isascii():
            last = _LAST_AS_SPACE.match(text, start)
            if last is not None:
                self._last = dropped + last.end() - 1
        return self._last >= reach


#: How far back :func:`name_holdback` looks (four words, particles, a title, a number).
_NAME_REACH = 96
#: Punctuation after which a capitalised run is over (a dot may end ``Dr.`` or ``J.``).
_RUN_ENDS = frozenset(',;:!?)]}"”’')
PARTICLES = frozenset("de da do dos das di del della la le van von der den du bin al y".split())
#: What a particle still being written may be so far (``d`` of ``de``, ``va`` of ``van``).
PARTICLE_STARTS = frozenset(word[:end] for word in PARTICLES for end in range(1, len(word) + 1))
#: What a last word still being written may be so far and still join the run before it:
#: a particle, or a verb that makes the run a person (``Will`` + `` sa`` of ``said``: the
#: recognizer reads the words after a run, :data:`SAID`).
STILL_JOINING = PARTICLE_STARTS | frozenset(
    verb[:end] for verb in (said.strip() for said in SAID) for end in range(1, len(verb) + 1)
)
#: The endings of a German street name (the recognizer's ``GERMAN_ADDRESS``).
_GERMAN_ENDINGS = "(?:straße|strasse|weg|gasse|platz|allee)"
#: The number of a street address at the end of a token (the recognizer's ``ADDRESS``:
#: ``12``, ``12B,``; glued to punctuation but not inside a word or a number).
_STREET_NUMBER = re.compile(r"(?<![\w.-])\d{1,5}[A-Za-z]?,?\Z")
#: A street address that may still be being written at the end of a text (the
#: recognizer's ``ADDRESS`` and ``GERMAN_ADDRESS`` so far: a number and up to four
#: capitalised words, ``Hauptstraße`` and a number), with any spaces and tabs between
#: its words, which a name's run does not allow (``42B Elm Rd  Dr``).
_ADDRESS_SO_FAR = re.compile(
    rf"(?<![\w.-])\d{{1,5}}[A-Za-z]?,?[ \t]+(?:[{UPPER}][a-z'’]*\.?(?:[ \t]+|\Z)){{0,4}}\Z"
    rf"|[{UPPER}](?<![\w-].)[a-zäöüß]+{_GERMAN_ENDINGS}"
    rf"[ \t]+(?:\d{{1,4}}[a-z]?)?\Z"
)
#: A street address followed by what may still join it at the end of a text: a
#: separator (``,``, ``.``, a line break) and up to five tokens so far that begin with a
#: capital, a digit or ``#`` (``12 Oak Street, Suite 5``, ``221 Baker Street, London NW1
#: 6XE``, ``Hauptstraße 5, 4111 Berlin``, ``12 Oak Street,\nApt 5``): the recognizer reads
#: a unit, postcode, city and region after the street as one LOCATION with it, so the
#: separator is not released until a word that cannot join it comes. The number may be
#: glued to what is before it (``_12 Oak Street``, ``and12``): the token is held whole.
_ADDRESS_WITH_TAIL = re.compile(
    rf"(?:\d{{1,5}}[A-Za-z]?[ \t]+(?:[{UPPER}][\w'’]*\.?[ \t]+){{0,3}}"
    rf"[{UPPER}][\w'’]*\.?"
    rf"|[{UPPER}][a-zäöüß]+{_GERMAN_ENDINGS}[ \t]+\d{{1,4}}[a-z]?)"
    rf"(?:[,.]|[ \t]*\n)(?:[ \t\n]+[{UPPER}\d#][\w#'’.-]*,?){{0,5}}[ \t\n]*\Z"
)
_DIGIT = re.compile(r"\d")
#: Punctuation glued before a capital (``(Ann``, ``"Priya``, ``x(Ann``, ``**Hauptstraße``,
#: markdown's ``_Ann``):
#: a name, place or German street may begin inside such a token (a superset of where
#: the recognizer's words begin; a hyphen joins a word to the one before).
_GLUED_CAPITAL = re.compile(rf"(?:[^\w\s-]|_)[{UPPER}]")


def name_holdback(text: str, *, read: bool = False, marks: SpaceMarks | None = None) -> int:
    """The trailing capitalised words a name or place still being written could extend
    (``Dear John`` + `` Smith``, ``Rio de`` + `` Janeiro``, ``12 Oak`` + `` Street``):
    up to six words back, joined by single spaces; none once the run has ended (a
    lower-case word, punctuation, a line break or a wider gap after it). A last word
    still being written that may become a particle or a verb the recognizer reads as
    context (``Will sa`` of ``said``) keeps the run held; a capital glued after opening
    punctuation (``(Ann``) begins one; a token is held whole, never cut. ``read``: the
    text is :func:`as_read`'s already; ``marks``: :func:`as_read`'s."""
    end = len(text)
    # The common case first, in C (a stream asks on every delta): the last word (after
    # one space) is lower-case ASCII letters and no particle: the walk would stop there.
    word = text[text.rfind(" ", 0, end - 1) + 1 :]
    # A last word still being written (no space after it) may become a particle (or a
    # verb that makes the run before it a person).
    particles = PARTICLES if word.endswith(" ") else STILL_JOINING
    word = word.removesuffix(" ")
    if word.islower() and word.isascii() and word.isalpha():
        if word not in particles:
            return 0
        if word not in PARTICLE_STARTS and _after_lower_case(text, end - len(word)):
            return 0  # a verb being written (``sa``) after a lower-case word: no run
    if not read:
        text = as_read(text, marks)
        end = len(text)
    limit = max(0, end - _NAME_REACH)
    position = end
    if position > limit and text[position - 1] == " ":
        position -= 1  # a word done: the next may still continue the name
    hold_from = end
    words = 0
    capitalised = False
    while position > limit and words < 6 and not text[position - 1].isspace():
        # The token ending at ``position`` (C ``rsplit``: the same white space as
        # ``isspace``; a walk character by character cost ~300 bytecodes a call).
        token = text[limit:position].rsplit(None, 1)[-1]
        start = position - len(token)
        if start == limit and limit > 0 and not text[limit - 1].isspace():
            # A token longer than the reach is held whole if at all: a cut inside it
            # could split an e-mail or URL that the pii check's rescan would not see
            # end in the text it releases (up to the pattern walk's reach).
            before = text[max(0, end - MAX_HOLD) : start].rsplit(None, 1)
            start -= len(before[-1]) if before else 0
        if capitalised and _STREET_NUMBER.search(token) is not None:
            hold_from = start  # the number of a street address (``(12 Oak``, ``**12, Oak``)
            break
        if token[-1] in _RUN_ENDS:
            break
        if token[0].isupper():
            hold_from, capitalised = start, True
        elif _GLUED_CAPITAL.search(token) is not None:
            hold_from = start  # a run begins inside this token (``(Ann``)
            break
        elif token not in (STILL_JOINING if position == end else PARTICLES):
            break  # particles (``Rio de``) count only with a capitalised word before them
        words += 1
        position = start
        if position - 1 <= limit or text[position - 1] != " " or text[position - 2].isspace():
            break
        position -= 1
    # Only a wide gap (``Rd  Dr``, a tab) needs the address rule: the walk joins
    # words one space apart (asked of the reach's text in C first: most have none).
    tail = text[limit:]
    wide = "  " in tail or "\t" in tail
    address = _ADDRESS_SO_FAR.search(text, limit) if wide else None
    if address is None and _DIGIT.search(tail) is not None:
        # An address with a separator after it: asked only of texts with a digit near
        # the end (a street number), in C (most prose has none).
        address = _ADDRESS_WITH_TAIL.search(text, limit)
    if address is not None and address.start() < hold_from:
        # From the start of the number's token (``+1 415``: never inside a token).
        before = text[limit : address.start()].rsplit(None, 1)
        glued = before[-1] if before and not text[address.start() - 1].isspace() else ""
        hold_from = address.start() - len(glued)
    if hold_from < end and text[hold_from].isdigit():
        # A number held may end a German street address before it (``Hauptstraße 5``).
        hold_from = _german_street_before(text, hold_from, limit)
    return end - hold_from


#: The end of a German street name (the recognizer's ``GERMAN_ADDRESS``).
_GERMAN_STREET = re.compile(rf"[a-zäöüß]{_GERMAN_ENDINGS}\Z")


def _after_lower_case(text: str, start: int) -> bool:
    """Whether the word before ``text[start:]`` (one space before it) is lower-case
    ASCII letters and no particle: no run ends there for a verb after it to make a
    person."""
    if start < 2 or text[start - 1] != " ":
        return False
    before = text[text.rfind(" ", 0, start - 1) + 1 : start - 1]
    return before.islower() and before.isascii() and before.isalpha() and before not in PARTICLES


def _german_street_before(text: str, number: int, limit: int) -> int:
    """Where the German street name before the street number at ``number`` starts
    (``Hauptstraße`` of ``Hauptstraße 5``); ``number`` when there is none."""
    gap = number
    while gap > limit and text[gap - 1] in " \t":
        gap -= 1
    if gap in (number, limit):
        return number
    token = text[limit:gap].rsplit(None, 1)[-1]
    return gap - len(token) if _GERMAN_STREET.search(token) is not None else number
