"""The policy entry of the ``pii`` check (the keys of issue 17), validated at load:
a missing spaCy model, a missing hash key, an unknown entity or language is a one-
paragraph policy error, never a failure on the first call."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.checks._pii_engine import default_entities, supported_entities
from guard.checks.base import CheckConfig

PiiAction = Literal["block", "redact", "mask", "hash", "pseudonymise", "warn"]
_ENTITY = r"^[A-Z][A-Z0-9_]{1,63}$"


class CustomRecognizer(BaseModel):
    """A recognizer defined in the policy: a regex with a score and context words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: str = Field(pattern=_ENTITY)
    regex: str
    score: float = Field(default=0.6, ge=0, le=1)
    context: list[str] = Field(default_factory=list)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled = regex.compile(value)
        except regex.error as exc:
            raise ValueError(f"regex does not compile: {exc}") from None
        if compiled.fullmatch(""):
            raise ValueError("regex matches the empty string")
        return value


class EntityRule(BaseModel):
    """Per-entity overrides of the check's action and threshold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: PiiAction | None = None
    threshold: float | None = Field(default=None, ge=0, le=1)


class PiiConfig(CheckConfig):
    """Policy entry of the ``pii`` check (the keys of issue 17)."""

    check: Literal["pii"]
    action: PiiAction = "redact"
    #: Minimum Presidio score, 0..1 (phone numbers: see ``_DEFAULT_THRESHOLDS``).
    threshold: float = Field(default=0.5, ge=0, le=1)
    #: Default: every entity the pipeline finds except DATE_TIME and UUID (opt-in).
    entities: list[str] | None = None
    per_entity: dict[str, EntityRule] = Field(default_factory=dict)
    #: Values that are never PII (compared case-insensitively with what matched).
    allow: list[str] = Field(default_factory=list)
    recognizers: list[CustomRecognizer] = Field(default_factory=list)
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    #: ``blank`` (offline, patterns only), the name of an installed spaCy model
    #: (``en_core_web_sm``) or the directory of a saved spaCy pipeline.
    nlp: str = Field(default="blank", min_length=1, max_length=1000)
    #: ``session``: the same value keeps its pseudonym across the calls of a session
    #: (``x-guardwire-session`` / the extension's ``session``), in memory.
    scope: Literal["call", "session"] = "call"
    session_ttl_s: float = Field(default=3600, gt=0)
    session_max: int = Field(default=10_000, ge=1)
    #: Environment variable holding the deployment's key for ``hash`` (read at load).
    hash_key_env: str = Field(default="GUARDWIRE_PII_HASH_KEY", pattern=r"^[A-Z_][A-Z0-9_]*$")

    def actions_used(self) -> set[str]:
        """Every action this entry can take."""
        used: set[str] = {self.action}
        used.update(rule.action for rule in self.per_entity.values() if rule.action)
        return used

    @model_validator(mode="after")
    def _loadable(self) -> PiiConfig:
        if self.nlp != "blank" and not _installed(self.nlp):
            raise ValueError(
                f"nlp: the spaCy model '{self.nlp}' is not installed; install it with "
                f"'pip install {self.nlp}' (or 'python -m spacy download {self.nlp}' where "
                "the machine may download), or use 'nlp: blank' for the pattern entities "
                "only"
            )
        if "hash" in self.actions_used() and not os.environ.get(self.hash_key_env):
            raise ValueError(
                f"action 'hash' needs the deployment's hash key in the environment "
                f"variable {self.hash_key_env} (a long random secret, the same on every "
                "replica); set it, or name another variable in 'hash_key_env'"
            )
        try:
            known = set(supported_entities(self.language, self.nlp))
        except (OSError, ImportError):
            raise ValueError(
                f"language '{self.language}' has no spaCy pipeline here; use 'en' or "
                "another language spaCy supports"
            ) from None
        known.update(r.entity for r in self.recognizers)
        named = set(self.entities or ()) | set(self.per_entity)
        unknown = sorted(named - known)
        if unknown:
            raise ValueError(
                f"unknown entities {', '.join(unknown)}; this pipeline finds "
                f"{', '.join(sorted(known))} (or add a custom recognizer)"
            )
        return self


def _installed(model: str) -> bool:
    """Whether ``model`` is an importable spaCy model package or a pipeline directory."""
    if Path(model).is_dir():
        return True
    try:
        return importlib.util.find_spec(model) is not None
    except (ImportError, ValueError):
        return False


#: Presidio scores a phone number 0.4 (its context boost needs lemmas that a blank
#: pipeline lacks), and an SSN without separators 0.05 (0.4 with "SSN" just before it):
#: these count from 0.4 unless ``per_entity`` says otherwise.
_DEFAULT_THRESHOLDS = {"PHONE_NUMBER": 0.4, "US_SSN": 0.4}


def per_entity(
    config: PiiConfig, custom: list[str]
) -> tuple[tuple[str, ...], dict[str, PiiAction], dict[str, float]]:
    """The entities an entry finds (``custom``: those of the recognizers it defines,
    always used, also beside an explicit list), with each one's action and threshold."""
    entities = list(config.entities or default_entities(config.language, config.nlp))
    found = tuple(dict.fromkeys(entities + custom))
    actions: dict[str, PiiAction] = {e: config.action for e in found}
    thresholds = {e: min(config.threshold, _DEFAULT_THRESHOLDS.get(e, 1.0)) for e in found}
    for entity, rule in config.per_entity.items():
        if rule.action:
            actions[entity] = rule.action
        if rule.threshold is not None:
            thresholds[entity] = rule.threshold
    return found, actions, thresholds
