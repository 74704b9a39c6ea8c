"""A stream session's text streams read across parts: consecutive text blocks of one
message, which the model wrote as one text.

A stream filter feeds every part of such a text to one channel and says where each part
ends (:meth:`StreamParts.end_part`); what the checks release is then cut at the part ends
(:func:`~guard._stream_channel.split_released`), so that each piece goes out in the part
it was written in. The filter side is :mod:`guard.formats._stream_runs`.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from guard._stream_channel import Channel, split_released

if TYPE_CHECKING:
    from guard.checks.base import CheckContext
    from guard.decision import Decision
    from guard.types import Edit


class StreamParts:
    """The part-aware methods of :class:`~guard.streaming.StreamSession`."""

    # The session's state and methods these use (set by StreamSession).
    _channels: dict[Hashable, Channel]
    _ctx: CheckContext | None
    _lookbehind: int
    blocked: Decision | None
    #: What the last release of a channel with parts released, one piece per part.
    _pieces: list[str]

    if TYPE_CHECKING:

        def feed(self, key: Hashable, text: str) -> str: ...

        def flush(self, key: Hashable) -> str: ...

        def _metered(self, text: str) -> bool: ...

        def _release(self, channel: Channel, *, final: bool) -> str: ...

    def end_part(self, key: Hashable) -> bool:
        """The current part of the text stream ``key`` ended; the next part's text (fed
        to the same ``key``) continues it, as the model wrote it. True when every
        character of the part is released already; else the part's end is noted and
        :meth:`feed_parts` / :meth:`flush_parts` say when its text is all out."""
        channel = self._channels.get(key)
        if channel is None or self.blocked is not None:
            return True
        end = channel.start + len(channel.window.text)
        if channel.start + channel.window.released >= end:
            return True
        channel.ends.append(end)
        return False

    def feed_parts(self, key: Hashable, text: str) -> list[str]:
        """:meth:`feed` for a stream with parts: what may be released now, one piece per
        part it reaches into (the oldest part not all released first; a piece per part
        end passed, then the current part's). Empty once the stream is blocked."""
        channel = self._channels.get(key)
        if channel is None or not channel.ends:
            return [self.feed(key, text)]
        if self.blocked is not None:
            return []
        if self._ctx is not None and self._ctx.meters and self._metered(text):
            return []
        channel.window.text += text
        return self._release_parts(channel, final=False)

    def flush_parts(self, key: Hashable) -> list[str]:
        """:meth:`flush` for a stream with parts: the rest of each part, in order."""
        channel = self._channels.get(key)
        if channel is None or not channel.ends:
            return [self.flush(key)]
        if self.blocked is not None:
            return []
        return self._release_parts(channel, final=True)

    def _release_parts(self, channel: Channel, *, final: bool) -> list[str]:
        self._pieces = []
        self._release(channel, final=final)  # (sets _pieces: the channel has ends)
        pieces, self._pieces = self._pieces, []
        return pieces

    def _split(self, channel: Channel, offset: int, cut: int, edits: list[Edit]) -> list[str]:
        """The window's text from ``offset`` to ``cut`` (released now), edited, one piece
        per part it reaches into; the part ends it passes are done with."""
        base = channel.start + offset
        passed = [end - base for end in channel.ends if end - base <= cut - offset]
        del channel.ends[: len(passed)]
        released = split_released(channel.window.text[offset:cut], edits, passed)
        channel.released_up_to(cut, self._lookbehind)
        return released
