"""Output checks over an OpenAI ``chat.completion.chunk`` stream.

Text streams are keyed ``("text", choice)`` for message content and
``("tool", choice, tool)`` for tool-call arguments. A stream ends at its choice's
``finish_reason`` chunk (or at ``[DONE]``); what it still held goes out in that chunk
when the chunk carries text of the same stream, else in an extra chunk just before it.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from guard.checks.base import TextCheck
from guard.formats._arguments_stream import ArgumentsStream, encode_flushed
from guard.formats._envelope import TextDelta, TextEnvelope
from guard.formats._json_leaves import NOT_TEXT, string_leaves
from guard.formats._openai_assembly import ChunkAssembly
from guard.formats._openai_chunks import carries, part_holding
from guard.formats._stream import EventFilter
from guard.formats._stream_hooks import StreamingFormat
from guard.formats._tool_events import OpenAIToolEvents
from guard.formats.base import set_at
from guard.formats.sse import Event

if TYPE_CHECKING:
    from guard.engine import Guard
    from guard.types import Call

#: Chunk fields an extra (flush) chunk must not copy from the chunk it is modelled on.
_PER_CHUNK = ("choices", "usage", "obfuscation")
#: Delta fields streamed as plain text, and the stream key (``(name, choice)``) of each.
_DELTA_TEXT = (
    ("content", "text"),
    ("refusal", "refusal"),
    ("reasoning_content", "reasoning_content"),
    ("reasoning", "reasoning"),
)
_FIELDS = {stream: name for name, stream in _DELTA_TEXT}
#: Where the text of any content part streams: as part 0's (see ``_parts``).
_JOINED = (0, "text")


class OpenAIStreamFilter(OpenAIToolEvents, EventFilter):
    """Applies a guard's output checks to a ``chat.completion.chunk`` stream."""

    def __init__(self, fmt: StreamingFormat, call: Call, guard: Guard) -> None:
        super().__init__(fmt, call, guard, ChunkAssembly())
        #: The latest chunk with choices: the model for extra (flush) chunks.
        self._template: dict[str, Any] = {}
        self._argument_streams: dict[tuple[Hashable, ...], ArgumentsStream] = {}
        #: The part type of each streamed content-part string (for flush chunks).
        self._part_types: dict[Hashable, Any] = {}
        # Without text checks or placeholders to restore nothing is edited: arguments
        # pass as sent, unparsed.
        self._reads_arguments = self.restorer is not None or any(
            isinstance(c, TextCheck) for c in self.checks.guard.output_checks
        )

    has_terminal = True

    def is_error(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """The SDK raises on any event whose JSON has a truthy ``error``."""
        return payload is not None and bool(payload.get("error"))

    def is_terminal(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """``data: [DONE]`` ends a complete stream (the SDK stops reading there)."""
        return payload is None and event.data is not None and event.data.strip() == "[DONE]"

    def text_delta(self, event: Event, payload: dict[str, Any]) -> TextDelta | None:
        """A chunk with one choice whose delta is only ``content``, or only a piece of one
        tool call's arguments (no finish reason, no log probabilities, no usage, no
        error)."""
        choices = payload.get("choices")
        if "error" in payload or payload.get("usage") is not None or not isinstance(choices, list):
            return None
        item = choices[0] if len(choices) == 1 else None
        if not isinstance(item, dict) or item.get("finish_reason") is not None:
            return None
        index, delta = item.get("index"), item.get("delta")
        if not isinstance(index, int) or item.get("logprobs") is not None or "text" in item:
            return None
        if not isinstance(delta, dict) or len(delta) != 1:
            return None
        content = delta.get("content")
        if isinstance(content, str) and content:
            return TextDelta(("text", index), "content", content, None)
        tools = delta.get("tool_calls")
        tool = tools[0] if isinstance(tools, list) and len(tools) == 1 else None
        if not isinstance(tool, dict) or len(tool) != 2 or not isinstance(tool.get("index"), int):
            return None
        function = tool.get("function")
        if not isinstance(function, dict) or len(function) != 1 or not self._reads_arguments:
            return None
        if self.gate is not None:
            return None  # tool calls go through the gate, never a raw envelope
        arguments = function.get("arguments")
        if not isinstance(arguments, str) or not arguments:
            return None
        return TextDelta(("tool", index, tool["index"]), "arguments", arguments, None)

    def forward_text(
        self, envelope: TextEnvelope, event: Event, text: str, out: list[bytes]
    ) -> None:
        """As :meth:`forward` does for a plain content or arguments chunk."""
        self._template = envelope.payload
        key: Any = envelope.key
        # (As EventFilter.forward_text, without a call more per delta: the hot path.)
        checked = self._arguments_source(key, text) if key[0] == "tool" else self.release(key, text)
        if checked == text:
            self.assembly.add_text(key, text)
            out.append(event.raw)
        elif checked:
            self.assembly.add_text(key, checked)
            out.append(envelope.render(checked))

    def forward(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Re-emit one chunk with released text; flush before finish chunks and ``[DONE]``."""
        if payload is None:
            if event.data is not None and event.data.strip() == "[DONE]":
                self.flush(self.open_keys(), out)
                for base in list(self._argument_streams):
                    self._finish_arguments(base, {}, out)
            self.send_raw(event, None, out)
            return
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices:
            if self.strip_usage and payload.get("usage") is not None:
                self.assembly.add(payload)  # usage the guard asked for, not the client
                return
            self.send_raw(event, payload, out)  # the usage chunk, or something unknown
            return
        self._template = payload
        changed = False
        for item in choices:
            if isinstance(item, dict) and self._choice(item, out):
                changed = True
        if not changed:
            self.send_raw(event, payload, out)
        elif payload.get("usage") is not None or any(carries(item) for item in choices):
            self.send(payload, None, out)
        # else: all of its text is held back for now, and it carries nothing else.

    def _choice(self, item: dict[str, Any], out: list[bytes]) -> bool:
        """Replace the choice's text by the released text; True if anything changed."""
        index = item.get("index", 0)
        index = index if isinstance(index, int) else 0  # still checked if malformed
        delta = item.get("delta")
        delta = delta if isinstance(delta, dict) else {}  # (a legacy text chunk may have none)
        # Where each plain text stream's delta sits in this chunk: (container, field).
        here: dict[Hashable, tuple[dict[str, Any], str]] = {}
        #: The arguments containers of this chunk, by tool stream.
        calls: dict[Hashable, dict[str, Any]] = {}
        changed = False
        if isinstance(item.get("text"), str) and item["text"]:
            here["choice_text", index] = (item, "text")  # legacy text (compatible servers)
        for name, stream in _DELTA_TEXT:
            if isinstance(delta.get(name), str) and delta[name]:
                here[stream, index] = (delta, name)
        audio = delta.get("audio")
        if isinstance(audio, dict) and isinstance(audio.get("transcript"), str):
            here["audio", index] = (audio, "transcript")
        for key, (container, name) in here.items():
            text = container[name]
            released = self.release(key, text)
            if released != text:
                container[name] = released
                changed = True
        if isinstance(delta.get("content"), list):
            changed |= self._parts(index, delta["content"])
        if isinstance(delta.get("annotations"), list):  # web search citations, whole
            changed |= self.check_strings(index, delta["annotations"], NOT_TEXT)
        tools = delta.get("tool_calls")
        # Entries are taken one by one: two with the same index in one delta are two
        # pieces of the same arguments, both checked (review D20).
        for tool in tools if isinstance(tools, list) else ():
            function = tool.get("function") if isinstance(tool, dict) else None
            number = tool.get("index", 0) if isinstance(tool, dict) else 0
            number = number if isinstance(number, int) else 0
            if isinstance(function, dict):
                calls["tool", index, number] = function
                changed |= self._arguments(("tool", index, number), function)
            custom = tool.get("custom") if isinstance(tool, dict) else None
            if isinstance(custom, dict) and isinstance(custom.get("input"), str):
                # A custom (free-form) tool's input is plain text: a text stream of its own.
                key = ("custom", index, number)
                text = custom["input"]
                released = self.release(key, text) if text else text
                if released != text:
                    custom["input"], changed = released, True
                here[key] = (custom, "input")
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            calls["function_call", index] = legacy
            changed |= self._arguments(("function_call", index), legacy)
        if item.get("finish_reason") is not None:
            for key in self.open_keys():
                if not (isinstance(key, tuple) and key[1] == index):
                    continue
                if key in here:
                    container, name = here[key]
                    rest = self.flush_text(key)
                    if rest:
                        container[name] += rest
                        changed = True
                elif key[:-1] in calls:  # a leaf of arguments this chunk carries
                    rest = self.flush_text(key)
                    if rest:
                        function = calls[key[:-1]]
                        function["arguments"] = function.get("arguments", "") + encode_flushed(
                            key, rest
                        )
                        changed = True
                else:
                    self.flush([key], out)
            for base in [b for b in self._argument_streams if b[1] == index]:
                changed |= self._finish_arguments(base, calls, out)
        if changed and item.get("logprobs") is not None:
            item["logprobs"] = None  # they would list the tokens as generated, unredacted
        return changed

    def _parts(self, index: int, parts: list[Any]) -> bool:
        """Content as a list of parts (some OpenAI-compatible servers): each string
        streams as content does, keyed by its place (``("content_part", choice, part,
        field...)``), so a key cut across chunks is found; True if any was edited. The
        ``text`` of every part is one stream (keyed as part 0's): the parts of a chunk,
        and the chunks, continue each other, as the model wrote them (held text may go
        out in a later part; joined, the parts are the checked text)."""
        changed = False
        for leaf, text in string_leaves(parts, (), NOT_TEXT):
            key = ("content_part", index, *(_JOINED if leaf[1:] == ("text",) else leaf))
            part = parts[leaf[0]]  # type: ignore[index]
            self._part_types[key] = part.get("type") if isinstance(part, dict) else None
            checked = self.release(key, text)
            if checked != text:
                set_at(parts, leaf, checked)
                changed = True
        return changed

    def _arguments(self, base: tuple[Hashable, ...], function: dict[str, Any]) -> bool:
        """Check a piece of argument source leaf by leaf; True if what goes out differs."""
        source = function.get("arguments")
        if not isinstance(source, str) or not source or not self._reads_arguments:
            return False
        checked = self._arguments_source(base, source)
        if checked == source:
            return False
        function["arguments"] = checked
        return True

    def _finish_arguments(
        self, base: tuple[Hashable, ...], calls: dict[Hashable, dict[str, Any]], out: list[bytes]
    ) -> bool:
        """Send the end of arguments cut inside a token (a stream that stopped early):
        in this chunk's arguments if it carries some, else in an extra chunk."""
        rest = self._argument_streams[base].finish()
        if not rest:
            return False
        function = calls.get(base)
        if function is not None:
            function["arguments"] = function.get("arguments", "") + rest
            return True
        payload, name = self.flush_event((*base, "raw"), rest)
        self.send(payload, name, out)
        return False

    def _arguments_source(self, base: tuple[Hashable, ...], source: str) -> str:
        """The checked source of a piece of the arguments streamed under ``base``."""
        stream = self._argument_streams.get(base)
        if stream is None:
            stream = self._argument_streams[base] = ArgumentsStream(
                base, self.release, self.flush_text
            )
        return stream.feed(source)

    def flush_event(self, key: Hashable, text: str) -> tuple[dict[str, Any], str | None]:
        """An extra chunk carrying the rest of ``key``'s text."""
        assert isinstance(key, tuple)
        payload = {k: v for k, v in self._template.items() if k not in _PER_CHUNK}
        stream = key[0]
        delta: dict[str, Any]
        if stream == "tool":
            function = {"arguments": encode_flushed(key, text)}
            delta = {"tool_calls": [{"index": key[2], "function": function}]}
        elif stream == "function_call":
            delta = {"function_call": {"arguments": encode_flushed(key, text)}}
        elif stream == "custom":
            delta = {"tool_calls": [{"index": key[2], "custom": {"input": text}}]}
        elif stream == "audio":
            delta = {"audio": {"transcript": text}}
        elif stream == "content_part":
            delta = {"content": [part_holding(key, text, self._part_types.get(key))]}
        else:
            delta = {_FIELDS[stream]: text} if stream in _FIELDS else {}
        choice = {"index": key[1], "delta": delta, "logprobs": None, "finish_reason": None}
        if stream == "choice_text":
            choice["text"] = text
        payload["choices"] = [choice]
        if "usage" in self._template:
            payload["usage"] = None
        return payload, None
