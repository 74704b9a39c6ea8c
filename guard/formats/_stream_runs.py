"""Consecutive text parts of one message streamed as one text: a run.

The model writes an Anthropic message's consecutive text blocks one after the other, and
a complete reply's blocks are checked as one text (:mod:`guard.checks._text_parts`), so a
key or a denied phrase cut at a block boundary is found. In a stream each block is a part
of a :class:`Run`: its text goes to one session channel (the first part's key),
whose part ends the session notes (:meth:`~guard.streaming.StreamSession.end_part`). A
part's stop event is held while the checks still hold back the end of its text, until
the next part's text releases it (at most the policy's hold-back later) or the run ends;
every event that comes meanwhile waits behind it, in order. Released text goes to the
part it was written in; a redaction over a part end is replaced in the part where it
starts, the rest of it removed from the next, as in a complete reply.

:class:`TextRuns` is a base of :class:`~guard.formats._stream_text.TextStreams`; a format
opts in by starting runs (:meth:`TextRuns.start_run`) and routing events to them.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from guard.formats.sse import Event

if TYPE_CHECKING:
    from guard.restore import Restorer
    from guard.streaming import StreamSession

#: An event held behind a part, with its parsed JSON.
Held = tuple[Event, dict[str, Any] | None]


@dataclass(slots=True)
class Part:
    """One text part of a run (an Anthropic text block), keyed as the format keys it."""

    key: Hashable
    #: The part's text ended (its stop event came); its end is noted in the session.
    ended: bool = False
    #: Events that came after the part's text; sent once all of its text is out.
    held: list[Held] = field(default_factory=list)


@dataclass(slots=True)
class Run:
    """Text parts read as one stream: the session channel, and the parts not all out."""

    channel: Hashable
    #: Parts whose text or held events are not all sent yet, oldest first.
    parts: list[Part] = field(default_factory=list)
    #: The key of the latest part (sent or not).
    last: Hashable = None

    @property
    def open_part(self) -> Part | None:
        """The part still receiving text, if any."""
        return self.parts[-1] if self.parts and not self.parts[-1].ended else None

    @property
    def waiting(self) -> bool:
        """An ended part still holds text back: later events wait behind it."""
        return bool(self.parts) and self.parts[0].ended


@dataclass(slots=True)
class Runs:
    """A stream filter's runs (made at its first run)."""

    #: The run that parts may still join (the latest), if any.
    current: Run | None = None
    #: Runs by session channel; each joined part's run by the part's key.
    channels: dict[Hashable, Run] = field(default_factory=dict)
    parts: dict[Hashable, Run] = field(default_factory=dict)
    #: What a release sent ahead of the event being handled: the end of an earlier part
    #: and its held events (the handler puts them out first: :meth:`TextRuns.drain`).
    early: list[bytes] = field(default_factory=list)


