"""The ``rules`` check: keyword lists and regular expressions over normalised text.

Keywords of all rules go into one automaton and are found in a single pass (see
:mod:`guard.checks._keyword_automaton`); each user regex is compiled once at policy
load, on RE2 (linear time, see :mod:`guard.checks._regex`). Matching runs on folded text (see
:mod:`guard.normalize`), so case, full-width letters, zero-width characters and
look-alike letters do not hide a match; spans are mapped back so a redaction edits the
characters the caller sent.

In a stream the check scans only the text not released yet (folded once per delta),
and holds back from the earliest place a match could still start: a required literal
prefix of a regex (``sk-``, ``ghp_``), a tail that could still grow into one (one
trie-shaped regex finds it), or a tail that could still grow into a keyword.

The policy entry (:class:`RulesConfig`, :class:`RuleSpec`) is in
:mod:`guard.checks._rules_config`.
"""

from __future__ import annotations

import re

from guard.checks._findings_cache import FindingsCache
from guard.checks._keyword_automaton import KeywordAutomaton
from guard.checks._keywords import CONTEXT, fold_term
from guard.checks._patterns import SHORT_TEXT, CompiledRegex, partial_pattern
from guard.checks._rules_config import RulesConfig, RuleSpec
from guard.checks._secrets import high_entropy
from guard.checks.base import CheckContext, StreamWindow, TextCheck, verdict_from
from guard.normalize import FoldedText, Normalized, normalize
from guard.types import Action, Call, Finding, Verdict

__all__ = ["RuleSpec", "RulesCheck", "RulesConfig"]
#: Folded text with the map back to original positions: a whole text or a stream window.
Folded = Normalized | FoldedText


_ACTIONS = {"block": Action.BLOCK, "redact": Action.REDACT, "warn": Action.WARN}


