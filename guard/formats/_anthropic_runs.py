"""Which events of an Anthropic messages stream continue, wait behind or end a run of
text blocks (consecutive text blocks read as one text: :mod:`._stream_runs`).

A text block that opens empty starts a run, or joins the run of the text block just
before it; its ``text_delta`` text feeds the run's channel. Its ``content_block_stop``
ends its part. While an ended part still holds text back, a ``ping`` or another delta of
the open block (a citation) waits behind it; any other event (a thinking or tool_use
block, ``message_delta``) ends the run first. So thinking and tool input are never read
as part of the text, as in a complete reply (:mod:`guard.checks._text_parts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guard.formats._stream_runs import Run, TextRuns
from guard.formats.sse import Event


class AnthropicTextRuns(TextRuns):
    """The Anthropic stream filter's routing of events to runs of text blocks."""

    _kinds: dict[int, str]

    if TYPE_CHECKING:  # the stream filter's

        def _delta(self, event: Event, payload: dict[str, Any], out: list[bytes]) -> None: ...

    def _in_run(
        self, run: Run, event: Event, payload: dict[str, Any] | None, kind: Any, out: list[bytes]
    ) -> bool:
        """Route an event while consecutive text blocks may form one text (see
        :mod:`._stream_runs`); True if handled here. A text block that starts right after
        a text block continues it; a stop ends the open block's part; a ping or another
        delta of the open block waits behind a part still holding text; anything else
        ends the run, releasing all it held, before it is handled as usual."""
        index = payload.get("index") if payload is not None else None
        open_part = run.open_part
        if open_part is not None and open_part.key == ("block", index):
            if kind == "content_block_stop":
                self.end_part(run, event, payload, out)
                return True
            if kind == "content_block_delta":
                delta = payload.get("delta") if payload is not None else None
                if isinstance(delta, dict) and delta.get("type") == "text_delta":
                    return False
                return self.hold_in_run(run, event, payload)
        elif kind == "content_block_start" and open_part is None and isinstance(index, int):
            block = payload.get("content_block") if payload is not None else None
            if isinstance(block, dict) and block.get("type") == "text" and not block.get("text"):
                self._kinds[index] = "text"
                self.join_run(run, ("block", index), event, payload, out)
                return True
        elif kind == "ping" or event.event == "ping":
            return self.hold_in_run(run, event, payload)
        self.end_run(run, out)
        return False

    def send_held(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """A delta held behind a text block (a citation) is checked as it goes out."""
        if payload is not None and payload.get("type") == "content_block_delta":
            self._delta(event, payload, out)
        else:
            self.send_raw(event, payload, out)
