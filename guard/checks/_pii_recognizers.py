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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

from guard.checks._pii_checksums import PRESIDIO, iban_result, ipv4_invalid, luhn_valid
from guard.checks._pii_patterns import (
    RUN_CLASS,
    matches_at_run_starts,
    min_digit_run,
    starts_with_bounded_run,
)

#: The entities a spaCy NER model adds (Presidio's ``SpacyRecognizer``).
NER_ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME")
#: The entities of the offline name and place recognizer (:mod:`guard.checks._pii_names`),
#: found without a spaCy model.
NAME_ENTITIES = ("PERSON", "LOCATION")
#: The entities of the offline organization and NRP rules (:mod:`guard.checks._pii_orgs`),
#: found without a spaCy model.
RULE_ENTITIES = ("ORGANIZATION", "NRP")
#: Pattern entities that are not personal data on their own and are mostly false
#: positives in model traffic (dates in every document, ids in every log): opt-in.
OPT_IN_ENTITIES = frozenset({"DATE_TIME", "UUID"})
#: Opt-in without a spaCy model too: a firm's name is no personal data, and a
#: nationality or religion read from a list is mostly an adjective (``German law``,
#: ``Catholic school``), which redacting by default would strip from ordinary prose.
OPT_IN_RULES = frozenset(RULE_ENTITIES)
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
#: Entities read from the compact view too (separators inside digit runs tolerated).
NUMBER_ENTITIES = frozenset(
    {"CREDIT_CARD", "US_SSN", "US_BANK_NUMBER", "US_ITIN", "UK_NHS", "PHONE_NUMBER",
     "IBAN_CODE", "ES_NIF", "MEDICAL_LICENSE", "US_PASSPORT"}
)  # fmt: skip
#: Presidio's context enhancement (LemmaContextAwareEnhancer defaults), on words.
CONTEXT_BOOST, CONTEXT_FLOOR, CONTEXT_WORDS_BEFORE = 0.35, 0.4, 5
#: Presidio's default regex flags (DOTALL | MULTILINE | IGNORECASE).
FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE

_PHONE_RUN = re.compile(r"[+(\d](?:(?<=\+)\(?\d|(?<=\()\d|(?<=\d))(?:[ \-.()/]{0,3}\d){6,}")
_NOT_DIGIT = re.compile(r"\D")
_WORD = re.compile(r"[^\W\d_][\w#'-]*")


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
    #: Presidio's credit-card recognizer with its default separators: its Luhn check
    #: is done here on ASCII digits (a tenth of the time), Presidio's on anything else.
    luhn: bool = False
    #: Presidio's IBAN recognizer with its defaults: its checksum and format check is
    #: done here on ASCII letters and digits (:func:`iban_result`).
    iban: bool = False
    #: Presidio's IP recognizer: a dotted quad is checked here (:func:`ipv4_invalid`).
    ip: bool = False

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

    def best_cut(self, match: Any, scores: dict[tuple[int, str], float]) -> tuple[int, int, float]:
        """The first of a match's cuts (:meth:`candidates`) that scores above 0, with its
        score (``scores``: the call's answers so far, by pattern and value)."""
        for start, end in self.candidates(match):
            if start >= end:
                continue
            value = match.string[start:end]
            score = scores.get((id(self), value))
            if score is None:
                score = scores[id(self), value] = self.score_of(value)
            if score > 0:
                return start, end, score
        return 0, 0, 0.0

    def score_of(self, matched: str) -> float:
        """Presidio's score for a match: 1.0 validated, 0 invalidated, else the pattern's."""
        score = self.score
        if self.recognizer is not None:
            digits = matched.replace("-", "").replace(" ", "") if self.luhn else ""
            tight = iban_result(matched) if self.iban else PRESIDIO
            if digits.isdigit() and digits.isascii():
                valid: bool | None = luhn_valid(digits)
            elif tight != PRESIDIO:
                valid = bool(tight) if tight is not None else None
            else:
                valid = self.recognizer.validate_result(matched)
            if valid is not None:
                score = 1.0 if valid else 0.0
            invalid = ipv4_invalid(matched) if self.ip else PRESIDIO
            if invalid == PRESIDIO:
                invalid = self.recognizer.invalidate_result(matched)
            if invalid:
                score = 0.0
        return score


def has_context(text: str, start: int, context: frozenset[str]) -> bool:
    """Whether one of ``context`` is among the words just before ``start``."""
    words = [w.lower() for w in _WORD.findall(text, max(0, start - 80), start)]
    recent = words[-CONTEXT_WORDS_BEFORE:]
    if any(w in context for w in recent):
        return True
    joined = " ".join(recent)
    return any(" " in phrase and phrase in joined for phrase in context)


def may_have_context(text: str, start: int, end: int, pieces: frozenset[str]) -> bool:
    """Whether ``has_context`` could accept a context word before any position of
    ``text[start:end]``: each word it reads (up to 80 characters back) is a substring
    of what precedes ``end``, and each piece of a context phrase lies in one word. So
    no piece in that stretch: no context, for any match inside the span."""
    before = text[max(0, start - 80) : end].lower()
    return any(piece in before for piece in pieces)


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
        default_pairs = getattr(recognizer, "replacement_pairs", None) == [("-", ""), (" ", "")]
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
                    type(recognizer).__name__ == "CreditCardRecognizer" and default_pairs,
                    type(recognizer).__name__ == "IbanRecognizer"
                    and default_pairs
                    and getattr(recognizer, "BOSEOS", None) == (),
                    type(recognizer).__name__ == "IpRecognizer",
                )
            )
    return specs


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


def phone_matches(snippet: str, region: str, leniency: Any) -> tuple[tuple[int, int], ...]:
    """The spans of the numbers ``phonenumbers`` finds in ``snippet`` for ``region``.

    Not cached across calls, though parsing costs ~35-50 us a candidate: a cache keyed
    by the candidate would keep callers' phone numbers in memory after their calls.
    """
    import phonenumbers

    return tuple(
        (m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(snippet, region, leniency)
    )


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
