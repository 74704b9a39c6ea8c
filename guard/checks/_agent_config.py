"""The ``agent`` check's policy entry (the keys of issue 23) and its tool-name matching."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guard.checks._regex import compile_regex, fold_pattern
from guard.checks.base import CheckConfig
from guard.types import Action, Finding, Verdict

#: What a session limit or a data-flow rule does when it trips.
LimitAction = Literal["block", "warn"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArgumentRule(_Strict):
    """A rule over one argument of one tool: the string at ``pointer`` (RFC 6901)."""

    #: Tool name or glob.
    tool: str = Field(min_length=1)
    #: JSON Pointer into the tool call's arguments, e.g. ``/command`` (``""``: the whole).
    pointer: str = Field(pattern=r"^(/.*)?$")
    #: The argument may not match this pattern (linear-time engine, like ``rules``).
    deny_regex: str | None = None
    #: The argument must be a URL whose host matches one of these (globs: ``*.internal``).
    allow_hosts: list[str] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> ArgumentRule:
        if (self.deny_regex is None) == (self.allow_hosts is None):
            raise ValueError(
                f"argument rule for tool '{self.tool}' needs exactly one of 'deny_regex' "
                "or 'allow_hosts'"
            )
        if self.deny_regex is not None:
            compile_regex(fold_pattern(self.deny_regex))  # a bad one fails at load
        return self


class RepeatRule(_Strict):
    """Loop detection: the same tool with the same arguments more than ``max_same``
    times among the session's last ``window`` tool calls."""

    window: int = Field(default=6, ge=2, le=100)
    max_same: int = Field(default=3, ge=1)
    action: LimitAction = "block"

    @model_validator(mode="after")
    def _fits(self) -> RepeatRule:
        if self.max_same >= self.window:
            raise ValueError("repeat: 'max_same' must be smaller than 'window'")
        return self


class SequenceRule(_Strict):
    """Data flow: once a tool of ``after`` was called in a session, no tool of ``deny``."""

    after: list[str] = Field(min_length=1)
    deny: list[str] = Field(min_length=1)
    action: LimitAction = "block"


class ApprovalRule(_Strict):
    """Tool calls that need a person's yes; a yes lets the same call pass once in ``ttl``."""

    tools: list[str] = Field(min_length=1)
    ttl: float = Field(default=900, gt=0)


class AgentConfig(CheckConfig):
    """Policy entry of the ``agent`` check: listed under ``input:``, it governs both the
    request (step counting, offered tools) and the reply's tool calls."""

    check: Literal["agent"]
    #: Tool names or globs a reply may call (``None``: any not denied).
    tools_allowed: list[str] | None = None
    tools_denied: list[str] = Field(default_factory=list)
    #: Remove tools outside the allowlist from the request's offered ``tools``.
    filter_offered: bool = False
    #: What a denied tool call or a broken argument rule does to the reply: ``block`` it,
    #: ``warn`` (record only), or ``strip`` the offending tool call and let the rest pass
    #: (OpenAI chat and Responses, Anthropic messages; other APIs block instead).
    action: Literal["block", "warn", "strip"] = "block"
    arguments: list[ArgumentRule] = Field(default_factory=list)
    #: Model calls per session.
    max_steps: int | None = Field(default=None, ge=1)
    #: Tool calls the model may make per session.
    max_tool_calls: int | None = Field(default=None, ge=1)
    #: Seconds from a session's first call.
    max_session_seconds: float | None = Field(default=None, gt=0)
    repeat: RepeatRule | None = None
    sequences: list[SequenceRule] = Field(default_factory=list)
    approval: list[ApprovalRule] = Field(default_factory=list)
    #: A call that names no session: session limits are skipped (``allow``), recorded
    #: (``warn``) or the call is refused (``block``).
    on_missing_session: Literal["allow", "warn", "block"] = "allow"
    #: Seconds a session's counters live after they are created (the first-seen time
    #: lives this much longer than ``max_session_seconds``: a session past its time cap
    #: stays refused for that long rather than starting afresh).
    session_ttl: float = Field(default=86400.0, gt=0)
    #: Environment variable with the deployment's key for the audit's arguments hash
    #: (the same on every replica). Unset: a random key per process, so hashes compare
    #: only within one process.
    hash_key_env: str = Field(default="GUARDWIRE_AGENT_HASH_KEY", pattern=r"^[A-Z_][A-Z0-9_]*$")

    def state_ttl(self) -> float:
        """Seconds a session's counters live after they are created."""
        return self.session_ttl

    def approval_rule(self, name: str) -> tuple[str | None, float]:
        """The policy's pattern that makes tool ``name`` need approval, and its TTL."""
        for rule in self.approval:
            pattern = first_match(name, rule.tools)
            if pattern is not None:
                return pattern, rule.ttl
        return None, 0.0

    def tool_allowed(self, name: str) -> bool:
        """Whether a reply may call ``name`` by the allow and deny lists."""
        if matches(name, tuple(self.tools_denied)):
            return False
        return self.tools_allowed is None or matches(name, tuple(self.tools_allowed))


