"""What a stream released in clear that the complete reply redacts.

The invariant of a progressive stream (``stream: progressive``): nothing the complete
reply's redaction removes is ever released in clear by the stream. A stream may redact
more than the complete reply, or end early with an error event, but what it released
before that must hold no character the complete reply redacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from guard import Action, Guard
from guard.checks.base import TextCheck
from guard.engine import text_call
from guard.streaming import apply_edits
from guard.types import Edit, Finding


@dataclass(frozen=True)
class Streamed:
    """One text streamed through a guard, next to its complete reply's redaction."""

    text: str
    #: The chunks the stream released, in order.
    chunks: list[str]
    #: The stream's findings and whether it ended with an error (blocked).
    findings: list[Finding]
    blocked: bool
    #: The complete reply's findings and redacted text.
    complete_findings: list[Finding]
    complete_text: str

    @property
    def released(self) -> str:
        return "".join(self.chunks)

    def overflowed(self) -> bool:
        """The stream ended because a pending entity outgrew its hold-back."""
        return any(f.kind == "holdback_overflow" for f in self.findings)

    def leaked(self, guard: Guard) -> list[tuple[int, str]]:
        """Characters (position, character) the complete reply redacts that the stream
        released in clear; empty when none."""
        released_up_to = self._released_up_to(guard)
        covered = _redacted(self.findings)
        return [
            (position, self.text[position])
            for position in sorted(_redacted(self.complete_findings))
            if position < released_up_to and position not in covered
        ]

    def _released_up_to(self, guard: Guard) -> int:
        """How much of the text the released chunks stand for: they must be the text
        with the stream's own redactions applied, cut at an edit's edge."""
        checks = {c.name: c for c in guard.output_checks if isinstance(c, TextCheck)}
        edits = [
            Edit(0, f.start, f.end, checks[f.check].replacement(f))
            for f in self.findings
            if f.action is Action.REDACT
        ]
        out, position = self.released, 0
        consumed = 0
        for _, end, rendered in _pieces(self.text, edits):
            if not out.startswith(rendered, consumed):
                break
            consumed += len(rendered)
            position = end
        assert consumed == len(out), (
            f"the stream released text that is not the text with its own redactions "
            f"applied: {out[consumed : consumed + 40]!r}"
        )
        if not self.blocked:
            assert position == len(self.text), "a stream that did not block released all"
        return position


def _pieces(text: str, edits: list[Edit]) -> Iterator[tuple[int, int, str]]:
    """``text`` as (start, end, rendered) pieces: one per character outside the edits,
    one per (merged) edit, rendered as :func:`apply_edits` renders it."""
    merged = sorted(edits, key=lambda e: (e.start, -e.end))
    position = 0
    index = 0
    while position < len(text):
        if index < len(merged) and merged[index].start <= position:
            edit = merged[index]
            end = edit.end
            index += 1
            while index < len(merged) and merged[index].start < end:
                end = max(end, merged[index].end)
                index += 1
            if end > position:
                yield position, end, apply_edits(text[position:end], _shifted(edits, position, end))
                position = end
            continue
        yield position, position + 1, text[position]
        position += 1


def _shifted(edits: list[Edit], start: int, end: int) -> list[Edit]:
    return [
        Edit(0, max(e.start, start) - start, min(e.end, end) - start, e.replacement)
        for e in edits
        if e.start < end and e.end > start
    ]


def _redacted(findings: Iterable[Finding]) -> set[int]:
    return {
        position
        for f in findings
        if f.action is Action.REDACT
        for position in range(f.start, f.end)
    }


def stream(guard: Guard, text: str, sizes: Iterable[int]) -> Streamed:
    """Stream ``text`` through ``guard``'s output checks in deltas of ``sizes`` (cycled
    as needed) and check the complete reply."""
    complete = guard.check_output(text)
    session = guard.stream(text_call("q"))
    chunks: list[str] = []
    fed = 0
    for size in _cycle(sizes):
        if fed >= len(text):
            break
        chunks.append(session.feed("t", text[fed : fed + size]))
        fed += size
    chunks.append(session.flush("t"))
    decision = session.close()
    return Streamed(
        text,
        chunks,
        list(decision.findings),
        decision.action is Action.BLOCK,
        list(complete.findings),
        complete.text if complete.text is not None else text,
    )


def _cycle(sizes: Iterable[int]) -> Iterator[int]:
    pool = list(sizes)
    assert pool and all(size > 0 for size in pool)
    while True:
        yield from pool
