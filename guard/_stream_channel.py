"""The text a stream session keeps per channel, and the edits it applies to released text.

A channel is one text stream of a reply (a choice's text, a tool call's arguments). The
session (:class:`~guard.streaming.StreamSession`) keeps of it only the window the checks
see: the text not released yet and up to ``lookbehind`` released characters before it,
forgotten in batches. Findings are placed by their position in the whole stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from guard.checks.base import StreamWindow
from guard.types import Edit, Finding

#: Released characters beyond ``lookbehind`` a window keeps before it drops them.
FORGET_BATCH = 64


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (the earliest-starting wins an overlap)."""
    if not edits:
        return text
    out: list[str] = []
    position = 0
    for edit in _merged(edits):
        out.append(text[position : edit.start])
        out.append(edit.replacement)
        position = edit.end
    out.append(text[position:])
    return "".join(out)


def split_released(text: str, edits: list[Edit], ends: list[int]) -> list[str]:
    """``text`` (released text of a stream whose parts end at ``ends``, positions in
    ``text``) with ``edits`` applied, cut into one piece per part: an edit that runs over
    a part's end is replaced in the part where it starts, and the rest of its text is
    removed from the parts it runs into (as a complete reply's parts are redacted:
    guard.checks._text_parts)."""
    merged = _merged(edits) if edits else []
    pieces: list[str] = []
    for start, end in pairwise([0, *ends, len(text)]):
        local = [
            Edit(e.segment, max(e.start, start) - start, min(e.end, end) - start,
                 e.replacement if e.start >= start else "")
            for e in merged
            if e.start < end and (e.end > start or e.start == e.end >= start)
        ]  # fmt: skip
        pieces.append(apply_edits(text[start:end], local))
    return pieces


def _merged(edits: list[Edit]) -> list[Edit]:
    """``edits`` in order, overlapping ones merged (the earliest-starting's replacement)."""
    kept: list[Edit] = []
    last_end = -1
    for edit in sorted(edits, key=lambda e: (e.start, -e.end)):
        if edit.start >= last_end:
            kept.append(edit)
            last_end = edit.end
        elif edit.end > last_end and kept:
            # Overlapping redactions merge into one covering both spans.
            previous = kept[-1]
            kept[-1] = Edit(previous.segment, previous.start, edit.end, previous.replacement)
            last_end = edit.end
    return kept


@dataclass(slots=True)
class Channel:
    """Per text stream (a choice's text, a tool call's arguments): what checks see.

    Released text is not kept here (the stream filter's assembly has the reply): a 30 MB
    streamed reply must not cost the session another copy in small strings.
    """

    window: StreamWindow = field(default_factory=StreamWindow)
    #: Original position of ``window.text[0]`` in the whole stream (absolute spans).
    start: int = 0
    #: Where the parts of a stream read across parts end (absolute positions; those not
    #: released yet): consecutive text blocks of one message share a channel.
    ends: list[int] = field(default_factory=list)

    def released_up_to(self, cut: int, lookbehind: int) -> None:
        """Mark the window's text up to ``cut`` released. Keep ``lookbehind`` released
        characters as context for the next delta; forget the rest in batches (slicing
        the window on every delta cost ~8%)."""
        window = self.window
        forget = cut - lookbehind
        window.released = cut
        if forget >= FORGET_BATCH:
            forget = min(forget, folded_context_start(window, cut, lookbehind))
        if forget >= FORGET_BATCH:
            window.forget(forget)
            self.start += forget


def shift_finding(finding: Finding, by: int) -> Finding:
    """``finding`` with its span moved by ``by`` characters."""
    return Finding(
        finding.check,
        finding.kind,
        finding.segment,
        finding.start + by,
        finding.end + by,
        finding.score,
        finding.action,
        finding.rule,
    )


def folded_context_start(window: StreamWindow, cut: int, lookbehind: int) -> int:
    """The original position from which ``window`` keeps ``lookbehind`` folded
    characters before ``cut`` (checks match folded text; invisible characters dropped
    by folding must not eat the context: core-review D5)."""
    folded = window.folded()
    keep = folded.position(cut) - lookbehind
    if keep <= 0:
        return 0
    return folded.span(keep, keep + 1)[0]
