"""Which events of a Responses API stream continue, wait behind or end a run of
``output_text`` parts (the parts of one message read as one text: :mod:`._stream_runs`).

A message's ``output_text`` part that opens empty (``response.content_part.added``)
starts a run, or joins the run of the part just before it in the same message (the next
``content_index``); its ``response.output_text.delta`` text feeds the run's channel and
its ``response.output_text.done`` ends its part (text that event has beyond the deltas is
fed first). While an ended part still holds text back, the events of the run's parts
(``content_part.done``, annotations) wait behind it and are rewritten from what the
client was sent when they go out; any other event (the message's ``output_item.done``,
another item, the terminal event) ends the run first. Refusals, reasoning and tool input
are never part of a run, as in a complete reply (:mod:`guard.checks._text_parts`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from guard.formats._responses_items import ANNOTATION_ADDED, part_key, stream_key
from guard.formats._stream_runs import Run, TextRuns
from guard.formats.sse import Event

_TEXT_EVENTS = ("response.output_text.delta", "response.output_text.done", ANNOTATION_ADDED)


class ResponsesTextRuns(TextRuns):
    """The Responses stream filter's routing of events to runs of ``output_text`` parts."""

    if TYPE_CHECKING:  # the stream filter's

        def forward_event(
            self, event: Event, payload: dict[str, Any], kind: str, out: list[bytes]
        ) -> None: ...

        def _catch_up(self, key: Hashable, whole: Any, final: bool, out: list[bytes]) -> None: ...

    def forward(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Route one event through the open run (if any), then re-emit it
        (:meth:`forward_event`)."""
        kind = payload.get("type") if payload is not None else None
        if payload is None or not isinstance(kind, str):
            self.send_raw(event, payload, out)
            return
        runs = self._runs
        run = runs.current if runs is not None else None
        # (The open part's deltas go on as usual unless an earlier part holds text back.)
        routed = run is not None and (run.waiting or kind != "response.output_text.delta")
        if routed and self._in_run(run, event, payload, kind, out):  # type: ignore[arg-type]
            return
        if kind == "response.content_part.added" and self.current_run() is None:
            self.start_text_part(payload)
        self.forward_event(event, payload, kind, out)

    def start_text_part(self, payload: dict[str, Any]) -> None:
        """A ``content_part.added`` of an empty ``output_text`` part, no run open: its
        text starts a run."""
        found = part_key(payload)
        key: Any = found[0] if found is not None else None
        empty = key is not None and not payload["part"].get("text")
        if self.session is not None and empty and key[0] == "text":
            self.start_run(key)

    def _in_run(
        self, run: Run, event: Event, payload: dict[str, Any], kind: str, out: list[bytes]
    ) -> bool:
        """Route an event while a run is open (see the module doc); True if handled."""
        key: Hashable | None = None
        if kind in _TEXT_EVENTS:
            key = stream_key("text", payload)
        elif kind in ("response.content_part.added", "response.content_part.done"):
            found = part_key(payload)
            key = found[0] if found is not None else None
        open_part = run.open_part
        if open_part is not None and key == open_part.key:
            if kind == "response.output_text.delta":
                return False
            if kind == "response.output_text.done":
                self._catch_up(key, payload.get("text"), False, out)
                self.end_part(run, event, payload, out)
                return True
            return self.hold_in_run(run, event, payload)
        if key is not None and _member(run.last, key):
            # An event of a part the run already had: behind the text still held.
            return self.hold_in_run(run, event, payload)
        if (
            kind == "response.content_part.added"
            and open_part is None
            and key is not None
            and _next_part(run.last, key)
            and not payload["part"].get("text")
        ):
            self.join_run(run, key, event, payload, out)
            return True
        self.end_run(run, out)
        return False

    def send_held(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """A held event goes out rewritten from what the client was sent."""
        kind = payload.get("type") if payload is not None else None
        if payload is None or not isinstance(kind, str):
            self.send_raw(event, payload, out)
        else:
            self.forward_event(event, payload, kind, out)


def _member(last: Hashable, key: Hashable) -> bool:
    """Whether ``key`` is a part up to ``last`` of the same message (``("text", item, j)``)."""
    return (
        isinstance(last, tuple)
        and isinstance(key, tuple)
        and key[:2] == last[:2]
        and isinstance(key[2], int)
        and key[2] <= last[2]
    )


def _next_part(last: Hashable, key: Hashable) -> bool:
    """Whether ``key`` is the ``output_text`` part right after ``last`` in its message."""
    return (
        isinstance(last, tuple)
        and isinstance(key, tuple)
        and key[0] == "text"
        and key[:2] == last[:2]
        and key[2] == last[2] + 1
    )
