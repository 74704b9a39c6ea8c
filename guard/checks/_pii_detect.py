"""Finding PII in one text: Presidio's recognizers on the evasion-proof views.

:class:`Detector` is built once per check (its Presidio engine once per language and
spaCy pipeline per process) and is safe to share between calls and threads: a call
only reads it. See :mod:`guard.checks._pii_prefilter` for what makes it fast,
:mod:`guard.checks._pii_scan` for what one call works out once,
:mod:`guard.checks._pii_hits` for how overlapping hits resolve,
:mod:`guard.checks._pii_phones` for phone numbers and
:mod:`guard.checks._pii_text` for the views.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from guard.checks._pii_engine import analyzer_engine
from guard.checks._pii_engine import recognizers as pipeline_recognizers
from guard.checks._pii_hits import Hit, canonical, resolve
from guard.checks._pii_names import LONGEST_NAME, find_names
from guard.checks._pii_orgs import find_nrp, find_organizations
from guard.checks._pii_patterns import longest_match
from guard.checks._pii_phones import phone_spans
from guard.checks._pii_prefilter import (
    Signals,
    window_key,
)
from guard.checks._pii_recognizers import (
    NAME_ENTITIES,
    NER_ENTITIES,
    NUMBER_ENTITIES,
    RULE_ENTITIES,
    PatternSpec,
    boosted,
    has_context,
    pattern_specs,
)
from guard.checks._pii_scan import Answers, Scan
from guard.checks._pii_text import View, compact_view, plain_view

_URL_TRAILING = frozenset(".,;:!?'\"")
_BARE_DIGITS = re.compile(r"\d+")
#: Entities that a run of bare digits is reported as only with a context word.
BARE_NEEDS_CONTEXT = frozenset({"PHONE_NUMBER", "UK_NHS"})
#: The score of a match not validated yet.
_UNSCORED = -1.0
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
        recognizers = pipeline_recognizers(language, nlp)
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
        #: PERSON / LOCATION by the offline name and place lists (blank pipeline only).
        self.names = frozenset(e for e in NAME_ENTITIES if e in wanted and nlp == "blank")
        #: ORGANIZATION / NRP by the offline rules (blank pipeline only).
        self.rules = frozenset(e for e in RULE_ENTITIES if e in wanted and nlp == "blank")
        self._engine, self._language = engine, language
        #: The most characters (of the text matched on) an entity found here spans;
        #: ``None``: no bound (e-mail, URL, phone numbers by ``phonenumbers``, NER).
        bound = longest_match(spec.pattern.pattern for spec in specs)
        self.longest_match = (
            None
            if self._phone is not None or self._ner_entities or self.rules or bound is None
            else max(bound, LONGEST_NAME if self.names else 0)
        )
        self._allow = frozenset(a.strip().lower() for a in allow)

    def find(self, text: str, answers: Answers | None = None) -> list[Hit]:
        """The entities in ``text``, non-overlapping, spans in ``text`` (``answers``:
        those of this call or stream so far)."""
        plain = plain_view(text)
        signals = Signals.read(plain.text)
        if answers is None:
            answers = Answers()
        hits = self._scan(Scan(plain, signals, answers), numbers_only=False)
        if signals.max_digits:
            compact = compact_view(plain)
            if compact is not None:
                scan = Scan(compact, Signals.read(compact.text), answers)
                hits.extend(self._scan(scan, numbers_only=True))
        if self._ner_entities:
            hits.extend(self._ner(plain))
        if self.names:
            found = find_names(plain.text, self.names, digits=signals.max_digits > 0)
            for entity, start, end, score in found:
                self._add(hits, plain, entity, start, end, score, frozenset())
        if self.rules and plain.text.lower() != plain.text:
            self._add_rules(hits, plain)
        return [hit for hit in resolve(hits) if hit.entity != _ALLOWED]

    def _add_rules(self, hits: list[Hit], plain: View) -> None:
        """ORGANIZATION and NRP by the offline rules (a capital in the text: see
        :mod:`guard.checks._pii_orgs`)."""
        for entity, finder in (("ORGANIZATION", find_organizations), ("NRP", find_nrp)):
            if entity in self.rules:
                for start, end, score in finder(plain.text):
                    self._add(hits, plain, entity, start, end, score, frozenset())

    def _scan(self, scan: Scan, *, numbers_only: bool) -> list[Hit]:
        signals = scan.signals
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
                self._run(spec, key, scan)
        phone = self._phone
        if phone is not None and signals.possible("PHONE_NUMBER"):
            for start, end in phone_spans(scan, phone, self._phone_context_pieces):
                self._add(scan.hits, scan.view, "PHONE_NUMBER", start, end, phone.SCORE,
                          self._phone_context)  # fmt: skip
        return scan.hits

    def _run(self, spec: PatternSpec, key: str | None, scan: Scan) -> None:
        """Run one pattern on its windows; add what reaches the threshold."""
        view = scan.view
        text, entity, scores = view.text, spec.entity, scan.answers.scores
        part = scan.windows(key)
        scanned = text if part is None else part.text
        matches = spec.matches(scanned)
        if spec.group_ends:
            best = (spec.best_cut(match, scores) for match in matches)
            cuts = [cut for cut in best if cut[2] > 0]
        else:
            cuts = [(*match.span(), _UNSCORED) for match in matches]
        spans = [(start, end) for start, end, _ in cuts]
        if part is not None:
            spans = part.positions(spans)
        for (start, end), (_, _, score) in zip(spans, cuts, strict=True):
            if start >= end or not _whole_token(text, start, end):
                continue  # no need to validate what a token boundary rejects
            if score == _UNSCORED:
                value = text[start:end]
                known = scores.get((id(spec), value))
                if known is None:
                    known = scores[id(spec), value] = spec.score_of(value)
                if known <= 0:
                    continue
                score = known
            if self._add(scan.hits, view, entity, start, end, score, spec.context):
                scan.spans.append((start, end, scan.hits[-1].score))

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


def _whole_token(text: str, start: int, end: int) -> bool:
    """A match glued to letters or digits is part of a longer token (a hash, an id):
    Presidio's medical-licence pattern, for one, has no word boundaries."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or after.isalnum())
