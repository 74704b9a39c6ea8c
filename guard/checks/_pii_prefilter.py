"""The prefilter: what one cheap reading of a text says each entity needs.

Each entity has necessary conditions (no ``@``: no e-mail; no run of twelve digits: no
card; ...) read once per text into :class:`Signals`; patterns of an entity that
cannot occur are not run. The rest run on *windows* (:mod:`guard.checks._pii_windows`):
the text around an anchor (``@``, a ``word.tld``, a run of digits, ...), found here.

A short prompt without digits, ``@``, ``://`` or dots inside words is the common case:
:meth:`Signals.read` settles it with substring searches in C (``str.__contains__``,
``str.count``), without a regex pass over the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from guard.checks._pii_recognizers import PatternSpec

#: The fewest digits a match of each entity has: the prefilter's necessary condition.
MIN_DIGITS = {
    "CREDIT_CARD": 12, "US_SSN": 9, "US_BANK_NUMBER": 8, "US_ITIN": 9, "US_PASSPORT": 8,
    "UK_NHS": 10, "MEDICAL_LICENSE": 7, "PHONE_NUMBER": 7, "IBAN_CODE": 4, "IP_ADDRESS": 1,
    "UK_NINO": 6, "ES_NIF": 7, "ES_NIE": 7, "FI_PERSONAL_IDENTITY_CODE": 6, "SG_NRIC_FIN": 7,
    "IN_PAN": 4, "US_DRIVER_LICENSE": 1, "IT_FISCAL_CODE": 2,
}  # fmt: skip
#: Entities whose every match holds a digit: their patterns run only on the windows
#: around digit runs (:func:`windows`), not on the whole text.
IN_DIGIT_WINDOWS = frozenset(MIN_DIGITS)
# Every prefilter pattern starts with one character class, the rest checked by
# look-behinds: ``re`` then skips to candidate characters in C instead of trying the
# whole pattern at every position (3-5x faster on 20 KB of prose). A match may start a
# few characters later than the plain pattern's would, inside the same token, which is
# all a window needs.
DIGIT_RUN = re.compile(r"\d(?:[ \-.()/]{0,2}\d)*")
_NOT_DIGIT = re.compile(r"\D")
#: The digits a view holds (:mod:`guard.checks._pii_text` reads every decimal digit
#: of any script as its ASCII digit).
_DIGITS = "0123456789"
_DOT_WORD = re.compile(r"[.:](?:(?<=[A-Za-z0-9]\.)[A-Za-z]{2}|(?<=:)//)")
_IBAN_START = re.compile(r"\d\d(?<=[A-Za-z]{2}\d\d)")
_IP_HINT = re.compile(r"[.:](?:(?<=\d\.)\d|(?<=[0-9A-Fa-f]:)[0-9A-Fa-f:]|(?<=:):)")
_MAC_HINT = re.compile(
    r"[:.\-](?:(?<=[0-9A-Fa-f]{2}[:-])[0-9A-Fa-f]{2}[:-]|(?<=[0-9A-Fa-f]{4}\.)[0-9A-Fa-f]{4})"
)

#: Gates on characters, for entities that need more than digits.
_CHAR_GATES: dict[str, Callable[[Signals], bool]] = {
    "EMAIL_ADDRESS": lambda signals: "@" in signals.text,
    "URL": lambda signals: (
        (signals.inner_dots and _DOT_WORD.search(signals.text) is not None) or "://" in signals.text
    ),
    "IBAN_CODE": lambda signals: _IBAN_START.search(signals.text) is not None,
    "IP_ADDRESS": lambda signals: (
        (signals.max_digits > 0 or ":" in signals.text)
        and _IP_HINT.search(signals.text) is not None
    ),
    "MAC_ADDRESS": lambda signals: (
        (signals.inner_dots or ":" in signals.text or "-" in signals.text)
        and _MAC_HINT.search(signals.text) is not None
    ),
}
#: Entities whose matches sit around an anchor: their patterns run on the anchor's
#: token and that many tokens before and after it (an IBAN in groups of four: nine
#: after the one with the country code; a NINO starts one token before its digits at
#: most, ``AB 12 34 56 C``).
TOKEN_ANCHORS: dict[str, tuple[re.Pattern[str], int, int]] = {
    "EMAIL_ADDRESS": (re.compile("@"), 0, 0),
    "URL": (_DOT_WORD, 0, 0),
    "IBAN_CODE": (_IBAN_START, 0, 9),
    # The first digit pair of ``AB 12 34 56 C``, followed by the other two and a letter
    # (the rest of Presidio's pattern): most digit pairs after a word are no NINO.
    "UK_NINO": (
        re.compile(
            r"\d\d(?:(?<=[A-Za-z]{2}\d\d)|(?<=[A-Za-z]{2}\s\d\d))(?= ?\d\d ?\d\d ?[^\W\d_])"
        ),
        1,
        3,
    ),
    "MAC_ADDRESS": (_MAC_HINT, 0, 0),
    # ``(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,59}`` without case: a 1, 3 or b and 25 more.
    "CRYPTO": (re.compile(r"[13bB][0-9A-Za-z]{25}"), 0, 0),
    # The IPv6 patterns of IP_ADDRESS (see :func:`window_key`): a colon next to a hex
    # digit or another colon.
    "IPV6": (re.compile(r":(?:(?<=[0-9A-Fa-f]:)[0-9A-Fa-f:]|:)"), 0, 0),
}
#: Entities whose patterns run on the tokens holding this many letters or digits in a
#: row (an Italian fiscal code is 16 of them, with omocodia perhaps no digit at all; an
#: e-mail or URL of 16 characters or more rarely has such a run).
LONG_TOKENS = {"IT_FISCAL_CODE": 16}
#: A run of :data:`LONG_TOKENS` letters or digits (any script: what a pattern's
#: ``[A-Z]`` matches without case is among them).
LONG_RUNS = {key: re.compile(rf"[^\W_]{{{length}}}") for key, length in LONG_TOKENS.items()}
#: Anchors as long as this, found in the tokens at least that long only (a wallet
#: address is 26 letters and digits or more; the tokens of prose are short).
LONG_ANCHORS = {"CRYPTO": 26}
#: Anchors that contain two digits in a row: they are looked for in the digit windows
#: (a fifth of a dense text), not in the whole text.
DIGIT_ANCHORED = frozenset({"IBAN_CODE", "UK_NINO"})
#: Presidio's look-arounds that mention a colon without matching one (``(?<![\w:])``).
_COLON_LOOKAROUNDS = re.compile(r"\(\?<?[!=]\[\\w:\]\)")


@dataclass(slots=True)
class Signals:
    """What the prefilter read from one text: the necessary conditions of entities."""

    text: str
    #: The most digits in one run of digits and separators (:data:`DIGIT_RUN`).
    max_digits: int
    #: The most digits in a row, without separators.
    longest_digits: int
    #: Spans of the runs of digits (:data:`DIGIT_RUN`) of at least two characters.
    digit_runs: list[tuple[int, int]]
    #: Whether a dot is followed by something other than whitespace (a ``word.tld``
    #: may be there); ``False`` for prose whose dots end sentences.
    inner_dots: bool = True
    _lowered: str | None = None
    _mentioned: dict[frozenset[str], bool] = field(default_factory=dict)

    @classmethod
    def read(cls, text: str) -> Signals:
        """Read the signals of ``text`` (a view's text: its digits are ASCII)."""
        dots = text.count(".")
        inner_dots = dots > text.count(". ") + text.count(".\n") + text.endswith(".")
        if not any(digit in text for digit in _DIGITS):
            return cls(text, 0, 0, [], inner_dots)  # no regex pass for prose
        spans = [run.span() for run in DIGIT_RUN.finditer(text)]
        runs = [(start, end) for start, end in spans if end - start > 1]
        most = longest = 1 if spans else 0
        for start, end in runs:
            if end - start <= longest:
                continue  # too short to beat either figure (``most >= longest``)
            piece = text[start:end]
            if piece.isdigit():
                most, longest = max(most, len(piece)), len(piece)
                continue
            groups = _NOT_DIGIT.split(piece)
            most = max(most, sum(map(len, groups)))
            longest = max(longest, max(map(len, groups)))
        return cls(text, most, longest, runs, inner_dots)

    def possible(self, entity: str) -> bool:
        """Whether ``entity`` can occur in the text at all."""
        if self.max_digits < MIN_DIGITS.get(entity, 0):
            return False
        gate = _CHAR_GATES.get(entity)
        return gate is None or gate(self)

    def mentions(self, context: frozenset[str]) -> bool:
        """Whether any of ``context`` (each word of a phrase) occurs in the text: the
        necessary condition of :func:`has_context` for every position, read with
        substring searches in C instead of a word scan per match."""
        found = self._mentioned.get(context)
        if found is None:
            if self._lowered is None:
                self._lowered = self.text.lower()
            lowered = self._lowered
            found = any(all(w in lowered for w in phrase.split()) for phrase in context)
            self._mentioned[context] = found
        return found


def window_key(spec: PatternSpec) -> str | None:
    """Which windows of a text ``spec`` runs on: an anchor of :data:`TOKEN_ANCHORS`,
    ``"digits"`` (the digit runs), or ``None`` (the whole text)."""
    entity = spec.entity
    literal = _COLON_LOOKAROUNDS.sub("", spec.pattern.pattern).replace("(?:", "(")
    if entity == "IP_ADDRESS" and ":" in literal:
        return "IPV6"  # every match holds a colon (an IPv4 pattern has none)
    if entity in TOKEN_ANCHORS or entity in LONG_TOKENS:
        return entity
    return "digits" if entity in IN_DIGIT_WINDOWS else None
