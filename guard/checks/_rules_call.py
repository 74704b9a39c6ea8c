"""Rules on the call rather than its text: size limits and model allow/deny lists.

A rules entry may say ``{name: size, max_chars: 200000, max_messages: 500}`` (the
request's checked text and its number of messages) or ``{name: models,
models_allowed: ["gpt-4o*", "claude-*"]}`` / ``models_denied: [...]`` (shell-style
patterns on the request's model). These run at the input stage only, once per call;
their findings carry the rule name and no text.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, Field

from guard.types import Call, Segment


class CallRuleFields(BaseModel):
    """The call-level fields of a rule (mixed into ``RuleSpec``)."""

    #: Most characters of checked text a request may carry (all its segments).
    max_chars: int | None = Field(default=None, ge=1)
    #: Most messages a request may carry.
    max_messages: int | None = Field(default=None, ge=1)
    #: Models a request may name (shell-style patterns, ``gpt-4o*``); others match.
    models_allowed: list[str] | None = Field(default=None, min_length=1)
    #: Models a request may not name.
    models_denied: list[str] | None = Field(default=None, min_length=1)

    def call_kinds(self) -> int:
        """How many call-level kinds this rule sets (size counts once)."""
        size = self.max_chars is not None or self.max_messages is not None
        return (
            int(size) + int(self.models_allowed is not None) + int(self.models_denied is not None)
        )

    def violated(self, call: Call, segments: Sequence[Segment]) -> str | None:
        """The finding kind (``size`` or ``model``) when ``call`` breaks this rule."""
        if self.max_chars is not None and sum(len(s.text) for s in segments) > self.max_chars:
            return "size"
        if self.max_messages is not None and message_count(call, segments) > self.max_messages:
            return "size"
        model = call.model
        if model is not None:
            if self.models_allowed is not None and not any(
                fnmatchcase(model, pattern) for pattern in self.models_allowed
            ):
                return "model"
            if self.models_denied is not None and any(
                fnmatchcase(model, pattern) for pattern in self.models_denied
            ):
                return "model"
        return None


def message_count(call: Call, segments: Sequence[Segment]) -> int:
    """Messages in the request: the wire body's list when there is one (a message
    without text counts too), else the distinct message indexes of the segments."""
    raw: Any = call.raw
    if isinstance(raw, dict) and isinstance(raw.get("messages"), list):
        return len(raw["messages"])
    return len({s.index for s in segments if s.index >= 0})
