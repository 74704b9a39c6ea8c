"""Responses API streams count their events: ``sequence_number`` 0, 1, 2... in order.

The stream filter holds text back and releases it later as extra delta events, swallows
deltas whose text is still held, and may end the stream with its own ``error`` event: the
upstream's numbers would then repeat, skip or restart at 0. :class:`NumberedEvents`
renumbers what the filter sends, consecutively from the first number the upstream used,
so an unchanged stream keeps its bytes and a changed one still counts up by one.

Every Responses event has exactly one ``sequence_number`` (a top-level key; the objects
events carry, such as the whole ``response``, have none), and in JSON the key can only
appear unescaped as a key: a text that mentions it has its quotes escaped.

An error event sent from outside the filter (the proxy's middleware, after a fault part
way through a stream) is numbered with :func:`last_number` and :func:`numbered_after`.
"""

from __future__ import annotations

import re

from guard.formats._stream import EventFilter

_NUMBER = re.compile(rb'("sequence_number"\s*:\s*)(-?\d+)')


class NumberedEvents(EventFilter):
    """An event filter whose output has consecutive ``sequence_number`` values."""

    _next_number: int | None = None
    #: Calls in progress: the base class calls :meth:`fail` from inside :meth:`feed` and
    #: :meth:`close`; only the outermost call renumbers (once).
    _depth = 0

    def _numbered(self, out: bytes) -> bytes:
        if self._depth or b'"sequence_number"' not in out:
            return out
        return _NUMBER.sub(self._renumber, out)

    def _renumber(self, match: re.Match[bytes]) -> bytes:
        if self._next_number is None:  # the upstream's first number is the base
            self._next_number = max(int(match.group(2)), 0)
        number, self._next_number = self._next_number, self._next_number + 1
        return match.group(1) + b"%d" % number  # (the key and its spacing kept)

    def feed(self, data: bytes) -> bytes:
        """:meth:`EventFilter.feed`, renumbered."""
        self._depth += 1
        try:
            out = super().feed(data)
        finally:
            self._depth -= 1
        return self._numbered(out)

    async def afeed(self, data: bytes) -> bytes:
        """:meth:`EventFilter.afeed`, renumbered."""
        self._depth += 1
        try:
            out = await super().afeed(data)
        finally:
            self._depth -= 1
        return self._numbered(out)

    def close(self) -> bytes:
        """:meth:`EventFilter.close`, renumbered."""
        self._depth += 1
        try:
            out = super().close()
        finally:
            self._depth -= 1
        return self._numbered(out)

    async def aclose(self) -> bytes:
        """:meth:`EventFilter.aclose`, renumbered."""
        self._depth += 1
        try:
            out = await super().aclose()
        finally:
            self._depth -= 1
        return self._numbered(out)

    def fail(self, message: str, code: str = "upstream_error") -> bytes:
        """:meth:`EventFilter.fail`, renumbered (the error event follows the last one)."""
        return self._numbered(super().fail(message, code))


def last_number(sent: bytes) -> int | None:
    """The ``sequence_number`` of the last event in ``sent`` (``None`` if it has none:
    not a Responses stream, or no event in it)."""
    at = sent.rfind(b'"sequence_number"')
    if at < 0:
        return None
    match = _NUMBER.match(sent, at)
    return int(match.group(2)) if match is not None else None


def numbered_after(event: bytes, last: int | None) -> bytes:
    """``event`` (one event made by guardwire, numbered 0) numbered after ``last``, the
    number of the last event sent (unchanged when none was, or it has no number)."""
    if last is None:
        return event
    return _NUMBER.sub(lambda match: match.group(1) + b"%d" % (last + 1), event, count=1)
