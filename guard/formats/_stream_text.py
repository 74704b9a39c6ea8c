"""The text side of a stream filter: text deltas through the engine's stream session.

:class:`TextStreams` (the base of :class:`~guard.formats._stream.EventFilter`) feeds each
text delta of a stream key to the :class:`~guard.streaming.StreamSession`, sends on what
it releases (with the call's placeholders restored), flushes what a key still holds when
it ends, and feeds every event that goes out to the format's assembly, so the assembled
reply is exactly what the client received.

Most events of a stream are plain text deltas that differ only in their text. Once one
has been parsed, its :class:`TextEnvelope` (the event data around the JSON string of
the text) recognises the next ones, whose text is then read without parsing the JSON.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

from guard.formats._envelope import TextDelta, TextEnvelope
from guard.formats._json_leaves import string_leaves
from guard.formats._stream_hooks import Assembly, FormatHooks
from guard.formats._stream_runs import TextRuns
from guard.formats.base import set_at
from guard.formats.sse import Event, encode_json

if TYPE_CHECKING:
    from guard.restore import Restorer
    from guard.streaming import StreamSession

_WORDS = re.compile(r"\S*\s+|\S+")


def words(text: str) -> list[str]:
    """``text`` cut after each run of whitespace: realistic deltas that join back."""
    return _WORDS.findall(text)


def pieces(text: str, size: int = 24) -> list[str]:
    """``text`` in pieces of ``size`` characters (tool arguments have few spaces)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


class TextStreams(TextRuns, FormatHooks):
    """Text deltas through the session, the envelopes of plain deltas, and sending."""

    def __init__(
        self, session: StreamSession | None, restorer: Restorer | None, assembly: Assembly
    ) -> None:
        self.session = session
        self.restorer = restorer
        self.assembly = assembly
        #: Text streams fed to the session and not flushed yet, in order of appearance.
        self._open: dict[Hashable, None] = {}
        self._envelopes: dict[Hashable, TextEnvelope] = {}
        #: Attempts left to learn an envelope (a stream whose deltas differ in more than
        #: their text, e.g. OpenAI's ``obfuscation`` padding, stops trying soon).
        self._learning = 8
        #: Pieces of text checked whole so far (each its own stream, ended at once).
        self._pieces = 0

    def forward_text(
        self, envelope: TextEnvelope, event: Event, text: str, out: list[bytes]
    ) -> None:
        """Progressive mode: send a plain text delta on with the released text."""
        released = self.release(envelope.key, text)
        if self._runs is not None:
            self.drain(out)
        if released == text:
            self.assembly.add_text(envelope.key, text)
            out.append(event.raw)
        elif released:
            self.assembly.add_text(envelope.key, released)
            out.append(envelope.render(released))
        # else: all of it is held back for now, and it carries nothing else.

    def release(self, key: Hashable, text: str) -> str:
        """Feed a text delta of stream ``key`` to the session; return what may go out
        (with the call's placeholders restored)."""
        assert self.session is not None
        runs = self._runs
        if runs is not None and (run := runs.parts.get(key)) is not None:
            return self.release_in_run(run, key, text)
        self._open[key] = None
        released = self.session.feed(key, text)
        if self.restorer is not None and not self._blocked():
            released = self.restorer.feed(key, released)
        return released

    def flush_text(self, key: Hashable) -> str:
        """End the text stream ``key``; return what it still held (now released)."""
        assert self.session is not None
        if key not in self._open:
            return ""
        del self._open[key]
        released = self.session.flush(key)
        if self.restorer is not None and not self._blocked():
            released = self.restorer.feed(key, released) + self.restorer.flush(key)
        return released

    def check_whole(self, index: int, text: str) -> str:
        """Check a piece of text that arrived whole (its own stream, ended at once):
        a citation, a server tool's result, a block or item of an unknown type."""
        self._pieces += 1
        key = ("piece", index, self._pieces)
        return self.release(key, text) + self.flush_text(key)

    def check_strings(self, index: int, value: Any, skip: frozenset[str]) -> bool:
        """Check every string of ``value`` whole (keys in ``skip`` are not text), editing
        it in place; True if any was edited."""
        changed = False
        for leaf, text in string_leaves(value, (), skip):
            checked = self.check_whole(index, text)
            if checked != text:
                set_at(value, leaf, checked)
                changed = True
        return changed

    def flush(self, keys: Iterable[Hashable], out: list[bytes]) -> None:
        """End the text streams ``keys``: send what they still held as extra deltas."""
        for key in keys:
            run = self.run_of_channel(key)
            if run is not None:
                self.end_run(run, out)
                continue
            text = self.flush_text(key)
            if text:
                payload, name = self.flush_event(key, text)
                self.send(payload, name, out)

    def open_keys(self) -> list[Hashable]:
        """Every text stream fed and not yet flushed."""
        return list(self._open)

    def send(self, payload: dict[str, Any], name: str | None, out: list[bytes]) -> None:
        """Send a new or changed event."""
        self.assembly.add(payload)
        out.append(encode_json(payload, name))

    def send_raw(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Send an unchanged event byte-for-byte."""
        if payload is not None:
            self.assembly.add(payload)
        out.append(event.raw)

    def _enveloped(self, event: Event) -> tuple[TextEnvelope | None, str]:
        for envelope in self._envelopes.values():
            text = envelope.text(event)
            if text is not None:
                return envelope, text
        return None, ""

    def _learn(self, event: Event, delta: TextDelta) -> None:
        self._learning -= 1
        envelope = TextEnvelope.learn(event, delta, self.text_delta)
        if envelope is not None:
            self._envelopes[delta.key] = envelope

    def _blocked(self) -> bool:
        """True once a check blocked the stream."""
        return self.session is not None and self.session.blocked is not None