class RulesCheck(TextCheck):
    """Keyword lists and regexes, each rule with its own action."""

    def __init__(self, config: RulesConfig) -> None:
        self.name = config.name or "rules"
        self.shadow = config.mode == "shadow"
        self._replacements = {rule.name: rule.replacement for rule in config.rules}
        self._call_rules = [rule for rule in config.rules if rule.call_kinds()]
        # Findings depend only on the text: a re-sent history is scanned once.
        self.findings_cache = FindingsCache()
        self._keywords = KeywordAutomaton(
            (fold_term(term), rule) for rule in config.rules for term in rule.keywords or ()
        )
        self._regexes = [CompiledRegex(rule) for rule in config.rules if rule.regex is not None]
        # Regexes whose matches are only candidates (high-entropy secrets): consulted
        # per match, so clean text pays nothing.
        self._entropy = {id(r): r.rule.min_entropy for r in self._regexes if r.rule.min_entropy}
        self._prefixed = [r for r in self._regexes if r.prefixes is not None]
        self._unprefixed = [r for r in self._regexes if r.prefixes is None]
        self._capped = [r for r in self._regexes if r.capped]
        # Every required prefix, to rule out all prefixed regexes at once on clean text.
        self._literals = sorted({p for r in self._prefixed for p in r.prefixes or ()})
        self._candidates = (
            re.compile("|".join(map(re.escape, self._literals))) if self._literals else None
        )
        self._partial = partial_pattern(self._prefixed)
        # Released text (folded characters) kept before the unreleased text: context for
        # word boundaries, and room to see a capped regex's match that began there.
        self.lookbehind = max([CONTEXT, *(r.width for r in self._capped)])

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        """The text rules on every segment, then the call limits (size, models)."""
        verdict = self.check_segments(ctx.segments)
        broken = [
            Finding(self.name, kind, action=_ACTIONS[rule.action], rule=rule.name)
            for rule in self._call_rules
            if (kind := rule.violated(call, ctx.segments)) is not None
        ]
        if not broken:
            return verdict
        action = max([verdict.action, *(f.action for f in broken)])
        findings = [*verdict.findings, *broken]
        return verdict_from(self.name, action, findings, verdict.edits, shadow=self.shadow)

    def scan(self, text: str) -> list[Finding]:
        folded = normalize(text)
        return self._find(folded, 0, self._gate(folded.text, 0))

    def holdback(self, text: str) -> int:
        """Hold back the longest tail that could still become (or extend) a match."""
        folded = normalize(text)
        return self._hold(folded, 0, self._gate(folded.text, 0))

    def scan_window(self, window: StreamWindow) -> tuple[list[Finding], int]:
        """Scan only the unreleased text (the released text before it is context).

        The hold-back of earlier deltas kept every place where a match could still
        start unreleased, and the session never releases part of a finding, so a match
        that ends in unreleased text also starts there. Scanning the ~10 new characters
        instead of the ~270-character window (and folding each character once) cut the
        session's cost per 8-character delta from 30 us to 3 us with the default policy
        (bench/streaming.py, ``streaming.session.clean``).
        """
        folded = window.folded()
        start = folded.position(window.released)
        gated = self._gate(folded.text, start)
        found = self._find(folded, start, gated)
        if self._capped and start > 0:
            found.extend(self._overflowing(folded, start))
        return found, 0 if window.final else self._hold(folded, start, gated)

    def _gate(self, text: str, start: int) -> bool:
        """Whether any required prefix occurs in ``text`` from ``start``."""
        if self._candidates is None:
            return False
        if len(text) - start < SHORT_TEXT:
            return self._candidates.search(text, start) is not None
        return any(text.find(literal, start) >= 0 for literal in self._literals)

    def _find(self, folded: Folded, start: int, gated: bool) -> list[Finding]:
        """The matches that start at or after ``start`` in the folded text (``gated``:
        a required prefix occurs there, else no prefixed regex can match)."""
        text = folded.text
        found: list[Finding] = []
        for first, end, rule in self._keywords.find(text, start):
            found.append(self._finding(rule, "keyword", folded.span(first, end)))
        if not gated and not self._unprefixed:
            return found
        for regex in self._regexes:
            first = start
            if regex.start is not None:
                # A match starts at a required prefix: none, no match.
                candidate = regex.start.search(text, start) if gated else None
                if candidate is None:
                    continue
                first = candidate.start()
            for match in regex.pattern.finditer(text, first):
                if self._entropy and not self._random(regex, text, match):
                    continue
                found.append(self._finding(regex.rule, "regex", folded.span(*match.span())))
        return found

    def _random(self, regex: CompiledRegex, text: str, match: re.Match[str]) -> bool:
        """False for a candidate match of a ``min_entropy`` rule that does not look random."""
        share = self._entropy.get(id(regex))
        return share is None or high_entropy(text, match.start(), match.end(), share)

    def _hold(self, folded: Folded, start: int, gated: bool) -> int:
        """How many trailing original characters a match could still start in.

        From the earliest of: the last ``width`` folded characters for a regex without a
        required prefix; a required prefix in the last ``width`` folded characters of its
        regex; a tail that could still grow into a required prefix or a keyword. Widths
        count folded characters, as matches do (core-review D5: a key padded with
        zero-width spaces spans more original characters than its width).
        """
        text = folded.text
        hold_at = len(text)
        for regex in self._unprefixed:
            hold_at = min(hold_at, max(start, len(text) - regex.width))
        if gated:
            for regex in self._prefixed:
                assert regex.start is not None
                since = max(start, len(text) - regex.width)
                candidate = regex.start.search(text, since)
                if candidate is not None:
                    hold_at = min(hold_at, candidate.start())
        if self._partial is not None and hold_at > start:
            partial = self._partial.search(text, start)
            if partial is not None:
                hold_at = min(hold_at, partial.start())
        if hold_at > start:
            keyword = self._keywords.pending(text, start)
            if keyword is not None:
                hold_at = min(hold_at, keyword)
        if hold_at >= len(text):
            return 0
        return folded.original_length - folded.span(hold_at, hold_at + 1)[0]

    def _overflowing(self, folded: Folded, start: int) -> list[Finding]:
        """Matches of capped regexes that began in released text: longer than the cap
        the stream held back for them (the session applies the overflow policy)."""
        found: list[Finding] = []
        for regex in self._capped:
            for match in regex.pattern.finditer(folded.text):
                if match.start() >= start:
                    break
                if match.end() > start and (
                    not self._entropy or self._random(regex, folded.text, match)
                ):
                    found.append(self._finding(regex.rule, "regex", folded.span(*match.span())))
        return found

    def _finding(self, rule: RuleSpec, kind: str, span: tuple[int, int]) -> Finding:
        return Finding(
            check=self.name,
            kind=kind,
            start=span[0],
            end=span[1],
            action=_ACTIONS[rule.action],
            rule=rule.name,
        )

    def replacement(self, finding: Finding) -> str:
        return self._replacements.get(finding.rule, "[REDACTED]")
