"""The ``rules`` check: keyword lists and regular expressions over normalised text.

Keywords of all rules are compiled into one alternation and found in a single pass;
each user regex is compiled once at policy load. Matching runs on folded text (see
:mod:`guard.normalize`), so case, full-width letters, zero-width characters and
look-alike letters do not hide a match; spans are mapped back so a redaction edits the
characters the caller sent.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.checks.base import CheckConfig, TextCheck
from guard.normalize import Normalized, normalize
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


_ACTIONS = {"block": Action.BLOCK, "redact": Action.REDACT, "warn": Action.WARN}


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _required_prefixes(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which starts every match of ``pattern`` (lower-cased).

    Handles the common shapes (``\\bABC...``, ``(?:AB|CD)...``); ``None`` when no such
    literal can be derived, and the regex then runs on every text.
    """
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    def literals(items: Any) -> tuple[list[str], bool]:
        """Prefixes of ``items`` and whether they cover all of ``items`` (so that what
        follows may be appended)."""
        out = [""]
        for op, argument in items:
            if op is c.AT and out == [""]:
                continue
            if op is c.LITERAL:
                out = [o + chr(argument).lower() for o in out]
                continue
            if op is c.IN and all(item_op is c.LITERAL for item_op, _ in argument):
                # A small character set ([pousr]) widens the prefix set.
                chars = sorted({chr(value).lower() for _, value in argument})
                if len(chars) * len(out) <= 32:
                    out = [o + char for o in out for char in chars]
                    continue
                return out, False
            if op is c.SUBPATTERN or op is c.BRANCH:
                branches = [argument[-1]] if op is c.SUBPATTERN else argument[1]
                options: list[str] = []
                complete = True
                for branch in branches:
                    inner, whole = literals(branch)
                    options.extend(inner)
                    complete = complete and whole
                if "" in options or len(options) * len(out) > 32:
                    return out, False
                out = [o + i for o in out for i in options]
                if complete:
                    continue
            return out, False
        return out, True

    try:
        parsed = _parser.parse(pattern)
    except Exception:
        return None
    found, _ = literals(list(parsed))
    return tuple(found) if all(found) else None


def _keyword_pattern(term: str) -> str:
    words = _SPACE.split(normalize(term).text.strip())
    return r"\s+".join(re.escape(word) for word in words)


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
        prefixes: set[str] = set()
        for rule in config.rules:
            for term in rule.keywords or ():
                folded = " ".join(normalize(term).text.split())
                self._terms.setdefault(folded, rule)
                prefixes.update(folded[:n] for n in range(1, len(folded) + 1))
        patterns = sorted({_keyword_pattern(t) for t in self._terms}, key=len, reverse=True)
        self._keywords = re.compile("|".join(patterns)) if patterns else None
        self._regexes = [
            (rule, re.compile(rule.regex, re.IGNORECASE), _required_prefixes(rule.regex))
            for rule in config.rules
            if rule.regex is not None
        ]
        self._prefixes = frozenset(prefixes)
        self._keyword_window = max((len(t) for t in self._terms), default=0)
        self._regex_window = max((rule.max_length for rule, _, _ in self._regexes), default=0)
        self.lookbehind = max(self._keyword_window, self._regex_window)

    def scan(self, text: str) -> list[Finding]:
        folded = normalize(text)
        found: list[Finding] = []
        if self._keywords is not None:
            self._scan_keywords(folded, found)
        for rule, pattern, prefixes in self._regexes:
            # Cheap necessary condition first: a literal every match starts with.
            if prefixes is not None and not any(p in folded.text for p in prefixes):
                continue
            for match in pattern.finditer(folded.text):
                found.append(self._finding(rule, "regex", folded.span(*match.span())))
        return found

    def _scan_keywords(self, folded: Normalized, found: list[Finding]) -> None:
        assert self._keywords is not None
        text = folded.text
        search = self._keywords.search
        position = 0
        while (match := search(text, position)) is not None:
            start, end = match.span()
            hit = self._whole_word_hit(text, start, end)
            if hit is None:
                position = start + 1
                continue
            rule, end = hit
            found.append(self._finding(rule, "keyword", folded.span(start, end)))
            position = end

    def _whole_word_hit(self, text: str, start: int, end: int) -> tuple[RuleSpec, int] | None:
        """The rule of the match at ``start`` and its end, honouring ``whole_word``.

        When the longest term fails its word boundary, a shorter term matching at the
        same place may still pass (``foo bar`` inside ``foo bar bazooka``).
        """
        before_ok = start == 0 or not _is_word(text[start - 1])
        matched = text[start:end]
        for cut in range(len(matched), 0, -1):
            rule = self._terms.get(" ".join(matched[:cut].split()))
            if rule is None:
                continue
            if not rule.whole_word:
                return rule, start + cut
            after_ok = start + cut == len(text) or not _is_word(text[start + cut])
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

    def holdback(self, text: str) -> int:
        """Hold back the longest tail that could still become (or extend) a match."""
        hold = 0
        if self._regexes:
            hold = self._regex_holdback(text)
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

    def _regex_holdback(self, text: str) -> int:
        """From the earliest place in the last ``max_length`` characters where a match
        could start: a required literal prefix, or a tail that is the start of one.
        Regexes without a known prefix hold back their whole ``max_length``."""
        hold = 0
        for rule, _, prefixes in self._regexes:
            window = text[-rule.max_length :]
            if prefixes is None:
                hold = max(hold, len(window))
                continue
            folded = normalize(window)
            starts = [i for i in (folded.text.find(p) for p in prefixes) if i >= 0]
            length = len(folded.text)
            starts.extend(
                length - k
                for prefix in prefixes
                for k in range(1, min(len(prefix), length + 1))
                if folded.text.endswith(prefix[:k])
            )
            if starts:
                original_start = folded.span(min(starts), min(starts) + 1)[0]
                hold = max(hold, len(window) - original_start)
        return hold
