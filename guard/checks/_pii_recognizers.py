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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

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

DIGIT_RUN = re.compile(r"\d(?:[ \-.()/]{0,2}\d)*")
_PHONE_RUN = re.compile(r"\+?\(?\d(?:[ \-.()/]{0,3}\d){6,}")
_NOT_DIGIT = re.compile(r"\D")
_DOT_WORD = re.compile(r"[A-Za-z0-9]\.[A-Za-z]{2}|://")
_IBAN_START = re.compile(r"[A-Za-z]{2}\d{2}")
_IP_HINT = re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f:]|::")
_MAC_HINT = re.compile(r"[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-]|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}")
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
#: token and that many tokens on each side only (an IBAN in groups of four: nine).
TOKEN_ANCHORS: dict[str, tuple[re.Pattern[str], int]] = {
    "EMAIL_ADDRESS": (re.compile("@"), 0),
    "URL": (_DOT_WORD, 0),
    "IBAN_CODE": (_IBAN_START, 9),
    "IT_FISCAL_CODE": (re.compile(r"[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z]"), 0),
    "UK_NINO": (re.compile(r"[A-Za-z]{2}\s?\d{2}"), 4),
    "MAC_ADDRESS": (_MAC_HINT, 0),
}


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
    max_digits: int

    @classmethod
    def read(cls, text: str) -> Signals:
        most = 0
        for run in DIGIT_RUN.finditer(text):
            digits = run.end() - run.start() - len(_NOT_DIGIT.findall(run.group()))
            most = max(most, digits)
        return cls(text, most)

    def possible(self, entity: str) -> bool:
        """Whether ``entity`` can occur in the text at all."""
        if self.max_digits < MIN_DIGITS.get(entity, 0):
            return False
        gate = _CHAR_GATES.get(entity)
        return gate is None or gate(self.text)


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
                )
            )
    return specs


@lru_cache(maxsize=512)
def _compile(pattern: str) -> Any:
    return regex.compile(pattern, FLAGS)


def custom_spec(entity: str, pattern: str, score: float, context: Sequence[str]) -> PatternSpec:
    """A policy's custom recognizer (no Python): a regex with a score and context."""
    return PatternSpec(
        entity, _compile(pattern), score, None, False, frozenset(w.lower() for w in context)
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
