"""Finding PII in one text: Presidio's recognizers on the evasion-proof views.

:class:`Detector` is built once per check (its Presidio engine once per language and
spaCy pipeline per process) and is safe to share between calls and threads: a call
only reads it. See :mod:`guard.checks._pii_prefilter` for what makes it fast,
:mod:`guard.checks._pii_hits` for how overlapping hits resolve and
:mod:`guard.checks._pii_text` for the views.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Mapping, Sequence
from itertools import accumulate
from typing import Any

from guard.checks._pii_engine import analyzer_engine
from guard.checks._pii_hits import Hit, canonical, resolve
from guard.checks._pii_prefilter import (
    DIGIT_ANCHORED,
    LONG_RUNS,
    LONG_TOKENS,
    TOKEN_ANCHORS,
    Signals,
    window_key,
)
from guard.checks._pii_recognizers import (
    NER_ENTITIES,
    NUMBER_ENTITIES,
    PatternSpec,
    boosted,
    has_context,
    may_have_context,
    pattern_specs,
    phone_candidates,
    phone_matches,
    phone_regions,
)
from guard.checks._pii_text import View, compact_view, plain_view
from guard.checks._pii_windows import Edges, Windows, windows, windows_around

_URL_TRAILING = frozenset(".,;:!?'\"")
_BARE_DIGITS = re.compile(r"\d+")
_SPACED = re.compile(r"\d\s\d\s\d\s\d")
#: Entities that a run of bare digits is reported as only with a context word.
BARE_NEEDS_CONTEXT = frozenset({"PHONE_NUMBER", "UK_NHS"})
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
#: The pseudo-entity of an allow-listed value.
_ALLOWED = "allowed"


class Detector:
    """Finds the configured entities above their thresholds in a text."""

    def __init__(
        self,
        *,
        language: str,
        nlp: str,
        entities: Collection[str],
        thresholds: Mapping[str, float],
        allow: Collection[str],
        custom: Sequence[PatternSpec] = (),
    ) -> None:
        engine = analyzer_engine(language, nlp)
        recognizers = engine.registry.get_recognizers(language, all_fields=True)
        self._thresholds = dict(thresholds)
        wanted = set(entities)
        specs = [s for s in pattern_specs(recognizers) if s.entity in wanted]
        specs.extend(s for s in custom if s.entity in wanted)
        #: Per entity: the fewest digits in a row any of its patterns needs, and each
        #: pattern with the windows it runs on (see :func:`window_key`).
        by_entity: dict[str, list[tuple[PatternSpec, str | None]]] = {}
        for spec in specs:
            by_entity.setdefault(spec.entity, []).append((spec, window_key(spec)))
        self._entities = [
            (entity, min(spec.digit_run for spec, _ in keyed), keyed)
            for entity, keyed in by_entity.items()
        ]
        self._phone = next((r for r in recognizers if type(r).__name__ == "PhoneRecognizer"), None)
        if "PHONE_NUMBER" not in wanted:
            self._phone = None
        self._phone_context = frozenset(
            w.lower() for w in getattr(self._phone, "context", ()) or ()
        )
        #: The pieces of the context words and phrases: one of them is in the text
        #: before any phone number that ``has_context`` accepts.
        self._phone_context_pieces = frozenset(
            piece for phrase in self._phone_context for piece in phrase.split()
        )
        self._ner_entities = [e for e in NER_ENTITIES if e in wanted] if nlp != "blank" else []
        self._engine, self._language = engine, language
        self._allow = frozenset(a.strip().lower() for a in allow)

    def find(self, text: str) -> list[Hit]:
        """The entities in ``text``, non-overlapping, spans in ``text``."""
        plain = plain_view(text)
        signals = Signals.read(plain.text)
        hits = self._scan(plain, signals, numbers_only=False)
        if signals.max_digits:
            compact = compact_view(plain)
            if compact is not None:
                hits.extend(self._scan(compact, Signals.read(compact.text), numbers_only=True))
        if self._ner_entities:
            hits.extend(self._ner(plain))
        return [hit for hit in resolve(hits) if hit.entity != _ALLOWED]

    def _scan(self, view: View, signals: Signals, *, numbers_only: bool) -> list[Hit]:
        hits: list[Hit] = []
        #: View spans of what was found, so phone candidates inside them are skipped.
        spans: list[tuple[int, int, float]] = []
        parts: dict[str, Any] = {}
        longest = signals.longest_digits
        for entity, digit_run, keyed in self._entities:
            if (
                digit_run > longest
                or (numbers_only and entity not in NUMBER_ENTITIES)
                or not signals.possible(entity)
            ):
                continue
            for spec, key in keyed:
                if spec.digit_run > longest or not self._reachable(spec, signals):
                    continue
                self._run(spec, key, view, signals, parts, hits, spans)
        if self._phone is not None and signals.possible("PHONE_NUMBER"):
            self._phones(view, hits, spans)
        return hits

    def _run(
        self,
        spec: PatternSpec,
        key: str | None,
        view: View,
        signals: Signals,
        parts: dict[str, Any],
        hits: list[Hit],
        spans: list[tuple[int, int, float]],
    ) -> None:
        """Run one pattern on its windows; add what reaches the threshold."""
        text, entity = view.text, spec.entity
        part = self._windows(key, signals, parts)
        scanned = text if part is None else part.text
        for match in spec.matches(scanned):
            for start, end in spec.candidates(match):
                score = spec.score_of(scanned[start:end]) if start < end else 0.0
                if score > 0:
                    break
            if score <= 0:
                continue
            if part is not None:
                start, end = part.position(start), part.position(start) + end - start
            if not _whole_token(text, start, end):
                continue
            if self._add(hits, view, entity, start, end, score, spec.context):
                spans.append((start, end, hits[-1].score))

    @classmethod
    def _windows(cls, key: str | None, signals: Signals, parts: dict[str, Any]) -> Windows | None:
        """The parts of the text that patterns of window ``key`` need to see (``None``:
        all of it), built once per text."""
        if key is None:
            return None
        part: Windows | None = parts.get(key)
        if part is not None:
            return part
        text = signals.text
        edges = parts.get("edges")
        if edges is None:
            edges = parts["edges"] = Edges(text)
        if key == "digits":
            part = windows_around(text, signals.digit_runs, tokens=2, edges=edges)
        elif key in LONG_TOKENS:
            run, length = LONG_RUNS[key], LONG_TOKENS[key]
            spans = [span for span in edges.long_tokens(length) if run.search(text, *span)]
            part = windows_around(text, spans, tokens=0, edges=edges)
        else:
            anchor, before, after = TOKEN_ANCHORS[key]
            if key in DIGIT_ANCHORED:
                # Two digits in a row: only the digit windows can hold one.
                digits = cls._windows("digits", signals, parts)
                assert digits is not None
                found = [(digits.position(m.start()), digits.position(m.end() - 1) + 1)
                         for m in anchor.finditer(digits.text)]  # fmt: skip
                part = windows_around(text, found, tokens=before, right=after, edges=edges)
            else:
                part = windows(text, anchor, tokens=before, right=after, edges=edges)
        parts[key] = part
        return part

    def _reachable(self, spec: PatternSpec, signals: Signals) -> bool:
        """Whether a match of ``spec`` could reach its entity's threshold."""
        threshold = self._thresholds[spec.entity]
        if spec.validated or spec.score >= threshold:
            return True
        # Only a context word can lift it: such patterns (weak ids) run on the digit
        # windows, and each match looks for its context words (``_add``) — so not at
        # all when none of those words is in the text.
        return (
            bool(spec.context)
            and boosted(spec.score) >= threshold
            and signals.mentions(spec.context)
        )

    def _add(
        self,
        hits: list[Hit],
        view: View,
        entity: str,
        start: int,
        end: int,
        score: float,
        context: frozenset[str],
    ) -> bool:
        threshold = self._thresholds[entity]
        if entity in BARE_NEEDS_CONTEXT and _bare(view, start, end):
            # Ten bare digits are as often a timestamp or an order number: only with a
            # context word ("phone", "NHS") before them.
            if not has_context(view.text, start, context):
                return False
            score = max(score, threshold)
        elif score < threshold and context and has_context(view.text, start, context):
            score = boosted(score)
        if score < threshold:
            return False
        if entity == "URL":
            # Presidio's URL pattern takes the sentence's punctuation along.
            while end - start > 1 and view.text[end - 1] in _URL_TRAILING:
                end -= 1
        value = view.text[start:end]
        original_start, original_end = view.span(start, end)
        if value.strip().lower() in self._allow:
            # An allowed value wins every overlap (its domain is no URL either), then goes.
            hits.append(Hit(_ALLOWED, original_start, original_end, 2.0, ""))
            return False
        hits.append(Hit(entity, original_start, original_end, score, canonical(entity, value)))
        return True

    def _phones(self, view: View, hits: list[Hit], found: list[tuple[int, int, float]]) -> None:
        """Phone numbers by ``phonenumbers`` (Presidio's PhoneRecognizer), run only on
        digit runs not already inside a better-scored entity (a phone number loses an
        overlap with a card, IBAN or IP address anyway), one region at a time until one
        matches."""
        phone = self._phone
        assert phone is not None
        text = view.text
        compact = view.to_plain is not None
        # Spans that beat a phone number, by start, with the furthest end reached so far:
        # a candidate inside one of them is skipped in O(log n).
        better = sorted((s, e) for s, e, score in found if score > phone.SCORE)
        starts = [s for s, _ in better]
        reach = list(accumulate((e for _, e in better), max))
        for start, end in phone_candidates(text):
            index = bisect_right(starts, start) - 1
            if index >= 0 and reach[index] >= end:
                continue
            snippet = text[start:end]
            if compact and not _spaced_in_plain(view, start, end):
                continue  # only spaced-out digits need the compact view; the rest is plain
            if _DOTTED_QUAD.fullmatch(snippet.strip(",;:()")) is not None or (
                snippet.count(".") >= 3 and "+" not in snippet
            ):
                continue  # an IPv4 address or a build number is no phone number
            if (
                not compact
                and snippet.isdigit()
                and snippet.isascii()
                and not may_have_context(text, start, end, self._phone_context_pieces)
            ):
                # Every number phonenumbers could find in bare digits needs a context
                # word before it (``_add``): none nearby, so parsing would be wasted.
                continue
            for region in phone_regions(snippet, phone.supported_regions):
                matches = phone_matches(snippet, region, phone.leniency)
                for match_start, match_end in matches:
                    span = (start + match_start, start + match_end)
                    self._add(hits, view, "PHONE_NUMBER", *span, phone.SCORE, self._phone_context)
                if matches:
                    break

    def _ner(self, plain: View) -> list[Hit]:
        found = self._engine.analyze(
            plain.text, language=self._language, entities=self._ner_entities
        )
        hits: list[Hit] = []
        for result in found:
            self._add(hits, plain, result.entity_type, result.start, result.end, result.score,
                      frozenset())  # fmt: skip
        return hits


def _bare(view: View, start: int, end: int) -> bool:
    """Whether ``view.text[start:end]`` was written as bare digits (in the plain view)."""
    if view.to_plain is not None:
        start, end = view.to_plain[start], view.to_plain[end - 1] + 1
    return _BARE_DIGITS.fullmatch(view.plain.text, start, end) is not None


def _spaced_in_plain(view: View, start: int, end: int) -> bool:
    assert view.to_plain is not None
    plain = view.plain.text[view.to_plain[start] : view.to_plain[end - 1] + 1]
    return _SPACED.search(plain) is not None


def _whole_token(text: str, start: int, end: int) -> bool:
    """A match glued to letters or digits is part of a longer token (a hash, an id):
    Presidio's medical-licence pattern, for one, has no word boundaries."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or after.isalnum())
