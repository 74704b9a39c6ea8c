"""Output checks over an Anthropic messages event stream.

Each content block is one text stream, keyed ``("block", index)``: ``text_delta`` text
for text blocks, ``thinking_delta`` text for thinking blocks. Tool input
(``input_json_delta``) is checked leaf by leaf, keyed ``("input", index, leaf)`` (see
:mod:`._arguments_stream`); citations and server tool results arrive whole and are
checked at once, keyed ``("piece", index, n)``. A block's streams end at its
``content_block_stop``; what they still held goes out in an extra
``content_block_delta`` just before that event; consecutive text blocks are one text
(:mod:`._anthropic_runs`), and a text block's stop waits while the checks hold back the
end of its text. An edited thinking block's
``signature_delta`` goes out with an empty signature (it would not match).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from guard.checks.base import TextCheck
from guard.formats._anthropic_assembly import MessageAssembly
from guard.formats._anthropic_request import CITATION_TEXT, RESULT_STRUCTURE
from guard.formats._anthropic_runs import AnthropicTextRuns
from guard.formats._arguments_stream import ArgumentsStream, encode_flushed
from guard.formats._envelope import TextDelta, TextEnvelope
from guard.formats._json_leaves import NOT_TEXT
from guard.formats._stream import EventFilter
from guard.formats._stream_hooks import StreamingFormat
from guard.formats._tool_events import AnthropicToolEvents, block_index
from guard.formats.sse import Event

if TYPE_CHECKING:
    from guard.engine import Guard
    from guard.types import Call

#: The field holding plain checked text, by delta type (tool input: ArgumentsStream).
_TEXT_FIELDS = {"text_delta": "text", "thinking_delta": "thinking"}
#: Delta fields read through a learnt envelope (tool input then goes leaf by leaf).
_ENVELOPED_FIELDS = {"text_delta": "text", "input_json_delta": "partial_json"}
#: Block types read by their own rules (any other's strings are checked whole).
_KNOWN_BLOCKS = frozenset(
    {"text", "thinking", "redacted_thinking", "tool_use", "server_tool_use", "mcp_tool_use"}
)


class AnthropicStreamFilter(AnthropicTextRuns, AnthropicToolEvents, EventFilter):
    """Applies a guard's output checks to a messages event stream."""

    def __init__(self, fmt: StreamingFormat, call: Call, guard: Guard) -> None:
        super().__init__(fmt, call, guard, MessageAssembly())
        #: Content block type by index (decides the delta type of a flush event).
        self._kinds: dict[int, str] = {}
        self._inputs: dict[int, ArgumentsStream] = {}
        #: Thinking text fed per block: an edit shows as released text that differs.
        self._thinking: dict[Hashable, tuple[list[str], list[str]]] = {}
        #: The delta type of each streamed field of an unknown delta (for flush events).
        self._unknown_types: dict[Hashable, str] = {}
        # Without text checks or placeholders to restore nothing is edited: inputs pass as
        # sent, unparsed.
        self._reads_inputs = self.restorer is not None or any(
            isinstance(c, TextCheck) for c in self.checks.guard.output_checks
        )

    has_terminal = True

    def is_terminal(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """``message_stop`` ends a complete stream."""
        return payload is not None and payload.get("type") == "message_stop"

    def is_error(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """The SDK raises on ``event: error``."""
        return event.event == "error" or (payload is not None and payload.get("type") == "error")

    def text_delta(self, event: Event, payload: dict[str, Any]) -> TextDelta | None:
        """A ``content_block_delta`` whose delta is only text or tool input (keyed
        ``("input", index)``: :meth:`forward_text` checks it leaf by leaf). Thinking is
        read by :meth:`forward`, which keeps what an edit to it needs."""
        index, delta = payload.get("index"), payload.get("delta")
        if payload.get("type") != "content_block_delta" or event.event == "error":
            return None
        if not isinstance(index, int) or not isinstance(delta, dict) or len(delta) != 2:
            return None
        kind = delta.get("type")
        name = _ENVELOPED_FIELDS.get(kind) if isinstance(kind, str) else None
        text = delta.get(name) if name is not None else None
        if not isinstance(text, str) or not text or name is None:
            return None
        stream = "input" if name == "partial_json" else "block"
        if stream == "input" and self.gate is not None:
            return None  # tool input goes through the gate, never a raw envelope
        return TextDelta((stream, index), name, text, event.event or "content_block_delta")

    def forward_text(
        self, envelope: TextEnvelope, event: Event, text: str, out: list[bytes]
    ) -> None:
        """As :meth:`forward` does for a plain delta; tool input goes leaf by leaf."""
        key: Any = envelope.key
        # (As EventFilter.forward_text, without a call more per delta: the hot path.)
        checked = self._input_source(key[1], text) if key[0] == "input" else self.release(key, text)
        if self._runs is not None:
            self.drain(out)
        if checked == text:
            self.assembly.add_text(key, text)
            out.append(event.raw)
        elif checked:
            self.assembly.add_text(key, checked)
            out.append(envelope.render(checked))

    def forward(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Re-emit one event with released text; flush a block before its stop event."""
        kind = payload.get("type") if payload is not None else None
        runs = self._runs
        run = runs.current if runs is not None else None
        if run is not None and self._in_run(run, event, payload, kind, out):
            return
        if payload is not None and kind == "content_block_delta":
            self._delta(event, payload, out)
            return
        if payload is not None and kind == "content_block_start":
            self._start(event, payload, out)
            return
        if kind == "content_block_stop":
            index = block_index(payload)
            self.flush([k for k in self.open_keys() if _block_of(k) == index], out)
            self._finish_input(index, out)
        elif kind in ("message_delta", "message_stop"):
            self.flush(self.open_keys(), out)  # blocks the upstream never stopped
            for index in list(self._inputs):
                self._finish_input(index, out)
        self.send_raw(event, payload, out)

    def _start(self, event: Event, payload: dict[str, Any], out: list[bytes]) -> None:
        index, block = block_index(payload), payload.get("content_block")
        if not isinstance(block, dict):
            self.send_raw(event, payload, out)
            return
        kind = str(block.get("type"))
        self._kinds[index] = kind
        if kind == "text" and not block.get("text") and self.session is not None:
            self.start_run(("block", index))
        if kind == "thinking":
            self._thinking[("block", index)] = ([], [])
        changed = False
        name = "thinking" if kind == "thinking" else "text"
        text = block.get(name)
        if isinstance(text, str) and text:  # the API opens text blocks empty, but may not
            released = self.release(("block", index), text)
            if kind == "thinking":
                self._thinking[("block", index)] = ([text], [released])
            if released != text:
                block[name], changed = released, True
        elif kind.endswith("_tool_result"):
            # Server tool results arrive whole: each text in them is checked at once.
            changed = self.check_strings(index, block, RESULT_STRUCTURE)
        elif kind not in _KNOWN_BLOCKS:
            # A block type this version does not know: its strings, checked at once.
            changed = self.check_strings(index, block, NOT_TEXT)
        if changed:
            self.send(payload, event.event or "content_block_start", out)
        else:
            self.send_raw(event, payload, out)

    def _delta(self, event: Event, payload: dict[str, Any], out: list[bytes]) -> None:
        index, delta = block_index(payload), payload.get("delta")
        kind = delta.get("type") if isinstance(delta, dict) else None
        if not isinstance(delta, dict):
            self.send_raw(event, payload, out)
            return
        if kind == "input_json_delta":
            self._kinds.setdefault(index, "tool_use")
            changed = self._input(index, delta)
        elif kind == "citations_delta":
            changed = self._citation(index, delta)
        elif kind == "signature_delta":
            changed = self._signature(index, delta, out)
        elif kind in _TEXT_FIELDS:
            changed = self._text(index, delta, kind)
        else:  # a delta type this version does not know: never passed on unchecked
            changed = self._unknown_delta(index, delta)
        if self._runs is not None:
            self.drain(out)
        if not changed:
            self.send_raw(event, payload, out)
        elif _still_carries(delta):
            self.send(payload, event.event or "content_block_delta", out)
        # else: all of it is held back for now.

    def _unknown_delta(self, index: int, delta: dict[str, Any]) -> bool:
        """A delta of a type this version does not know: each top-level string field
        streams as text does (a key cut across deltas is found); nested ones, whole."""
        changed = False
        for name, text in list(delta.items()):
            if name not in NOT_TEXT and isinstance(text, str) and text:
                key = ("unknown", index, name)
                self._unknown_types[key] = str(delta.get("type"))
                released = self.release(key, text)
                if released != text:
                    delta[name], changed = released, True
        nested = {k: v for k, v in delta.items() if isinstance(v, dict | list)}
        return self.check_strings(index, nested, NOT_TEXT) or changed

    def _text(self, index: int, delta: dict[str, Any], kind: Any) -> bool:
        name = _TEXT_FIELDS.get(kind) if isinstance(kind, str) else None
        text = delta.get(name) if name is not None else None
        if name is None or not isinstance(text, str) or not text:
            return False
        self._kinds.setdefault(index, "thinking" if name == "thinking" else "text")
        released = self.release(("block", index), text)
        if name == "thinking":
            fed, sent = self._thinking.setdefault(("block", index), ([], []))
            fed.append(text)
            sent.append(released)
        delta[name] = released
        return released != text

    def _input(self, index: int, delta: dict[str, Any]) -> bool:
        source = delta.get("partial_json")
        if not isinstance(source, str) or not source:
            return False
        checked = self._input_source(index, source)
        delta["partial_json"] = checked
        return checked != source

    def _finish_input(self, index: int, out: list[bytes]) -> None:
        """Send the end of an input cut inside a token (a block that stopped early)."""
        stream = self._inputs.get(index)
        rest = stream.finish() if stream is not None else ""
        if rest:
            payload, name = self.flush_event(("input", index, "raw"), rest)
            self.send(payload, name, out)

    def _input_source(self, index: int, source: str) -> str:
        """The checked source of a piece of block ``index``'s tool input."""
        if not self._reads_inputs:
            return source
        stream = self._inputs.get(index)
        if stream is None:
            stream = self._inputs[index] = ArgumentsStream(
                ("input", index), self.release, self.flush_text
            )
        return stream.feed(source)

    def _citation(self, index: int, delta: dict[str, Any]) -> bool:
        citation = delta.get("citation")
        changed = False
        for name in CITATION_TEXT:
            text = citation.get(name) if isinstance(citation, dict) else None
            if isinstance(citation, dict) and isinstance(text, str) and text:
                checked = self.check_whole(index, text)
                if checked != text:
                    citation[name], changed = checked, True
        return changed

    def _signature(self, index: int, delta: dict[str, Any], out: list[bytes]) -> bool:
        """Thinking ends with its signature: release the block's text first; an edited
        block's signature would no longer match it, so it goes out empty."""
        key = ("block", index)
        rest = self.flush_text(key)
        if rest:
            payload, name = self.flush_event(key, rest)
            self.send(payload, name, out)
        thinking = self._thinking.get(key)
        if thinking is not None:
            thinking[1].append(rest)
        if thinking is None or "".join(thinking[0]) == "".join(thinking[1]):
            return False
        delta["signature"] = ""
        return True

    def flush_event(self, key: Hashable, text: str) -> tuple[dict[str, Any], str | None]:
        """A ``content_block_delta`` carrying the rest of the block's text."""
        assert isinstance(key, tuple)
        index = key[1]
        if key[0] == "input":
            delta = {"type": "input_json_delta", "partial_json": encode_flushed(key, text)}
        elif key[0] == "unknown":
            delta = {"type": self._unknown_types[key], key[2]: text}
        elif self._kinds.get(index) == "thinking":
            delta = {"type": "thinking_delta", "thinking": text}
        else:
            delta = {"type": "text_delta", "text": text}
        return {
            "type": "content_block_delta",
            "index": index,
            "delta": delta,
        }, "content_block_delta"


def _block_of(key: Hashable) -> int | None:
    return key[1] if isinstance(key, tuple) and len(key) > 1 else None


def _still_carries(delta: dict[str, Any]) -> bool:
    """False for a text or input delta whose text is all held back for now."""
    kind = delta.get("type")
    name = _TEXT_FIELDS.get(kind) if isinstance(kind, str) else None
    if kind == "input_json_delta":
        name = "partial_json"
    return name is None or bool(delta.get(name))
