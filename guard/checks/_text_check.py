"""Text checks: the base of checks that find spans in text (rules, PII, injection),
and how they see a streamed text.

A :class:`TextCheck` implements :meth:`~TextCheck.scan` (findings with spans) and a
replacement for redactions; the base runs it over every segment of a call or reply and
builds the verdict. In progressive streams the session (:mod:`guard.streaming`) shows a
text check a :class:`StreamWindow` on each delta and releases what no pending match can
still reach. Re-exported by :mod:`guard.checks.base`, where checks import them from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from guard.checks._findings_cache import FindingsCache
from guard.checks._text_parts import crossing, part_runs
from guard.normalize import FoldedText
from guard.types import Action, Call, Edit, Finding, Reply, Segment, Verdict

if TYPE_CHECKING:
    from guard.checks.base import CheckContext


@dataclass(slots=True)
class StreamWindow:
    """One streamed text as checks see it on each delta: the last ``released``
    characters already sent (kept as context), then the text not released yet."""

    text: str = ""
    released: int = 0
    #: The stream ended: nothing more will come, so nothing is held back.
    final: bool = False
    #: What a check keeps for this stream only, by check name (gone with the stream).
    memo: dict[str, Any] = field(default_factory=dict)
    #: Characters dropped from the start so far (:meth:`forget`): ``text[0]``'s position
    #: in the whole stream.
    dropped: int = 0
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
        self.dropped += count
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
    #: Folded characters (see guard.normalize) of already-released text kept before new
    #: chunks — folded, because padding such as zero-width characters is not: rescanned by the
    #: default :meth:`scan_window`, so that a match spanning the boundary is still seen,
    #: and context (word boundaries, look-behind) for an override.
    lookbehind: int = 0
    #: Set by a subclass whose findings depend only on the text: :meth:`check_segments`
    #: then scans each distinct text once (a re-sent history costs a digest per message).
    findings_cache: FindingsCache | None = None

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
            cache = self.findings_cache
            scanned = (
                self.scan(segment.text)
                if cache is None
                else cache.findings(segment.text, self.scan)
            )
            for found in scanned:
                found = dataclasses.replace(found, segment=number)
                findings.append(found)
                action = max(action, found.action)
                if found.action is Action.REDACT:
                    edits.append(Edit(number, found.start, found.end, self.replacement(found)))
        # What a message's content parts hold only together (rare: runs of parts only).
        for run in part_runs(segments) if len(segments) > 1 else ():
            for found, redactions in crossing(run, self.scan(run.text), self.replacement):
                findings.append(found)
                action = max(action, found.action)
                if found.action is Action.REDACT:
                    edits.extend(redactions)
        return verdict_from(self.name, action, findings, edits, shadow=self.shadow)


def verdict_from(
    check: str,
    action: Action,
    findings: Sequence[Finding],
    edits: Sequence[Edit] = (),
    *,
    shadow: bool = False,
) -> Verdict:
    """Build a verdict whose reason names the rules behind the decisive action."""
    if not findings:  # the common case: nothing found
        return Verdict(check, action, shadow=shadow)
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
