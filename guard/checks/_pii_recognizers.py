"""Presidio's recognizers, taken apart once so that a call only runs what can match.

Presidio's ``AnalyzerEngine`` runs every recognizer's regexes over the whole text and
``phonenumbers`` over it for eight regions — ~2 ms for 2 KB of clean text and ~9 ms
with ten entities (bench/pii.py). The ``pii`` check builds the engine once per
(language, spaCy pipeline) and keeps its recognizers, but drives them itself:

* each pattern is compiled once (Presidio's ``regex`` module, Presidio's flags) and
  knows its recognizer's ``validate_result`` / ``invalidate_result`` (Luhn, IBAN and
  Base58 checksums...), so scores are Presidio's;
* each entity has a cheap necessary condition (no ``@``: no e-mail; no run of at least
  12 digits: no card; ...) read from one prefilter pass over the text;
* a pattern that cannot reach the threshold (a weak score, no checksum to raise it and
  none of its context words in the text) is not run at all;
* phone numbers: ``phonenumbers`` runs only on the digit runs that could be one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import regex

from guard.checks._pii_patterns import (
    RUN_CLASS,
    matches_at_run_starts,
    min_digit_run,
    starts_with_bounded_run,
)

#: The entities a spaCy NER model adds (Presidio's ``SpacyRecognizer``).
NER_ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME")
#: Pattern entities that are not personal data on their own and are mostly false
#: positives in model traffic (dates in every document, ids in every log): opt-in.
OPT_IN_ENTITIES = frozenset({"DATE_TIME", "UUID"})
#: National ids beyond Presidio's English defaults (whose patterns carry letters, so
#: that order numbers do not pass for them by checksum luck).
EXTRA_RECOGNIZERS = (
    "UkNinoRecognizer",
    "EsNifRecognizer",
    "EsNieRecognizer",
    "ItFiscalCodeRecognizer",
    "FiPersonalIdentityCodeRecognizer",
    "SgFinRecognizer",
    "InPanRecognizer",
)
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
#: Entities read from the compact view too (separators inside digit runs tolerated).
NUMBER_ENTITIES = frozenset(
    {"CREDIT_CARD", "US_SSN", "US_BANK_NUMBER", "US_ITIN", "UK_NHS", "PHONE_NUMBER",
     "IBAN_CODE", "ES_NIF", "MEDICAL_LICENSE", "US_PASSPORT"}
)  # fmt: skip
#: Presidio's context enhancement (LemmaContextAwareEnhancer defaults), on words.
CONTEXT_BOOST, CONTEXT_FLOOR, CONTEXT_WORDS_BEFORE = 0.35, 0.4, 5
#: Presidio's default regex flags (DOTALL | MULTILINE | IGNORECASE).
FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE

# Every prefilter pattern starts with one character class, the rest checked by
# look-behinds: ``re`` then skips to candidate characters in C instead of trying the
# whole pattern at every position (3-5x faster on 20 KB of prose). A match may start a
# few characters later than the plain pattern's would, inside the same token, which is
# all a window needs.
DIGIT_RUN = re.compile(r"\d(?:[ \-.()/]{0,2}\d)*")
_PHONE_RUN = re.compile(r"[+(\d](?:(?<=\+)\(?\d|(?<=\()\d|(?<=\d))(?:[ \-.()/]{0,3}\d){6,}")
_NOT_DIGIT = re.compile(r"\D")
_DOT_WORD = re.compile(r"[.:](?:(?<=[A-Za-z0-9]\.)[A-Za-z]{2}|(?<=:)//)")
_IBAN_START = re.compile(r"\d\d(?<=[A-Za-z]{2}\d\d)")
_IP_HINT = re.compile(r"[.:](?:(?<=\d\.)\d|(?<=[0-9A-Fa-f]:)[0-9A-Fa-f:]|(?<=:):)")
_MAC_HINT = re.compile(
    r"[:.\-](?:(?<=[0-9A-Fa-f]{2}[:-])[0-9A-Fa-f]{2}[:-]|(?<=[0-9A-Fa-f]{4}\.)[0-9A-Fa-f]{4})"
)
_WORD = re.compile(r"[^\W\d_][\w#'-]*")

#: Gates on characters, for entities that need more than digits.
_CHAR_GATES: dict[str, Callable[[str], bool]] = {
    "EMAIL_ADDRESS": lambda text: "@" in text,
    "URL": lambda text: _DOT_WORD.search(text) is not None,
    "IBAN_CODE": lambda text: _IBAN_START.search(text) is not None,
    "IP_ADDRESS": lambda text: _IP_HINT.search(text) is not None,
    "MAC_ADDRESS": lambda text: _MAC_HINT.search(text) is not None,
}
#: Entities whose matches sit around an anchor: their patterns run on the anchor's
#: token and that many tokens before and after it (an IBAN in groups of four: nine
#: after the one with the country code; a NINO starts one token before its digits at
#: most, ``AB 12 34 56 C``).
TOKEN_ANCHORS: dict[str, tuple[re.Pattern[str], int, int]] = {
    "EMAIL_ADDRESS": (re.compile("@"), 0, 0),
    "URL": (_DOT_WORD, 0, 0),
    "IBAN_CODE": (_IBAN_START, 0, 9),
    "UK_NINO": (re.compile(r"\d\d(?:(?<=[A-Za-z]{2}\d\d)|(?<=[A-Za-z]{2}\s\d\d))"), 1, 3),
    "MAC_ADDRESS": (_MAC_HINT, 0, 0),
    # ``(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,59}`` without case: a 1, 3 or b and 25 more.
    "CRYPTO": (re.compile(r"[13bB][0-9A-Za-z]{25}"), 0, 0),
    # The IPv6 patterns of IP_ADDRESS (see :func:`window_key`): a colon next to a hex
    # digit or another colon.
    "IPV6": (re.compile(r":(?:(?<=[0-9A-Fa-f]:)[0-9A-Fa-f:]|:)"), 0, 0),
}
#: Entities whose patterns run on the tokens at least this long (an Italian fiscal
#: code is 16 characters; with omocodia it may have no digit at all).
LONG_TOKENS = {"IT_FISCAL_CODE": 16}
#: Anchors that contain two digits in a row: they are looked for in the digit windows
#: (a fifth of a dense text), not in the whole text.
DIGIT_ANCHORED = frozenset({"IBAN_CODE", "UK_NINO"})
#: Presidio's look-arounds that mention a colon without matching one (``(?<![\w:])``).
_COLON_LOOKAROUNDS = re.compile(r"\(\?<?[!=]\[\\w:\]\)")


@dataclass(frozen=True, slots=True)
class PatternSpec:
    """One compiled pattern of one recognizer."""

    entity: str
    pattern: Any
    score: float
    #: Presidio's recognizer (for its checksum validation), ``None`` for custom ones.
    recognizer: Any
    #: A checksum can raise the score to 1.0.
    validated: bool
    context: frozenset[str]
    #: Presidio's IBAN recognizer tries the match cut at each group's end, last first
    #: (a word after an IBAN is no part of it): so does this spec.
    group_ends: bool = False
    #: Digits in a row that every match holds (:func:`min_digit_run`).
    digit_run: int = 0
    #: The run class of a pattern tried at run starts only (:func:`matches_at_run_starts`).
    runs: Any = None

    def matches(self, text: str) -> Iterable[Any]:
        """The pattern's matches in ``text`` (``finditer``'s)."""
        if self.runs is None:
            return self.pattern.finditer(text)  # type: ignore[no-any-return]
        return matches_at_run_starts(self.pattern, self.runs, text)

    def candidates(self, match: Any) -> list[tuple[int, int]]:
        """The spans of a match to score, best first."""
        start, end = match.span()
        if not self.group_ends:
            return [(start, end)]
        ends = [match.span(g)[1] for g in range(len(match.groups()), 0, -1)]
        return [(start, e if e > 0 else end) for e in ends] or [(start, end)]

    def score_of(self, matched: str) -> float:
        """Presidio's score for a match: 1.0 validated, 0 invalidated, else the pattern's."""
        score = self.score
        if self.recognizer is not None:
            valid = self.recognizer.validate_result(matched)
            if valid is not None:
                score = 1.0 if valid else 0.0
            if self.recognizer.invalidate_result(matched):
                score = 0.0
        return score


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
    _lowered: str | None = None
    _mentioned: dict[frozenset[str], bool] = field(default_factory=dict)

    @classmethod
    def read(cls, text: str) -> Signals:
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
        return cls(text, most, longest, runs)

    def possible(self, entity: str) -> bool:
        """Whether ``entity`` can occur in the text at all."""
        if self.max_digits < MIN_DIGITS.get(entity, 0):
            return False
        gate = _CHAR_GATES.get(entity)
        return gate is None or gate(self.text)

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


def has_context(text: str, start: int, context: frozenset[str]) -> bool:
    """Whether one of ``context`` is among the words just before ``start``."""
    words = [w.lower() for w in _WORD.findall(text, max(0, start - 80), start)]
    recent = words[-CONTEXT_WORDS_BEFORE:]
    if any(w in context for w in recent):
        return True
    joined = " ".join(recent)
    return any(" " in phrase and phrase in joined for phrase in context)


def boosted(score: float) -> float:
    """A score raised by context (Presidio: +0.35, at least 0.4, at most 1)."""
    return min(1.0, max(score + CONTEXT_BOOST, CONTEXT_FLOOR))


def pattern_specs(recognizers: Sequence[Any]) -> list[PatternSpec]:
    """Compile every pattern of Presidio's pattern recognizers once."""
    from presidio_analyzer import PatternRecognizer

    specs: list[PatternSpec] = []
    for recognizer in recognizers:
        if not isinstance(recognizer, PatternRecognizer):
            continue
        validated = type(recognizer).validate_result is not PatternRecognizer.validate_result
        context = frozenset(w.lower() for w in recognizer.context or ())
        patterns: list[Any] = getattr(recognizer, "patterns", [])
        for pattern in patterns:
            specs.append(
                PatternSpec(
                    recognizer.supported_entities[0],
                    _compile(pattern.regex),
                    pattern.score,
                    recognizer,
                    validated,
                    context,
                    type(recognizer).__name__ == "IbanRecognizer",
                    min_digit_run(pattern.regex),
                    _compile(RUN_CLASS) if starts_with_bounded_run(pattern.regex) else None,
                )
            )
    return specs


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


