"""The ``injection`` check: scored prompt-injection detection over every role and kind.

Direct injections arrive in user messages; indirect ones in retrieved context, tool
results and documents pasted anywhere in the conversation — so by default every
segment is scanned (``scan`` narrows it to roles and kinds). Each segment gets findings
``injection.<family>`` (override, role_hijack, prompt_leak, hidden_instruction, encoded,
delimiter) with a score in [0, 1]; a finding at or above ``threshold`` takes the
check's ``action``, the others are reported as ``allow`` evidence so a caller of
``Guard.check_input`` can pick its own operating point. The score
(:mod:`guard.checks._injection_score`) is the higher of a learned model's probability
(:mod:`guard.checks._injection_model`, weights trained by ``scripts/train_injection.py``)
and the phrasing grammar's (:mod:`guard.checks._injection_signals`), which also names
the family and the span.

Agents resend their whole history on every call. Findings are cached per segment by a
digest of its text (:mod:`guard.checks._findings_cache`, a bounded LRU), so a re-sent
history costs one digest per message and only the new message is scanned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from pydantic import Field

from guard.checks._findings_cache import FindingsCache
from guard.checks._injection_grammar_set import warm
from guard.checks._injection_model import shipped_model
from guard.checks._injection_score import score_text
from guard.checks._injection_signals import FAMILIES
from guard.checks.base import CheckConfig, CheckContext, TextCheck, verdict_from
from guard.types import Action, Call, Finding, Segment, Verdict

#: Roles (for conversation messages) and kinds (for everything else) ``scan`` accepts.
ScanKey = Literal[
    "user",
    "assistant",
    "system",
    "developer",
    "tool",
    "context",
    "tool_result",
    "tool_arguments",
    "tool_definition",
    "metadata",
    "reasoning",
]
SCAN_KEYS: tuple[str, ...] = get_args(ScanKey)
_ACTIONS = {"block": Action.BLOCK, "warn": Action.WARN}
#: Segments remembered by the verdict cache (per check).
CACHE_SIZE = 4096


class InjectionConfig(CheckConfig):
    """Policy entry of the ``injection`` check."""

    check: Literal["injection"]
    action: Literal["block", "warn"] = "block"
    #: Score at or above which a finding is an injection.
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Roles and kinds scanned; default all of them.
    scan: list[ScanKey] | None = Field(default=None, min_length=1)


def scan_key(segment: Segment) -> str:
    """The ``scan`` name of a segment: its role for conversation text, else its kind."""
    if segment.kind == "message":
        return "tool" if segment.role == "tool" else segment.role
    return segment.kind


class InjectionCheck(TextCheck):
    """Scores every scanned segment for prompt injection."""

    #: A stream window keeps this much released text, so a phrase cut by a chunk
    #: boundary is still read whole.
    lookbehind = 400
    #: Always set (the base class leaves it optional).
    findings_cache: FindingsCache

    def __init__(self, config: InjectionConfig) -> None:
        self.name = config.name or "injection"
        self.shadow = config.mode == "shadow"
        self.threshold = config.threshold
        self.action = _ACTIONS[config.action]
        self.scan_keys = frozenset(config.scan) if config.scan is not None else None
        self.findings_cache = FindingsCache(CACHE_SIZE)
        # Compile the grammar and read the model now (a proxy builds its checks at
        # start-up), not on the first request; importing guard pays neither.
        warm()
        shipped_model()

    def scan(self, text: str) -> list[Finding]:
        """Findings with spans in ``text``, one per family, each with its score."""
        findings = []
        for hit in score_text(text):
            action = self.action if hit.score >= self.threshold else Action.ALLOW
            findings.append(
                Finding(
                    check=self.name,
                    kind=f"injection.{hit.family}",
                    start=hit.start,
                    end=hit.end,
                    score=round(hit.score, 4),
                    action=action,
                    rule=hit.rule,
                )
            )
        return findings

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        """Scan the call's segments, then its context passages (the ``guardwire``
        extension's retrieved text), numbered after the segments."""
        passages = [Segment(p.text, None, "user", "context") for p in call.context]
        return self.check_segments([*ctx.segments, *passages])

    #: Findings are counted in ``guardwire_injection_findings_total`` (guard.telemetry).
    metric_counter = "injection_findings"

    def metric_labels(self, finding: Finding) -> tuple[str, str]:
        """``family`` and ``action`` label values of a finding (closed sets)."""
        return finding.kind.removeprefix("injection."), finding.action.label

    def _scanned(self, segment: Segment) -> bool:
        return self.scan_keys is None or scan_key(segment) in self.scan_keys

    def check_segments(self, segments: Sequence[Segment]) -> Verdict:
        """Scan each segment ``scan`` selects (cached); the strongest finding decides."""
        findings: list[Finding] = []
        action = Action.ALLOW
        for number, segment in enumerate(segments):
            if not segment.text or not self._scanned(segment):
                continue
            for found in self.findings_cache.findings(segment.text, self.scan):
                findings.append(_in_segment(found, number))
                action = max(action, found.action)
        return verdict_from(self.name, action, findings, shadow=self.shadow)


def _in_segment(found: Finding, segment: int) -> Finding:
    return Finding(
        found.check,
        found.kind,
        segment,
        found.start,
        found.end,
        found.score,
        found.action,
        found.rule,
    )


__all__ = ["FAMILIES", "SCAN_KEYS", "InjectionCheck", "InjectionConfig", "scan_key"]
