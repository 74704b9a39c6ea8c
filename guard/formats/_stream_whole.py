"""A stream request answered with one complete JSON reply instead of events.

Some OpenAI-compatible servers ignore ``stream: true`` and answer with the complete reply
object. An event stream never starts with ``{`` (its lines start with a field name, a
colon or are blank), so a body whose first byte is ``{`` is such a reply: the filter
collects it (bounded like one event), and at the end the reply is checked whole, like a
buffered stream's, and sent as the stream the client asked for. Its usage is the call's:
a budget settles it as for a complete reply, where the filter used to find no events,
end the stream with an error and leave the budget to charge the whole reservation.

:class:`WholeReplies` is a part of :class:`~guard.formats._stream.EventFilter`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard._drive import Step
from guard.errors import UpstreamError, UpstreamTooLarge
from guard.formats.sse import MAX_EVENT

if TYPE_CHECKING:
    from guard.formats._stream_hooks import StreamingFormat
    from guard.types import Call, Reply

#: The error event of a body that is neither events nor a reply.
_NOT_A_REPLY = "the upstream answered the stream with a body that is neither events nor a reply"


class WholeReplies:
    """The whole-reply side of :class:`~guard.formats._stream.EventFilter`."""

    # The filter's state (set by EventFilter.__init__).
    format: StreamingFormat
    call: Call
    done: bool
    #: True until the body's first byte that is not white space has been seen.
    _sniffing: bool = True
    #: The body so far, once it is known to be a whole JSON reply.
    _whole: bytearray | None = None

    if TYPE_CHECKING:

        def _release_buffered(self, reply: Reply) -> Step[bytes]: ...

        def _abandon(self) -> None: ...

    def took_whole(self, data: bytes) -> bool:
        """True when ``data`` is part of a whole JSON reply (kept here, nothing to send);
        False when it is events, for the event parser."""
        if self._sniffing:
            start = data.lstrip()
            if not start:
                return False  # white space only: blank lines mean nothing to the parser
            self._sniffing = False
            if start[:1] == b"{":
                self._whole = bytearray()
        whole = self._whole
        if whole is None:
            return False
        whole += data
        if len(whole) > MAX_EVENT:
            raise UpstreamTooLarge(
                f"the upstream's reply to a stream request is longer than {MAX_EVENT} bytes"
                " (the limit)"
            )
        return True

    @property
    def answered_whole(self) -> bool:
        """True when the upstream answered with a whole reply (see the module docstring)."""
        return self._whole is not None

    def release_whole(self) -> Step[bytes]:
        """The whole reply, checked and rendered as a stream (or its error event)."""
        assert self._whole is not None
        body, self._whole = bytes(self._whole), None
        try:
            reply = self.format.parse_reply(self.call, body)
        except UpstreamError:
            self._abandon()
            return self.format.stream_error(_NOT_A_REPLY, "upstream_error")
        self.done = True
        return (yield from self._release_buffered(reply))
