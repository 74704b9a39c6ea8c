"""The ``pii`` check: personal data found by Presidio's recognizers, then blocked,
redacted, masked, hashed, reversibly pseudonymised or reported.

Detection (see :mod:`guard.checks._pii_detect`) runs Presidio's predefined pattern
recognizers — credit card with Luhn, IBAN with its checksum, US SSN, phone numbers via
``phonenumbers``, e-mail, IP, URL, crypto wallets, national ids — on a blank spaCy
pipeline (nothing downloaded, nothing fetched); ``nlp: <spaCy model>`` adds NER
entities. It matches on normalised text (zero-width and bidi controls, soft hyphens,
full-width and other Unicode digits, spaced or dotted digit runs) and reports spans in
the text the caller sent.

Findings are ``Finding(check, kind=<entity>, start, end, score, action)`` — never the
value. Replacements: see :mod:`guard.checks._pii_actions`. ``pseudonymise`` issues
``<EMAIL_ADDRESS_1>`` at the input stage and registers it with ``ctx.restore``, so the
caller's reply (complete or streamed) has the original back; at the output stage, and
in streams, it writes ``<EMAIL_ADDRESS>`` (the caller never sees a placeholder that
nothing would restore).
"""

from __future__ import annotations

import os
import re
import threading

from guard.checks._pii_actions import (
    MemorySessionVaults,
    SessionVaults,
    Vault,
    call_vault,
    hashed,
    masked,
    redacted,
    session_vault,
)
from guard.checks._pii_config import (
    CustomRecognizer,
    EntityRule,
    PiiAction,
    PiiConfig,
    per_entity,
)
from guard.checks._pii_detect import Detector
from guard.checks._pii_engine import supported_entities
from guard.checks._pii_hits import Hit
from guard.checks._pii_holdback import capped, holdback, prose_holdback
from guard.checks._pii_holdback_names import SpaceMarks
from guard.checks._pii_name_lists import gazetteer
from guard.checks._pii_names import may_end_name
from guard.checks._pii_recognizers import custom_spec
from guard.checks._pii_scan import Answers
from guard.checks._text_parts import Run, crossing, part_runs
from guard.checks.base import Capabilities, CheckContext, StreamWindow, TextCheck, verdict_from
from guard.types import Action, Call, Edit, Finding, Reply, Verdict

_ACTIONS = {
    "block": Action.BLOCK, "redact": Action.REDACT, "mask": Action.REDACT,
    "hash": Action.REDACT, "pseudonymise": Action.REDACT, "warn": Action.WARN,
}  # fmt: skip
#: Characters every pattern entity contains (full-width forms fold to them): a digit,
#: an ``@``, or a dot or colon inside a token (``example.com``, ``fe80::1``). A dot or
#: colon before whitespace ends a sentence or a label: no entity needs one.
_TRIGGER = re.compile(r"[\d@＠﹫.:．：](?:(?<=[\d@＠﹫])|(?!\s))")


class _Replacements(threading.local):
    """Replacement texts of the findings of the last scan in this thread (mask and
    hash need the matched text, which a finding never carries)."""

    def __init__(self) -> None:
        self.by_span: dict[tuple[str, int, int], str] = {}


