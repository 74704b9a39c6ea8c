"""The ``rules`` check: keyword lists and regular expressions over normalised text.

Keywords of all rules are compiled into one alternation and found in a single pass;
each user regex is compiled once at policy load. Matching runs on folded text (see
:mod:`guard.normalize`), so case, full-width letters, zero-width characters and
look-alike letters do not hide a match; spans are mapped back so a redaction edits the
characters the caller sent.

In a stream the check scans only the text not released yet (folded once per delta),
and holds back from the earliest place a match could still start: a required literal
prefix of a regex (``sk-``, ``ghp_``), or a tail that could still grow into one or
into a keyword (one trie-shaped regex finds it).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.checks._patterns import (
    SHORT_TEXT,
    CompiledRegex,
    is_word,
    keyword_pattern,
    partial_pattern,
)
from guard.checks.base import CheckConfig, StreamWindow, TextCheck
from guard.normalize import FoldedText, Normalized, normalize
from guard.types import Action, Finding

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: Folded text with the map back to original positions: a whole text or a stream window.
Folded = Normalized | FoldedText


class RuleSpec(BaseModel):
    """One rule: a keyword list or a regex, with what to do on a match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    keywords: list[str] | None = None
    regex: str | None = None
    action: Literal["block", "redact", "warn"] = "block"
    #: Keywords match whole words only (``ban`` does not match ``banana``).
    whole_word: bool = True
    #: Text that replaces a redacted match; default ``[REDACTED]``.
    replacement: str = "[REDACTED]"
    #: Longest text the regex can match; bounds the stream hold-back window.
    max_length: int = Field(default=64, ge=1, le=4096)

    @field_validator("keywords")
    @classmethod
    def _keywords_not_blank(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("keywords must list at least one term")
            if any(not normalize(term).text.strip() for term in value):
                raise ValueError("keywords must not contain blank terms")
        return value

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(
                    f"regex does not compile: {exc.msg} at position {exc.pos}"
                ) from None
            if re.compile(value).match(""):
                raise ValueError("regex matches the empty string")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> RuleSpec:
        if (self.keywords is None) == (self.regex is None):
            raise ValueError("a rule needs exactly one of 'keywords' or 'regex'")
        return self


class RulesConfig(CheckConfig):
    """Policy entry of the ``rules`` check."""

    check: Literal["rules"]
    rules: list[RuleSpec] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, value: list[RuleSpec]) -> list[RuleSpec]:
        names = [rule.name for rule in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(duplicates)}")
        return value


_ACTIONS = {"block": Action.BLOCK, "redact": Action.REDACT, "warn": Action.WARN}


class RulesCheck(TextCheck):
    """Keyword lists and regexes, each rule with its own action."""

    def __init__(self, config: RulesConfig) -> None:
        self.name = config.name or "rules"
        self.shadow = config.mode == "shadow"
        self._replacements = {rule.name: rule.replacement for rule in config.rules}
        # Keywords of every rule go into one alternation without groups or leading
        # assertions, so the regex engine can skip ahead by the set of first characters
        # (a leading look-behind or named groups disable that and cost ~3x on clean
        # text; bench/engine.py). The matched text, whitespace-collapsed, finds its rule.
        self._terms: dict[str, RuleSpec] = {}
        for rule in config.rules:
            for term in rule.keywords or ():
                self._terms.setdefault(" ".join(normalize(term).text.split()), rule)
        patterns = sorted({keyword_pattern(t) for t in self._terms}, key=len, reverse=True)
        self._keywords = re.compile("|".join(patterns)) if patterns else None
        self._regexes = [CompiledRegex(rule) for rule in config.rules if rule.regex is not None]
        self._prefixed = [r for r in self._regexes if r.prefixes is not None]
        self._unprefixed = [r for r in self._regexes if r.prefixes is None]
        # Every required prefix, to rule out all prefixed regexes at once on clean text.
        self._literals = sorted({p for r in self._prefixed for p in r.prefixes or ()})
        self._candidates = (
            re.compile("|".join(map(re.escape, self._literals))) if self._literals else None
        )
        self._partial = partial_pattern(self._terms, self._prefixed)
        # Released text kept before the unreleased text: the context of look-behind
        # assertions and word boundaries, and what the default scanner rescans.
        self.lookbehind = max(
            max((len(t) for t in self._terms), default=0),
            max((r.max_length for r in self._regexes), default=0),
        )

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
        if self._keywords is not None:
            self._scan_keywords(folded, start, found)
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
                found.append(self._finding(regex.rule, "regex", folded.span(*match.span())))
        return found

    def _hold(self, folded: Folded, start: int, gated: bool) -> int:
        """How many trailing original characters a match could still start in.

        From the earliest of: the last ``max_length`` characters of a regex without a
        required prefix; a required prefix in the last ``max_length`` characters of its
        regex; a tail that could still grow into a required prefix or a keyword.
        """
        text, length = folded.text, folded.original_length
        hold_at = len(text)
        for regex in self._unprefixed:
            hold_at = min(hold_at, folded.position(max(0, length - regex.max_length)))
        if gated:
            for regex in self._prefixed:
                assert regex.start is not None
                since = max(start, folded.position(length - regex.max_length))
                candidate = regex.start.search(text, since)
                if candidate is not None:
                    hold_at = min(hold_at, candidate.start())
        if self._partial is not None and hold_at > start:
            partial = self._partial.search(text, start)
            if partial is not None:
                hold_at = min(hold_at, partial.start())
        if hold_at >= len(text):
            return 0
        return length - folded.span(hold_at, hold_at + 1)[0]

    def _scan_keywords(self, folded: Folded, start: int, found: list[Finding]) -> None:
        assert self._keywords is not None
        text = folded.text
        search = self._keywords.search
        position = start
        while (match := search(text, position)) is not None:
            begin, end = match.span()
            hit = self._whole_word_hit(text, begin, end)
            if hit is None:
                position = begin + 1
                continue
            rule, end = hit
            found.append(self._finding(rule, "keyword", folded.span(begin, end)))
            position = end

    def _whole_word_hit(self, text: str, start: int, end: int) -> tuple[RuleSpec, int] | None:
        """The rule of the match at ``start`` and its end, honouring ``whole_word``.

        When the longest term fails its word boundary, a shorter term matching at the
        same place may still pass (``foo bar`` inside ``foo bar bazooka``).
        """
        before_ok = start == 0 or not is_word(text[start - 1])
        matched = text[start:end]
        for cut in range(len(matched), 0, -1):
            rule = self._terms.get(" ".join(matched[:cut].split()))
            if rule is None:
                continue
            if not rule.whole_word:
                return rule, start + cut
            after_ok = start + cut == len(text) or not is_word(text[start + cut])
            if before_ok and after_ok:
                return rule, start + cut
        return None

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
