"""The seam between the generic SSE stream filter (:class:`~guard.formats._stream.EventFilter`)
and one API: what the API's wire format and assembly provide (:class:`StreamingFormat`,
:class:`Assembly`), and the hooks its stream filter implements (:class:`FormatHooks`,
with the defaults of an API that has no terminal event and no tool-call events).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Protocol

from guard.formats._envelope import TextDelta
from guard.formats._tool_gate import NOTHING, ToolEvent, ToolGate
from guard.formats.base import WireFormat
from guard.formats.sse import Event
from guard.types import Reply


class StreamingFormat(WireFormat, Protocol):
    """A wire format that can turn an assembled response object into a reply."""

    def reply_from_raw(self, raw: dict[str, Any]) -> Reply:
        """The reply of a complete (non-stream) response object, with write-back paths."""
        ...


class Assembly(Protocol):
    """Collects stream events into the API's complete (non-stream) response object."""

    def add(self, payload: dict[str, Any]) -> None:
        """Take one event's JSON payload."""
        ...

    def build(self) -> dict[str, Any]:
        """The response object the events so far add up to."""
        ...

    def add_text(self, key: Hashable, text: str) -> None:
        """Take the text of a plain text delta of stream ``key`` (one added before)."""
        ...


class FormatHooks:
    """What an API's stream filter implements (the base class's other methods call
    these); a tool-call mixin (:mod:`guard.formats._tool_events`) provides the last
    three."""

    def forward(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Progressive mode: send ``event`` on, its text replaced by the released text."""
        raise NotImplementedError

    def is_error(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """True for the upstream's own mid-stream error event."""
        raise NotImplementedError

    def flush_event(self, key: Hashable, text: str) -> tuple[dict[str, Any], str | None]:
        """A delta event (payload, SSE event name) carrying flushed text of ``key``."""
        raise NotImplementedError

    #: Whether the format's streams end with a terminal event (:meth:`is_terminal`); a
    #: stream that ends without it was cut short.
    has_terminal = False

    def is_terminal(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """True for the event that ends a complete stream."""
        return False

    def finish_terminal(self, event: Event) -> None:
        """The held terminal event is about to be decided on, every tool call decided:
        a format whose terminal event repeats the reply rewrites ``event.raw`` now."""

    def text_delta(self, event: Event, payload: dict[str, Any]) -> TextDelta | None:
        """If ``event`` carries nothing but text of one stream, and ``forward`` would send
        it as :meth:`forward_text` does: what it carries. (Enables envelopes.)"""
        return None

    #: Whether the format reads tool-call events (:meth:`tool_event`).
    gates_tool_calls = False

    def tool_event(self, event: Event, payload: dict[str, Any], gate: ToolGate) -> ToolEvent:
        """Which tool call ``event`` belongs to and which it completes (see
        :mod:`guard.formats._tool_gate`)."""
        return NOTHING

    def renumber(
        self, event: Event, payload: dict[str, Any], gate: ToolGate
    ) -> tuple[Event, dict[str, Any]]:
        """``event`` with the indices that follow removed tool calls made dense."""
        return event, payload
