"""Text pieces of a streamed reply, kept compact.

A stream assembly keeps every delta's text to build the complete reply at the end. A
30 MB reply in 8-character deltas is 3.75 million small strings — ~60 bytes of overhead
each, 650 MB of memory for 30 MB of text (newuser-trial §3.9). :class:`Parts` joins every
run of 256 small pieces into one string, so memory stays close to the text's own size
and each character is copied once more, not once per join.
"""

from __future__ import annotations

#: Small pieces kept before they are joined into one.
_RUN = 256


class Parts(list[str]):
    """A list of text pieces that joins each run of small pieces as it fills."""

    __slots__ = ("_joined",)

    def __init__(self) -> None:
        super().__init__()
        #: How many leading items are already joined runs.
        self._joined = 0

    def append(self, piece: str) -> None:
        """Add a piece (joining the latest run when it is full)."""
        super().append(piece)
        if len(self) - self._joined >= _RUN:
            run = "".join(self[self._joined :])
            del self[self._joined :]
            super().append(run)
            self._joined += 1
