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
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from guard.checks._findings_cache import FindingsCache
from guard.checks._keyword_automaton import KeywordAutomaton
from guard.checks._keyword_files import with_file_keywords
from guard.checks._keywords import CONTEXT, fold_term
from guard.checks._patterns import SHORT_TEXT, CompiledRegex, partial_pattern
from guard.checks._regex import compile_regex, fold_pattern, match_width
from guard.checks._rules_call import CallRuleFields
from guard.checks._secrets import expand as expand_secrets
from guard.checks._secrets import high_entropy
from guard.checks.base import CheckConfig, CheckContext, StreamWindow, TextCheck, verdict_from
from guard.normalize import FoldedText, Normalized, normalize
from guard.types import Action, Call, Finding, Verdict

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: Folded text with the map back to original positions: a whole text or a stream window.
Folded = Normalized | FoldedText


class RuleSpec(CallRuleFields):
    """One rule: a keyword list, a regex, or a call limit (size, models: see
    :mod:`guard.checks._rules_call`), with what to do on a match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    keywords: list[str] | None = None
    #: Text file(s) of further terms, one per line (``#`` comments), relative to the
    #: policy file; their terms join ``keywords`` (the dump keeps the terms, not paths).
    keywords_file: str | list[str] | None = Field(default=None, exclude=True)
    regex: str | None = None
    action: Literal["block", "redact", "warn"] = "block"
    #: Keywords match whole words only (``ban`` does not match ``banana``).
    whole_word: bool = True
    #: Text that replaces a redacted match; default ``[REDACTED]``.
    replacement: str = "[REDACTED]"
    #: Cap, in folded characters (after guard.normalize dropped invisible characters and
    #: marks), on the text a regex match can span in a progressive stream. The width is
    #: derived from the pattern; a pattern that can match any length (``+``, ``*``,
    #: ``{n,}``) needs this cap on a progressive stream's output, and a longer match
    #: there triggers ``stream.on_holdback_overflow``.
    max_length: int | None = Field(default=None, ge=1, le=4096)
    #: A regex match counts only when it looks random: its Shannon entropy is at least
    #: this share (0-1) of the most a string of its length and alphabet (hex or base64)
    #: can have, and it mixes letters and digits (``secrets: [high-entropy]`` sets 0.75).
    min_entropy: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _read_keyword_files(cls, data: object) -> object:
        return with_file_keywords(data, blank=lambda term: not fold_term(term))

    @field_validator("keywords")
    @classmethod
    def _keywords_not_blank(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("keywords must list at least one term")
            if any(not fold_term(term) for term in value):
                raise ValueError("keywords must not contain blank terms")
        return value

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            rule = info.data.get("name", "?")
            try:
                pattern = compile_regex(fold_pattern(value))
            except ValueError as exc:
                raise ValueError(f"rule '{rule}': {exc}") from None
            if pattern.search("") is not None:
                raise ValueError(f"rule '{rule}': the regex matches the empty string")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> RuleSpec:
        kinds = (self.keywords is not None) + (self.regex is not None) + self.call_kinds()
        if kinds != 1:
            raise ValueError(
                f"rule '{self.name}' needs exactly one of 'keywords' or 'regex' (text rules),"
                " a size limit ('max_chars'/'max_messages'), 'models_allowed' or"
                " 'models_denied'"
            )
        return self

    def unbounded(self) -> bool:
        """A regex rule whose matches have no derived bound and no ``max_length`` cap."""
        if self.regex is None or self.max_length is not None:
            return False
        return match_width(fold_pattern(self.regex)) is None


class RulesConfig(CheckConfig):
    """Policy entry of the ``rules`` check."""

    check: Literal["rules"]
    rules: list[RuleSpec] = Field(min_length=1)

    @field_validator("rules", mode="before")
    @classmethod
    def _expand_secrets(cls, value: object) -> object:
        return expand_secrets(value)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, value: list[RuleSpec]) -> list[RuleSpec]:
        names = [rule.name for rule in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(duplicates)}")
        return value

    def check_streamable(self) -> None:
        """Raise ``ValueError`` if a rule cannot be checked on a progressive stream: a
        regex that can match text of any length, without a ``max_length`` cap."""
        for rule in self.rules:
            if rule.unbounded():
                raise ValueError(
                    f"check '{self.name or self.check}', rule '{rule.name}': the regex can"
                    " match text of any length, so a progressive stream cannot hold back"
                    " enough of it; set 'max_length' (folded characters) to cap a match,"
                    " bound the pattern (e.g. {1,64} instead of +), or use stream mode"
                    " 'buffer'"
                )


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