class PiiCheck(TextCheck):
    """Personal data in prompts and replies (see the module docstring)."""

    def __init__(self, config: PiiConfig) -> None:
        self.name = config.name or "pii"
        self.shadow = config.mode == "shadow"
        language, nlp = config.language, config.nlp
        custom = [custom_spec(r.entity, r.regex, r.score, r.context) for r in config.recognizers]
        self.entities, self._actions, thresholds = per_entity(config, [s.entity for s in custom])
        #: Minimum score per entity (what the check was configured with).
        self.thresholds = dict(thresholds)
        self._detector = Detector(
            language=language,
            nlp=nlp,
            entities=self.entities,
            thresholds=thresholds,
            allow=config.allow,
            custom=custom,
        )
        used = set(self._actions.values())
        self.capabilities = Capabilities(
            streamable=True, may_block="block" in used, restores="pseudonymise" in used
        )
        self._hash_key = os.environ.get(config.hash_key_env, "").encode() if "hash" in used else b""
        self._sessions: SessionVaults | None = None
        if config.scope == "session":
            self._sessions = MemorySessionVaults(
                ttl=config.session_ttl_s, max_sessions=config.session_max, max_entries=1000
            )
        self._known = frozenset(supported_entities(language, nlp))
        # ORGANIZATION / NRP by the offline rules are held back in streams as NER is
        # (the last words), and every delta is rescanned.
        self._ner = nlp != "blank" or bool(self._detector.rules)
        #: PERSON / LOCATION by the offline lists: a capitalised run is held until it ends.
        self._names = bool(self._detector.names)
        if self._names:
            gazetteer()  # the lists read at policy load (~0.2 s once), not on a first call
        # The stream shortcut holds for Presidio's pattern entities only.
        self._skippable = not self._ner and not custom
        self._stash = _Replacements()
        # Context words sit just before an entity: keep them when a stream releases text.
        self.lookbehind = 128
        #: The most characters an entity of this check spans (``None``: no bound, as
        #: with e-mail addresses, URLs and phone numbers): what a stream holds at most.
        self._longest_match = self._detector.longest_match

    # -- detection -------------------------------------------------------------------

    def _found(self, text: str, answers: Answers | None = None) -> list[tuple[Finding, Hit]]:
        return [(self._finding(hit), hit) for hit in self._detector.find(text, answers)]

    def _finding(self, hit: Hit) -> Finding:
        action = _ACTIONS[self._actions[hit.entity]]
        return Finding(self.name, hit.entity, start=hit.start, end=hit.end, score=hit.score,
                       action=action, rule=hit.entity)  # fmt: skip

    def scan(self, text: str, answers: Answers | None = None) -> list[Finding]:
        stash = self._stash.by_span
        stash.clear()
        findings = []
        for finding, hit in self._found(text, answers):
            stash[hit.entity, hit.start, hit.end] = self._replace(
                hit, text[hit.start : hit.end], None
            )
            findings.append(finding)
        return findings

    def replacement(self, finding: Finding) -> str:
        found = self._stash.by_span.get((finding.kind, finding.start, finding.end))
        return found or redacted(finding.kind)

    def _replace(self, hit: Hit, original: str, vault: Vault | None) -> str:
        action = self._actions[hit.entity]
        if action == "mask":
            return masked(hit.entity, original)
        if action == "hash":
            return hashed(self._hash_key, hit.entity, hit.value)
        if action == "pseudonymise" and vault is not None:
            placeholder = vault.placeholder(hit.entity, hit.value, original)
            if placeholder is not None:
                return placeholder
        return redacted(hit.entity)

    # -- stages ------------------------------------------------------------------------

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        """Find and replace; pseudonyms are registered for the reply's restores."""
        findings: list[Finding] = []
        edits: list[Edit] = []
        action = Action.ALLOW
        # Session scope: the session's earlier placeholders are restored in this reply too.
        vault = session_vault(self._sessions, ctx, self.name)
        for number, segment in enumerate(ctx.segments):
            text = segment.text
            if not text:
                continue
            for finding, hit in self._found(text):
                finding = _in_segment(finding, number)
                findings.append(finding)
                action = max(action, finding.action)
                if finding.action is not Action.REDACT:
                    continue
                original = text[hit.start : hit.end]
                if vault is None and self._actions[hit.entity] == "pseudonymise":
                    vault = call_vault(ctx, self.name)
                replacement = self._replace(hit, original, vault)
                edits.append(Edit(number, hit.start, hit.end, replacement))
        # An entity cut across a message's content parts (guard.checks._text_parts).
        for run in part_runs(ctx.segments) if len(ctx.segments) > 1 else ():
            vault = self._across_parts(run, ctx, vault, findings, edits)
            action = max([action, *(f.action for f in findings)])
        if vault is not None and not self.shadow:
            for placeholder, original in vault.issued().items():
                ctx.restore(placeholder, original)
        return verdict_from(self.name, action, findings, edits, shadow=self.shadow)

    def _across_parts(
        self,
        run: Run,
        ctx: CheckContext,
        vault: Vault | None,
        findings: list[Finding],
        edits: list[Edit],
    ) -> Vault | None:
        """Add the findings and edits of entities cut across ``run``'s parts; the
        call's vault (made when such an entity is pseudonymised)."""
        hits = {(f.kind, f.start, f.end): hit for f, hit in self._found(run.text)}
        if vault is None and any(self._actions[h.entity] == "pseudonymise" for h in hits.values()):
            vault = call_vault(ctx, self.name)

        def replace(finding: Finding) -> str:
            hit = hits[finding.kind, finding.start, finding.end]
            return self._replace(hit, run.text[hit.start : hit.end], vault)

        found = [self._finding(hit) for hit in hits.values()]
        for finding, redactions in crossing(run, found, replace):
            findings.append(finding)
            if finding.action is Action.REDACT:
                edits.extend(redactions)
        return vault

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        """The reply is checked as a stream would be (same findings, same text)."""
        return self.check_segments(ctx.segments)

    # -- streams -----------------------------------------------------------------------

    def scan_window(self, window: StreamWindow) -> tuple[list[Finding], int]:
        """Rescan the window only when the text it would release could end an entity.

        Every pattern entity ends in or after a digit, ``@``, or a ``.`` or ``:`` inside
        a token of its own (the token that holds one is pending, so held back, until it
        is complete). When the text that would be released now has none of them,
        nothing can end there and the detector is not run: clean prose (its dots end
        sentences) streams at the cost of :meth:`holdback`. With PERSON / LOCATION,
        every name and place ends in a capitalised word: one that may begin a name or
        place, or any after a title or context phrase, counts too.
        """
        if window.final or not self._skippable:
            return self._rescan(window)
        hold = prose_holdback(window.text, window.released, names=self._names)
        if hold is not None and (self._longest_match is None or hold <= self._longest_match):
            return [], hold  # lower-case prose: no capital, no trigger (see _scan_pending)
        return self._scan_pending(window)

    def _scan_pending(self, window: StreamWindow) -> tuple[list[Finding], int]:
        """:meth:`scan_window` past its lower-case prose shortcut."""
        text = window.text
        # :meth:`holdback` inlined (a stream asks on every delta).
        marks = SpaceMarks.of_stream(window)
        hold = holdback(text, ner=False, names=self._names, marks=marks)
        if self._longest_match is not None and hold > self._longest_match:
            hold = capped(text, hold, self._longest_match)
        pending = text[window.released :]
        # ``lower`` first (C): no capital in what would be released, no name ends there.
        releasable = pending[: max(0, len(pending) - hold)]
        if (
            self._names
            and releasable.lower() != releasable
            and may_end_name(text, window.released, len(text) - hold)
        ):
            return self._rescan(window)
        if pending.replace(" ", "a").isalpha() and pending.isascii():
            return [], hold  # letters and spaces: nothing ends here (C string methods)
        # Searched past the releasable end (into the held text, which is short) so that
        # a dot there sees the space after it.
        trigger = _TRIGGER.search(text, window.released)
        if trigger is None or trigger.start() >= len(text) - hold:
            return [], hold
        return self._rescan(window)

    def _rescan(self, window: StreamWindow) -> tuple[list[Finding], int]:
        """The default rescan of the window, with the stream's answers so far (the
        candidates of the last delta's window are mostly this one's)."""
        answers = Answers.of_stream(window.memo, self.name)
        text = window.text
        found = [f for f in self.scan(text, answers) if f.end > window.released]
        if window.final:
            return found, 0
        return found, self.holdback(text, SpaceMarks.of_stream(window))

    def holdback(self, text: str, marks: SpaceMarks | None = None) -> int:
        """The trailing characters an entity still being written could extend (see
        :func:`guard.checks._pii_holdback.holdback`), no more than the longest match of
        the configured recognizers spans (:func:`guard.checks._pii_holdback.capped`).
        ``marks``: the stream window's (see there)."""
        hold = holdback(text, ner=self._ner, names=self._names, marks=marks)
        longest = self._longest_match
        if longest is not None and hold > longest:
            return capped(text, hold, longest)
        return hold

    def metric_labels(self, finding: Finding) -> tuple[str, str]:
        """``entity`` and ``action`` label values of a finding (closed sets)."""
        entity = finding.kind if finding.kind in self._known else "other"
        return entity, self._actions.get(finding.kind, finding.action.label)


def _in_segment(finding: Finding, segment: int) -> Finding:
    return Finding(finding.check, finding.kind, segment, finding.start, finding.end,
                   finding.score, finding.action, finding.rule)  # fmt: skip


__all__ = ["CustomRecognizer", "EntityRule", "PiiAction", "PiiCheck", "PiiConfig"]