class TextRuns:
    """Runs of text parts (see the module doc); the base of ``TextStreams``.

    Its state lives in class defaults until a first run: a stream filter object with
    more than ~30 attributes loses CPython's fast attribute and method lookups (this
    cost a stream without runs 4 % more instructions)."""

    #: The filter's runs; ``None`` until the first one starts.
    _runs: Runs | None = None

    session: StreamSession | None
    restorer: Restorer | None
    _open: dict[Hashable, None]

    if TYPE_CHECKING:  # provided by TextStreams and the format

        def flush_event(self, key: Hashable, text: str) -> tuple[dict[str, Any], str | None]: ...

        def send(self, payload: dict[str, Any], name: str | None, out: list[bytes]) -> None: ...

        def send_raw(
            self, event: Event, payload: dict[str, Any] | None, out: list[bytes]
        ) -> None: ...

        def _blocked(self) -> bool: ...

    def start_run(self, key: Hashable) -> Run:
        """Start a run whose first part is the text stream ``key``. The run's channel is
        that stream's own: until a second part joins, its text is released as any text
        stream's (the hot path pays nothing for runs)."""
        runs = self._runs
        if runs is None:
            runs = self._runs = Runs()
        run = Run(key, [Part(key)], key)
        runs.channels[key] = runs.current = run
        return run

    def join_run(
        self,
        run: Run,
        key: Hashable,
        event: Event,
        payload: dict[str, Any] | None,
        out: list[bytes],
    ) -> None:
        """The text stream ``key`` continues ``run`` as its next part; ``event`` (its
        start) goes out now or behind the part still holding text."""
        if run.parts:
            run.parts[-1].held.append((event, payload))
        else:
            self.send_raw(event, payload, out)
        run.parts.append(Part(key))
        run.last = key
        assert self._runs is not None
        self._runs.parts[key] = run

    def hold_in_run(self, run: Run, event: Event, payload: dict[str, Any] | None) -> bool:
        """Hold ``event`` behind the run's parts if one still holds text back."""
        if not run.waiting:
            return False
        run.parts[-1].held.append((event, payload))
        return True

    def end_part(
        self, run: Run, event: Event, payload: dict[str, Any] | None, out: list[bytes]
    ) -> None:
        """The open part's text ended with ``event`` (its stop): sent now if all of the
        part's text is out, else held until it is."""
        part = run.parts[-1]
        part.ended = True
        assert self.session is not None
        if self.session.end_part(run.channel) and len(run.parts) == 1:
            run.parts.pop()
            self._finish_part(part, "", out)
            self.send_held(event, payload, out)
            return
        part.held.append((event, payload))

    def end_run(self, run: Run, out: list[bytes]) -> None:
        """No part follows: release the rest of every part, each with its held events."""
        assert self.session is not None
        self._open.pop(run.channel, None)
        pieces = self.session.flush_parts(run.channel)
        for part, piece in zip(run.parts, pieces, strict=False):
            self._finish_part(part, piece, out)
        runs = self._runs
        assert runs is not None
        for part in run.parts:
            runs.parts.pop(part.key, None)
        run.parts.clear()
        del runs.channels[run.channel]
        if runs.current is run:
            runs.current = None

    def release_in_run(self, run: Run, key: Hashable, text: str) -> str:
        """Feed a delta of the part ``key``; return what goes out in it (the ends of
        earlier parts and their held events go to :attr:`Runs.early`)."""
        assert self.session is not None and self._runs is not None
        self._open[run.channel] = None
        early = self._runs.early
        pieces = self.session.feed_parts(run.channel, text)
        parts = run.parts
        if len(pieces) == 1 and parts[0].key == key:  # the common case: one part open
            return self._restored(key, pieces[0])
        if not pieces:  # blocked: nothing more goes out
            return ""
        for piece in pieces[:-1]:
            self._finish_part(parts.pop(0), piece, early)
        last = pieces[-1]
        if not parts:
            return ""
        first = parts[0]
        if not first.ended and first.held:  # held while an earlier part was waiting
            self._send_held(first.held, early)
        if first.key == key:
            return self._restored(key, last)
        self._send_piece(first.key, self._restored(first.key, last), early)
        return ""

    def current_run(self) -> Run | None:
        """The run that parts may still join, if any."""
        runs = self._runs
        return runs.current if runs is not None else None

    def run_of_channel(self, key: Hashable) -> Run | None:
        """The run whose session channel is ``key``, if any."""
        runs = self._runs
        return runs.channels.get(key) if runs is not None else None

    def drain(self, out: list[bytes]) -> None:
        """Put out what a release sent ahead of the event being handled."""
        runs = self._runs
        early = runs.early if runs is not None else None
        if early and out is not early:  # (a held event may be sent into ``early``)
            out.extend(early)
            early.clear()

    def send_held(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Send an event that was held behind a part (the format may re-check it)."""
        self.send_raw(event, payload, out)

    def _finish_part(self, part: Part, piece: str, out: list[bytes]) -> None:
        text = self._restored(part.key, piece)
        if self.restorer is not None and not self._blocked():
            text += self.restorer.flush(part.key)
        self._send_piece(part.key, text, out)
        self._send_held(part.held, out)
        if self._runs is not None:
            self._runs.parts.pop(part.key, None)

    def _send_held(self, held: list[Held], out: list[bytes]) -> None:
        for event, payload in held:
            self.send_held(event, payload, out)
        held.clear()

    def _send_piece(self, key: Hashable, text: str, out: list[bytes]) -> None:
        if text:
            payload, name = self.flush_event(key, text)
            self.send(payload, name, out)

    def _restored(self, key: Hashable, text: str) -> str:
        if self.restorer is not None and not self._blocked():
            return self.restorer.feed(key, text)
        return text