@lru_cache(maxsize=512)
def _compile(pattern: str) -> Any:
    return regex.compile(pattern, FLAGS)


def custom_spec(entity: str, pattern: str, score: float, context: Sequence[str]) -> PatternSpec:
    """A policy's custom recognizer (no Python): a regex with a score and context."""
    words = frozenset(w.lower() for w in context)
    return PatternSpec(
        entity, _compile(pattern), score, None, False, words, digit_run=min_digit_run(pattern)
    )


def phone_regions(snippet: str, regions: Sequence[str]) -> Sequence[str]:
    """The regions whose numbering plan ``snippet`` could be a number of.

    An international number (``+``/``00``) parses the same from any region: one is
    enough. A national number needs its trunk prefix ``0`` in GB, DE, FR and IL, ten
    digits (eleven with a leading 1) in the US and Canada, ten in India (or a leading
    0), ten or eleven in Brazil. Skipping the regions a digit string cannot belong to
    is what makes a text full of order numbers cheap; phonenumbers decides the rest.
    """
    digits = _NOT_DIGIT.sub("", snippet)
    stripped = snippet.lstrip("([ ")
    if stripped.startswith("+") or digits.startswith("00"):
        return regions[:1]
    count, trunk = len(digits), digits.startswith("0")
    fits = {
        "US": count == 10 or (count == 11 and digits[0] == "1"),
        "CA": count == 10 or (count == 11 and digits[0] == "1"),
        "GB": trunk, "DE": trunk, "FR": trunk, "IL": trunk,
        "IN": trunk or (count == 10 and digits[0] in "6789"),
        "BR": count in (10, 11) or trunk,
    }  # fmt: skip
    return [r for r in regions if fits.get(r, True)]


def phone_candidates(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that could hold a phone number, widened to whole tokens."""
    spans: list[tuple[int, int]] = []
    for match in _PHONE_RUN.finditer(text):
        start, end = match.span()
        while start > 0 and not text[start - 1].isspace() and match.start() - start < 8:
            start -= 1
        while end < len(text) and not text[end].isspace() and end - match.end() < 8:
            end += 1
        spans.append((start, end))
    return spans
