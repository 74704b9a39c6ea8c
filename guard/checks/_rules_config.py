"""The ``rules`` check's policy entry: rules (keywords, a regex, or a call limit) and
what each does on a match, validated when the policy loads (a regex that does not
compile or matches the empty string, a blank keyword, a repeated rule name).

Re-exported by :mod:`guard.checks.rules`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from guard._yaml import FieldValueError
from guard.checks._keyword_files import with_file_keywords
from guard.checks._keywords import fold_term
from guard.checks._regex import compile_regex, fold_pattern, match_width
from guard.checks._rules_call import CallRuleFields
from guard.checks._secrets import expand as expand_secrets
from guard.checks.base import CheckConfig

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


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
        for number, rule in enumerate(self.rules):
            if rule.unbounded():
                raise FieldValueError(
                    f"check '{self.name or self.check}', rule '{rule.name}': the regex can"
                    " match text of any length, so a progressive stream cannot hold back"
                    " enough of it; set 'max_length' (folded characters) to cap a match,"
                    " bound the pattern (e.g. {1,64} instead of +), or use stream mode"
                    " 'buffer'",
                    ("rules", number, "regex"),
                )
