"""Text a model reads as one, sent in several parts: a message's content parts.

A chat message's ``content`` list, an Anthropic message's text blocks, a tool result's
blocks and a Responses ``input_text`` list are separate segments (each edit must land in
its own JSON string), but the model reads them one after the other. A secret, a card
number or a denied phrase cut across two parts is whole to the model and to no
segment. :func:`part_runs` finds such runs; :func:`crossing` lists the findings of a run's
joined text that no single part holds, each split into the pieces that fall in each part.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from guard.types import Edit, Finding, Segment

#: Segment kinds whose parts are read as running text (tool arguments are separate JSON
#: values; passages are separate documents).
_RUNNING = frozenset({"message", "system", "tool_result", "reasoning"})
_INDEX = operator.attrgetter("index")


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive segments read as one text: their numbers and where each starts."""

    numbers: tuple[int, ...]
    starts: tuple[int, ...]
    text: str


def _next_part(before: Segment, after: Segment) -> bool:
    """Whether ``after`` is the next content part of the text ``before`` is part of:
    the same message, role and kind, at a path that differs in one list position."""
    if (
        before.index != after.index
        or before.kind != after.kind
        or before.role != after.role
        or before.kind not in _RUNNING
        or before.path is None
        or after.path is None
        or len(before.path) != len(after.path)
    ):
        return False
    differing = [(a, b) for a, b in zip(before.path, after.path, strict=True) if a != b]
    return len(differing) == 1 and all(isinstance(p, int) for p in differing[0])


def part_runs(segments: Sequence[Segment]) -> list[Run]:
    """The runs of two or more non-empty parts of one text, in order (usually none)."""
    if len(set(map(_INDEX, segments))) == len(segments):
        return []  # one segment per message (the common case): no run, at C speed
    runs: list[Run] = []
    current: list[int] = []
    for number, segment in enumerate(segments):
        if not segment.text:
            continue  # an empty part holds nothing, and cuts no text in two
        if current and _next_part(segments[current[-1]], segment):
            current.append(number)
            continue
        if len(current) > 1:
            runs.append(_run(segments, current))
        current = [number]
    if len(current) > 1:
        runs.append(_run(segments, current))
    return runs


def _run(segments: Sequence[Segment], numbers: list[int]) -> Run:
    starts, position = [], 0
    for number in numbers:
        starts.append(position)
        position += len(segments[number].text)
    return Run(tuple(numbers), tuple(starts), "".join(segments[n].text for n in numbers))


def crossing(
    run: Run, findings: Sequence[Finding], replacement: Callable[[Finding], str]
) -> list[tuple[Finding, list[Edit]]]:
    """The findings (spans in ``run.text``) that cross a boundary between parts: each is
    reported once, in the part where it starts, with the edits that redact it as one (its
    replacement in that part, the rest of its text removed from the parts it runs into)."""
    out: list[tuple[Finding, list[Edit]]] = []
    bounds = [*run.starts[1:], len(run.text)]
    for finding in findings:
        pieces = [
            (number, max(finding.start, start) - start, min(finding.end, end) - start)
            for number, start, end in zip(run.numbers, run.starts, bounds, strict=True)
            if finding.start < end and finding.end > start
        ]
        if len(pieces) < 2:
            continue  # inside one part: that part's own scan found it
        number, start, end = pieces[0]
        text = replacement(finding)
        edits = [Edit(n, s, e, text if i == 0 else "") for i, (n, s, e) in enumerate(pieces)]
        out.append((dataclasses.replace(finding, segment=number, start=start, end=end), edits))
    return out