def matches(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether tool ``name`` matches one of the globs (case-sensitive, like tool names)."""
    return bool(patterns) and _glob(patterns).fullmatch(name) is not None


@lru_cache(maxsize=256)
def _glob(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


def first_match(name: str, patterns: list[str]) -> str | None:
    """The first of ``patterns`` that ``name`` matches (the rule shown in findings)."""
    for pattern in patterns:
        if matches(name, (pattern,)):
            return pattern
    return None


def policy_patterns(config: AgentConfig) -> tuple[str, ...]:
    """Every tool name or glob the entry mentions."""
    named = [*(config.tools_allowed or ()), *config.tools_denied]
    named += [rule.tool for rule in config.arguments]
    named += [tool for rule in config.sequences for tool in (*rule.after, *rule.deny)]
    named += [tool for rule in config.approval for tool in rule.tools]
    return tuple(named)


def policy_name(name: str, config: AgentConfig) -> str | None:
    """The policy's own spelling of a tool the model called (allowlist entry), if any."""
    return first_match(name, config.tools_allowed or [])


#: What to do about each finding kind, as one sentence (no user text).
ADVICE = {
    "agent.tool_denied": "the reply called a tool the policy does not allow",
    "agent.arguments": "a tool call's arguments break an argument rule",
    "agent.step_cap": "the agent session used up its steps; start a new session",
    "agent.time_cap": "the agent session ran past its time limit; start a new session",
    "agent.loop": "the agent repeated the same tool call with the same arguments",
    "agent.sequence": "the policy does not allow this tool after one used earlier in the session",
    "agent.missing_session": "name the agent session (header x-guardwire-session)",
    "agent.approval_required": "this tool call needs a person's approval",
}
#: Error codes that are not ``agent_<kind>``.
CODES = {"agent.approval_required": "approval_required"}

#: HTTP status of every agent refusal: not a 429, which SDKs retry (a retry only spends
#: another step); the code ``agent_<kind>`` says which limit.
REFUSAL_STATUS = 403


def refusal(
    check: str, shadow: bool, findings: list[Finding], action: Action, waiting: Sequence[str] = ()
) -> Verdict:
    """The verdict of ``findings``: a value-free reason naming the policy's rules, the
    403 status and the ``agent_<kind>`` code (``approval_required`` with its ids)."""
    deciding = [f for f in findings if f.action is action]
    first = deciding[0]
    rules = sorted({f.rule for f in deciding if f.rule != "other"})
    named = f" ({', '.join(repr(r) for r in rules)})" if rules else ""
    reason = f"check '{check}'{named}: {ADVICE[first.kind]}"
    if first.kind == "agent.approval_required":
        reason += (
            f": approval id {', '.join(waiting)} (guardwire approve ID), then repeat the call"
            if waiting
            else ", which needs a named session (header x-guardwire-session)"
        )
    return Verdict(
        check,
        action,
        findings=tuple(findings),
        reason=reason if action >= Action.REDACT else "",
        shadow=shadow,
        status=REFUSAL_STATUS,
        code=CODES.get(first.kind, first.kind.replace(".", "_")),
    )
