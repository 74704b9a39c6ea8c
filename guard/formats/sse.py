"""Server-sent events: an incremental parser and an encoder.

The parser follows the WHATWG event-stream rules (any of ``\\r\\n``, ``\\r``, ``\\n`` ends a
line; a blank line dispatches; ``:`` starts a comment; several ``data:`` lines join with
``\\n``) and accepts bytes split anywhere, including inside a line ending or a multibyte
character. Each :class:`Event` keeps the exact bytes it was parsed from, so a filter can
forward an event it did not change byte-for-byte.

What the parser holds is bounded: an unfinished line over ``max_line`` bytes or an
unfinished event over ``max_event`` bytes raises :class:`~guard.errors.UpstreamTooLarge`
(an ``UpstreamError``), which stream filters turn into the API's error event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from guard.errors import UpstreamTooLarge
from guard.formats.base import dumps

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"
#: Default bounds: far above any real event, far below what would hurt the proxy's
#: memory. A line may be as long as an event: the Responses API repeats a reply's whole
#: text (and a tool call's whole arguments) in one ``data:`` line of its ``.done`` and
#: ``response.completed`` events, so a 1 MiB line cap refused replies over a mebibyte.
MAX_EVENT = 8 << 20
MAX_LINE = MAX_EVENT


@dataclass(slots=True)
class Event:
    """One block of the stream, up to and including the blank line that ended it.

    ``data`` is ``None`` for a block without ``data:`` lines (comments, keep-alives,
    stray blank lines): the spec dispatches nothing for it, but a proxy forwards it.
    """

    data: str | None
    #: The ``event:`` field, ``""`` when absent (the spec's default type ``message``).
    event: str = ""
    id: str | None = None
    raw: bytes = b""


class SSEParser:
    """Turns bytes, split anywhere, into complete :class:`Event` blocks."""

    __slots__ = (
        "_data", "_event", "_held", "_held_size", "_id", "_max_event", "_max_line",
        "_partial", "_partial_size", "_started",
    )  # fmt: skip

    def __init__(self, *, max_line: int = MAX_LINE, max_event: int = MAX_EVENT) -> None:
        self._max_line = max_line
        self._max_event = max_event
        #: Bytes received after the last complete line (an unfinished line).
        self._partial: list[bytes] = []
        self._partial_size = 0
        #: Raw bytes of complete lines of the event being read.
        self._held: list[bytes] = []
        self._held_size = 0
        self._data: list[bytes] = []
        self._event = ""
        self._id: str | None = None
        self._started = False

    def feed(self, chunk: bytes) -> list[Event]:
        """Parse ``chunk``; return the events it completed (often none or one)."""
        held_cr = bool(self._partial) and self._partial[-1].endswith(b"\r")
        if b"\n" not in chunk and b"\r" not in chunk and not held_cr:
            # No line ends: nothing can complete. Keeps byte-at-a-time input linear.
            if chunk:
                self._partial.append(chunk)
                self._partial_size += len(chunk)
                if self._partial_size > self._max_line:
                    raise self._too_large("a line", self._max_line)
            return []
        if self._partial:
            self._partial.append(chunk)
            chunk = b"".join(self._partial)
            self._partial.clear()
            self._partial_size = 0
        return self._lines(chunk, final=False)

    @staticmethod
    def _too_large(what: str, limit: int) -> UpstreamTooLarge:
        return UpstreamTooLarge(
            f"the upstream's event stream has {what} longer than {limit} bytes (the limit)"
        )

    def close(self) -> list[Event]:
        """The stream ended: complete what a held ``\\r`` left open; drop the rest.

        An event without its closing blank line is discarded, as the spec says.
        """
        buffer = b"".join(self._partial)
        self._partial.clear()
        self._partial_size = 0
        events = self._lines(buffer, final=True) if buffer else []
        self._held.clear()
        self._held_size = 0
        self._data.clear()
        return events

    def _lines(self, buffer: bytes, *, final: bool) -> list[Event]:
        if not self._started:
            self._started = True
            if buffer.startswith(_BOM):
                buffer = buffer[len(_BOM) :]
        if not self._held and buffer.endswith(b"\n\n") and b"\r" not in buffer:
            # The common case, one whole event per read as servers flush them: ~20%
            # faster than the line loop below (bench/streaming.py).
            end = buffer.find(b"\n\n")
            event = self._one_event(buffer, end) if end == len(buffer) - 2 else None
            if event is not None:
                return [event]
        events: list[Event] = []
        start = 0  # where the current line starts
        event_start = 0  # where the current event's bytes in ``buffer`` start
        for line, end in _split_lines(buffer, final):
            if line:
                self._field(line)
            else:
                raw = buffer[event_start:end]
                if self._held:
                    raw = b"".join(self._held) + raw
                    self._held.clear()
                    self._held_size = 0
                events.append(self._dispatch(raw))
                event_start = end
            start = end
        if start > event_start:
            self._held.append(buffer[event_start:start])
            self._held_size += start - event_start
            if self._held_size > self._max_event:
                raise self._too_large("an event", self._max_event)
        if start < len(buffer):
            self._partial.append(buffer[start:])
            self._partial_size = len(buffer) - start
            if self._partial_size > self._max_line:
                raise self._too_large("a line", self._max_line)
        return events

    def _one_event(self, buffer: bytes, end: int) -> Event | None:
        """``buffer`` if it is one event of the usual shape (``data: ...`` or ``event:
        ...`` then ``data: ...``, ending at ``end`` in a blank line), else ``None``."""
        name, start = "", 0
        if buffer.startswith(b"event: "):
            start = buffer.find(b"\n") + 1
            name = buffer[7 : start - 1].decode("utf-8", "replace")
        if not buffer.startswith(b"data: ", start) or buffer.find(b"\n", start) != end:
            return None
        return Event(buffer[start + 6 : end].decode("utf-8", "replace"), name, self._id, buffer)

    def _field(self, line: bytes) -> None:
        if line[0] == 0x3A:  # ":" starts a comment
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\0" not in value:
            self._id = value.decode("utf-8", "replace")

    def _dispatch(self, raw: bytes) -> Event:
        data = b"\n".join(self._data).decode("utf-8", "replace") if self._data else None
        event = Event(data, self._event, self._id, raw)
        self._data.clear()
        self._event = ""
        return event


def _split_lines(buffer: bytes, final: bool) -> Iterator[tuple[bytes, int]]:
    """Each complete line of ``buffer`` (without its ending) and where its ending ends."""
    if b"\r" not in buffer:
        # The common case: "\n" only, where ``split`` is several times faster than a regex.
        end = 0
        lines = buffer.split(b"\n")
        for line in lines[:-1]:  # the last item is the unfinished rest
            end += len(line) + 1
            yield line, end
        return
    start, size = 0, len(buffer)
    for match in _LINE_END.finditer(buffer):
        end = match.end()
        if end == size and not final and buffer[-1] == 0x0D:
            return  # a final "\r" may be the first half of "\r\n": wait for the next byte
        yield buffer[start : match.start()], end
        start = end


def encode(data: str, event: str | None = None) -> bytes:
    """One event; ``data`` may span lines (each becomes a ``data:`` line)."""
    head = f"event: {event}\n" if event else ""
    lines = _LINE_END.split(data.encode("utf-8"))
    return head.encode("utf-8") + b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"


def encode_json(payload: Any, event: str | None = None) -> bytes:
    """One event carrying compact JSON (which never contains a raw line end)."""
    if event:
        return b"event: " + event.encode("utf-8") + b"\ndata: " + dumps(payload) + b"\n\n"
    return b"data: " + dumps(payload) + b"\n\n"
