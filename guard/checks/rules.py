"""The ``rules`` check: keyword lists and regular expressions over normalised text.

Keywords of all rules are compiled into one alternation and found in a single pass;
each user regex is compiled once at policy load. Matching runs on folded text (see
:mod:`guard.normalize`), so case, full-width letters, zero-width characters and
look-alike letters do not hide a match; spans are mapped back so a redaction edits the
characters the caller sent.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.checks.base import CheckConfig, TextCheck
from guard.normalize import normalize
from guard.types import Action, Finding

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_SPACE = re.compile(r"\s+")


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


def _keyword_pattern(term: str) -> str:
    words = _SPACE.split(normalize(term).text.strip())
    return r"\s+".join(re.escape(word) for word in words)


class RulesCheck(TextCheck):
    """Keyword lists and regexes, each rule with its own action."""

    def __init__(self, config: RulesConfig) -> None:
        self.name = config.name or "rules"
        self.shadow = config.mode == "shadow"
        self._rules = {f"r{i}": rule for i, rule in enumerate(config.rules)}
        alternatives: list[str] = []
        prefixes: set[str] = set()
        longest = 0
        for group, rule in self._rules.items():
            if rule.keywords is None:
                continue
            terms = sorted({_keyword_pattern(t) for t in rule.keywords}, key=len, reverse=True)
            body = "|".join(terms)
            if rule.whole_word:
                body = rf"(?<!\w)(?:{body})(?!\w)"
            alternatives.append(f"(?P<{group}>{body})")
            for term in rule.keywords:
                folded = " ".join(_SPACE.split(normalize(term).text.strip()))
                longest = max(longest, len(folded))
                prefixes.update(folded[:n] for n in range(1, len(folded) + 1))
        self._keywords = re.compile("|".join(alternatives)) if alternatives else None
        self._regexes = [
            (group, re.compile(rule.regex, re.IGNORECASE))
            for group, rule in self._rules.items()
            if rule.regex is not None
        ]
        self._prefixes = frozenset(prefixes)
        self._keyword_window = longest
        self._regex_window = max((self._rules[g].max_length for g, _ in self._regexes), default=0)
        self.lookbehind = max(longest, self._regex_window)

    def scan(self, text: str) -> list[Finding]:
        folded = normalize(text)
        found: list[Finding] = []
        if self._keywords is not None:
            for match in self._keywords.finditer(folded.text):
                found.append(
                    self._finding(match.lastgroup or "", "keyword", folded.span(*match.span()))
                )
        for group, pattern in self._regexes:
            for match in pattern.finditer(folded.text):
                found.append(self._finding(group, "regex", folded.span(*match.span())))
        return found

    def _finding(self, group: str, kind: str, span: tuple[int, int]) -> Finding:
        rule = self._rules[group]
        return Finding(
            check=self.name,
            kind=kind,
            start=span[0],
            end=span[1],
            action=Action.parse(rule.action),
            rule=rule.name,
        )

    def replacement(self, finding: Finding) -> str:
        for rule in self._rules.values():
            if rule.name == finding.rule:
                return rule.replacement
        return "[REDACTED]"

    def holdback(self, text: str) -> int:
        """Hold back the longest tail that could still become (or extend) a match."""
        hold = min(len(text), self._regex_window)
        if self._keyword_window:
            window = text[-self._keyword_window :]
            folded = normalize(window)
            for start in range(len(folded.text)):
                rest = folded.text[start:]
                tail = " ".join(rest.split())
                if rest[-1].isspace():
                    tail += " "
                if tail in self._prefixes:
                    original_start = folded.span(start, start + 1)[0]
                    hold = max(hold, len(window) - original_start)
                    break
        return hold
