"""Streamed tool-call arguments, checked as decoded string leaves.

An :class:`ArgumentsStream` sits between a stream filter and the session for one tool
call's argument source (OpenAI ``function.arguments`` deltas, Anthropic
``input_json_delta.partial_json``). The :class:`~guard.formats._json_leaves.LeafTokenizer`
splits the source; each string leaf is fed to the session as its own text stream (key
``(*base, leaf_number)``) and ended at its closing quote, so that structure after a leaf
only goes out once the leaf's text is released: order is preserved, and the emitted
source joined is the redacted document. Source that is not JSON is checked as raw text
under ``(*base, "raw")``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from guard.formats._json_leaves import LEAF, LEAF_END, RAW, LeafTokenizer, encode_leaf

#: Feed text of a stream key to the session; return what may go out.
Release = Callable[[Hashable, str], str]
#: End a stream key; return what it still held.
Flush = Callable[[Hashable], str]


class ArgumentsStream:
    """One tool call's streamed arguments: source in, checked source out."""

    __slots__ = ("_base", "_flush", "_release", "_tokenizer")

    def __init__(self, base: tuple[Hashable, ...], release: Release, flush: Flush) -> None:
        self._base = base
        self._release = release
        self._flush = flush
        self._tokenizer = LeafTokenizer()

    def feed(self, source: str) -> str:
        """The source to send on for the next chunk of argument source."""
        out: list[str] = []
        base = self._base
        for kind, text, leaf, piece in self._tokenizer.feed(source):
            if kind == LEAF:
                released = self._release((*base, leaf), text)
                # Unchanged text goes out as the model encoded it (byte-for-byte events).
                if released == text:
                    out.append(piece)
                elif released:
                    out.append(encode_leaf(released))
            elif kind == LEAF_END:
                rest = self._flush((*base, leaf))
                if rest:
                    out.append(encode_leaf(rest))
            elif kind == RAW:
                out.append(self._release((*base, "raw"), text))
            else:
                out.append(piece)
        return "".join(out)

    def finish(self) -> str:
        """The arguments ended: check and return source held back because a token or an
        escape was cut (``{"n": 1`` of a stream that stopped early), as raw text."""
        pending = self._tokenizer.take_pending()
        if not pending:
            return ""
        key = (*self._base, "raw")
        return self._release(key, pending) + self._flush(key)


def encode_flushed(key: Hashable, text: str) -> str:
    """Flushed text of an arguments stream key as source: leaves are JSON-escaped."""
    if isinstance(key, tuple) and key and key[-1] == "raw":
        return text
    return encode_leaf(text)
