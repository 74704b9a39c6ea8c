"""The check interface, and the shared machinery for checks that scan text.

A check is a small object built once from its policy entry. ``input`` and ``output``
return one :class:`~guard.types.Verdict` per stage. Checks over text are synchronous
and CPU-bound; a check that needs I/O implements the async variants instead (the engine
awaits them from its async entry points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from guard.normalize import FoldedText
from guard.types import Action, Call, Edit, Finding, Reply, Segment, Stage, Verdict


class CheckConfig(BaseModel):
    """Fields every check entry of a policy has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Name shown in errors, metrics and the audit log; defaults to the check type.
    name: str | None = None
    #: ``shadow`` records this check's verdicts without ever changing traffic.
    mode: Literal["enforce", "shadow"] = "enforce"


@dataclass(slots=True)
class CheckContext:
    """Per-call, per-stage state a check may use.

    ``segments`` is the text as this check must see it: the call's (input) or the
    reply's (output) segments with the redactions of earlier checks applied.
    """

    stage: Stage
    policy: str
    segments: list[Segment]
    request_id: str = ""
    cache: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Check(Protocol):
    """One rule family configured from the policy."""

    name: str
    shadow: bool

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        """Decide on the request before it leaves."""
        ...

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        """Decide on the reply before anyone relies on it."""
        ...


@dataclass(slots=True)
class StreamWindow:
    """One streamed text as checks see it on each delta: the last ``released``
    characters already sent (kept as context), then the text not released yet."""

    text: str = ""
    released: int = 0
    #: The stream ended: nothing more will come, so nothing is held back.
    final: bool = False
    _folded: FoldedText = field(default_factory=FoldedText)

    def folded(self) -> FoldedText:
        """``text`` folded for matching, each character folded once per stream."""
        folded = self._folded
        if folded.original_length < len(self.text):
            folded.append(self.text[folded.original_length :])
        return folded

    def forget(self, count: int) -> None:
        """Drop the first ``count`` characters (released text no longer needed)."""
        self.text = self.text[count:]
        self.released -= count
        if self._folded.original_length >= count:
            self._folded.drop(count)
        else:
            self._folded = FoldedText()


class TextCheck:
    """Base for checks that find spans in text and block, redact or warn on them.

    Subclasses implement :meth:`scan` (findings with spans in the given text) and
    :meth:`replacement`. Streaming rescans a sliding window with :meth:`scan`, so a
    subclass also says how much trailing text a pending match could still extend
    (:meth:`holdback`) and how far back a match may start (``lookbehind``); or it
    overrides :meth:`scan_window` to scan only the text not released yet.
    """

    name: str = "text"
    shadow: bool = False
    #: Characters of already-released text kept before new chunks: rescanned by the
    #: default :meth:`scan_window`, so that a match spanning the boundary is still seen,
    #: and context (word boundaries, look-behind) for an override.
    lookbehind: int = 0

    def scan(self, text: str) -> list[Finding]:
        """Return findings (``segment`` unset) with spans in ``text``."""
        raise NotImplementedError

    def replacement(self, finding: Finding) -> str:
        """Text that replaces a redacted finding."""
        return f"[{finding.kind.upper()}]"

    def holdback(self, text: str) -> int:
        """How many trailing characters of ``text`` a pending match could still extend."""
        return 0

    def scan_window(self, window: StreamWindow) -> tuple[list[Finding], int]:
        """Findings that end in the unreleased text of ``window`` (spans in
        ``window.text``), and how many trailing characters to hold back.

        The default rescans the whole window. The session never releases part of a
        finding (it holds back from the finding's start), so an override may look only
        for matches that start in the unreleased text, as long as its hold-back kept
        every place where a match could still start unreleased.
        """
        found = [f for f in self.scan(window.text) if f.end > window.released]
        return found, 0 if window.final else self.holdback(window.text)

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return self.check_segments(ctx.segments)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return self.check_segments(ctx.segments)

    def check_segments(self, segments: Sequence[Segment]) -> Verdict:
        """Scan each segment; the strictest finding decides; redactions become edits."""
        findings: list[Finding] = []
        edits: list[Edit] = []
        action = Action.ALLOW
        for number, segment in enumerate(segments):
            if not segment.text:
                continue
            for found in self.scan(segment.text):
                found = _in_segment(found, number)
                findings.append(found)
                action = max(action, found.action)
                if found.action is Action.REDACT:
                    edits.append(Edit(number, found.start, found.end, self.replacement(found)))
        return verdict_from(self.name, action, findings, edits, shadow=self.shadow)


def _in_segment(found: Finding, segment: int) -> Finding:
    return Finding(
        check=found.check,
        kind=found.kind,
        segment=segment,
        start=found.start,
        end=found.end,
        score=found.score,
        action=found.action,
        rule=found.rule,
    )


def verdict_from(
    check: str,
    action: Action,
    findings: Sequence[Finding],
    edits: Sequence[Edit] = (),
    *,
    shadow: bool = False,
) -> Verdict:
    """Build a verdict whose reason names the rules behind the decisive action."""
    rules = sorted({f.rule or f.kind for f in findings if f.action == action})
    reason = ""
    if action >= Action.REDACT and rules:
        reason = f"check '{check}' ({', '.join(repr(r) for r in rules)})"
    return Verdict(
        check=check,
        action=action,
        findings=tuple(findings),
        edits=tuple(edits) if action >= Action.REDACT else (),
        reason=reason,
        shadow=shadow,
    )
