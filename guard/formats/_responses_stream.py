"""Output checks over a Responses API event stream.

Text deltas (``response.output_text.delta``, ``.refusal.delta``,
``.function_call_arguments.delta``, ``.custom_tool_call_input.delta``,
``.reasoning_summary_text.delta``, ``.reasoning_text.delta``) feed the stream session
under the keys of :mod:`guard.formats._responses_items` and go out with the released
text. Every event that repeats whole text (``*.done``, ``content_part.*``,
``reasoning_summary_part.*``, ``output_item.*``, and ``response.*`` with the whole
response) is rewritten from the assembly, which holds what the client was sent: the
upstream's own copy of the text never leaves. Text such an event has beyond what the
deltas brought (an upstream that sends no deltas) is fed to the session first, and what
it releases goes out as extra delta events. A ``.done`` event ends its text stream; the
terminal ``response.completed`` / ``.incomplete`` / ``.failed`` ends them all.

The terminal event is held by :class:`~guard.formats._stream.EventFilter` until the end
decision, then sent as its ``raw`` bytes (or replaced by the error event of a block). It
repeats the whole response, so :meth:`ResponsesStreamFilter.is_terminal` rewrites it as
it arrives: ``raw`` becomes the extra deltas that end every open text stream followed by
the event rewritten from the assembly.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

from guard.formats._responses_assembly import (
    ITEM_EVENTS,
    PART_EVENTS,
    TERMINAL,
    ResponseAssembly,
)
from guard.formats._responses_items import (
    ANNOTATION_ADDED,
    DELTA_EVENTS,
    DELTA_KINDS,
    DONE_EVENTS,
    WHOLE_ONLY,
    annotation_places,
    item_texts,
    part_key,
    stream_key,
)
from guard.formats._responses_runs import ResponsesTextRuns
from guard.formats._responses_sequence import NumberedEvents
from guard.formats._stream import EventFilter
from guard.formats._stream_hooks import StreamingFormat
from guard.formats._tool_events import ResponsesToolEvents
from guard.formats.base import set_at
from guard.formats.sse import Event, encode_json

if TYPE_CHECKING:
    from guard.engine import Guard
    from guard.types import Call


def _scrub(payload: dict[str, Any]) -> None:
    """Drop what would give away the text an edit changed: the generated tokens'
    log probabilities and the obfuscation padding (its length is the original's)."""
    payload.pop("obfuscation", None)
    if payload.get("logprobs"):
        payload["logprobs"] = []


class ResponsesStreamFilter(NumberedEvents, ResponsesToolEvents, ResponsesTextRuns, EventFilter):
    """Applies a guard's output checks to a Responses API event stream."""

    def __init__(self, fmt: StreamingFormat, call: Call, guard: Guard) -> None:
        super().__init__(fmt, call, guard, ResponseAssembly())
        #: The upstream's text of each stream so far (what was fed to the session).
        self._upstream: dict[Hashable, list[str]] = {}
        #: Output item ids and types, for extra delta events.
        self._ids: dict[int, str] = {}
        self._types: dict[int, str] = {}
        self._sequence = 0
        #: The terminal event's payload while tool calls may still be held.
        self._held_terminal: dict[str, Any] | None = None

    has_terminal = True

    @property
    def responses(self) -> ResponseAssembly:
        """The assembly (a property, not another attribute: see _stream_runs.TextRuns)."""
        return self.assembly  # type: ignore[return-value]

    def is_terminal(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """``response.completed`` / ``.incomplete`` / ``.failed`` end a stream. Such an
        event is rewritten here, as the base class sends it later as ``event.raw``."""
        if payload is None or payload.get("type") not in TERMINAL:
            return False
        if self.session is None:  # buffer mode: the whole response is rendered at the end
            self.assembly.add(payload)
            return True
        if self.gate is not None:
            # Tool calls may still be held: the response is rewritten once every one of
            # them is decided (a stripped one leaves its output list), in finish_terminal.
            self._held_terminal = payload
            return True
        self._rewrite_terminal(event, payload)
        return True

    def finish_terminal(self, event: Event) -> None:
        """Rewrite the terminal event held behind the tool-call gate, now that every
        tool call is decided."""
        payload, self._held_terminal = self._held_terminal, None
        if payload is not None:
            self._rewrite_terminal(event, payload)

    def _rewrite_terminal(self, event: Event, payload: dict[str, Any]) -> None:
        """``event.raw`` becomes the extra deltas that end every open text stream and the
        event rewritten from the assembly (without the stripped tool calls)."""
        if self.gate is not None and self.gate.stripped:
            _drop_items(payload, self.gate.stripped)
            event.raw = encode_json(payload, event.event or None)  # sent if nothing else changes
        out: list[bytes] = []
        self.forward(event, payload, out)
        event.raw = b"".join(out)

    def is_error(self, event: Event, payload: dict[str, Any] | None) -> bool:
        """The API's ``error`` event, or a chat-style ``{"error": ...}`` event.

        The base class sends an upstream error on as its ``raw`` bytes. The API's own
        ``error`` event has no ``error`` object, so the ``openai`` SDK would hand it over
        as just another event and the stream would seem to end normally: it gets one
        (the event's own fields kept), so that the SDK raises ``APIError``.
        """
        if payload is None:
            return False
        if payload.get("type") != "error":
            return "type" not in payload and bool(payload.get("error"))
        if not payload.get("error"):
            message = payload.get("message")
            code = payload.get("code")
            error = {
                "message": message if isinstance(message, str) else "the upstream failed",
                "type": "server_error",
                "param": payload.get("param"),
                "code": code if isinstance(code, str) else "upstream_error",
            }
            event.raw = encode_json({**payload, "error": error}, event.event or None)
        return True

    def forward_event(
        self, event: Event, payload: dict[str, Any], kind: str, out: list[bytes]
    ) -> None:
        """Re-emit one event with released text; rewrite events that repeat text (once
        :meth:`ResponsesTextRuns.forward` routed it, or as a held event goes out)."""
        if isinstance(payload.get("sequence_number"), int):
            self._sequence = payload["sequence_number"]
        if kind in DELTA_KINDS:
            # (Most events: their item was announced before, with its id and type.)
            if payload.get("output_index") not in self._ids:
                self._remember(payload)
            self._delta(event, payload, DELTA_KINDS[kind], out)
            return
        self._remember(payload)
        # (An annotation comes whole in its event: checked whole, nothing held back.)
        final = kind.endswith(".done") or kind in TERMINAL or kind == ANNOTATION_ADDED
        places: list[tuple[Hashable, Any, tuple[str | int, ...]]] = []
        if kind in DONE_EVENTS:
            key_kind, field = DONE_EVENTS[kind]
            key = stream_key(key_kind, payload)
            if key is not None and isinstance(payload.get(field), str):
                places.append((key, payload, (field,)))
        elif kind in PART_EVENTS:
            found = part_key(payload)
            if found is not None and isinstance(payload["part"].get(found[1]), str):
                places.append((found[0], payload["part"], (found[1],)))
            places += annotation_places(payload, payload["part"])
        elif kind == ANNOTATION_ADDED:
            places += annotation_places(payload, None)
        elif kind in ITEM_EVENTS:
            item, index = payload.get("item"), payload.get("output_index")
            if isinstance(index, int):
                places += [(key, item, path) for key, path, _ in item_texts(item, index)]
        elif isinstance(payload.get("response"), dict):
            output = payload["response"].get("output")
            for index, item in enumerate(output if isinstance(output, list) else ()):
                places += [(key, item, path) for key, path, _ in item_texts(item, index)]
        self._rewrite(event, payload, places, final, kind in TERMINAL, out)

    def _delta(self, event: Event, payload: dict[str, Any], kind: str, out: list[bytes]) -> None:
        key, text = stream_key(kind, payload), payload.get("delta")
        if key is None or not isinstance(text, str):
            # Text that cannot be placed cannot be checked: it is not sent.
            if not isinstance(text, str) or not text:
                self.send_raw(event, payload, out)
            return
        self._upstream.setdefault(key, []).append(text)
        released = self.release(key, text)
        if self._runs is not None:
            self.drain(out)
        if released == text:
            self.send_raw(event, payload, out)
        elif released:
            payload["delta"] = released
            _scrub(payload)
            self.send(payload, payload["type"], out)
        # else: all of it is held back for now, and it carries nothing else.

    def _rewrite(
        self,
        event: Event,
        payload: dict[str, Any],
        places: list[tuple[Hashable, Any, tuple[str | int, ...]]],
        final: bool,
        terminal: bool,
        out: list[bytes],
    ) -> None:
        """Send an event that repeats whole texts, each one replaced by what the client
        was sent of it (after feeding the session what it had not seen yet)."""
        for key, holder, path in places:
            self._catch_up(key, _get(holder, path), final, out)
        if terminal:
            self.flush(self.open_keys(), out)
        changed = False
        for key, holder, path in places:
            sent = self.responses.text(key)
            if _get(holder, path) != sent:
                set_at(holder, path, sent)
                changed = True
        if changed:
            _scrub(payload)
            for _, holder, path in places:
                _scrub(_get(holder, path[:-1]))
            self.send(payload, payload["type"], out)
        else:
            self.send_raw(event, payload, out)

    def _catch_up(self, key: Hashable, whole: Any, final: bool, out: list[bytes]) -> None:
        seen = "".join(self._upstream.get(key, ()))
        if isinstance(whole, str) and len(whole) > len(seen) and whole.startswith(seen):
            self._upstream[key] = [whole]
            released = self.release(key, whole[len(seen) :])
            if self._runs is not None:
                self.drain(out)
            if released:
                self._send_text(key, released, out)
        if final and self.run_of_channel(key) is None:  # (a run's channel ends with it)
            self.flush([key], out)

    def flush(self, keys: Iterable[Hashable], out: list[bytes]) -> None:
        """End the text streams ``keys``: send what they still held."""
        for key in keys:
            run = self.run_of_channel(key)
            if run is not None:
                self.end_run(run, out)
                continue
            text = self.flush_text(key)
            if text:
                self._send_text(key, text, out)

    def _send_text(self, key: Hashable, text: str, out: list[bytes]) -> None:
        """Released text of ``key``: a delta event, or (for text no delta event carries)
        straight into the assembly, which the event that repeats it is rewritten from."""
        if key[0] in WHOLE_ONLY:  # type: ignore[index]
            self.responses.add_text(key, text)
        else:
            payload, name = self.flush_event(key, text)
            self.send(payload, name, out)

    def _remember(self, payload: dict[str, Any]) -> None:
        """Note output item ids and types (extra delta events name their item)."""
        items: list[tuple[int, Any]] = []
        if isinstance(payload.get("output_index"), int):
            index = payload["output_index"]
            if isinstance(payload.get("item_id"), str):
                self._ids.setdefault(index, payload["item_id"])
            items.append((index, payload.get("item")))
        response = payload.get("response")
        output = response.get("output") if isinstance(response, dict) else None
        items += list(enumerate(output if isinstance(output, list) else ()))
        for index, item in items:
            if isinstance(item, dict):
                if isinstance(item.get("id"), str):
                    self._ids[index] = item["id"]
                if isinstance(item.get("type"), str):
                    self._types[index] = item["type"]

    def flush_event(self, key: Hashable, text: str) -> tuple[dict[str, Any], str | None]:
        """A delta event carrying ``text`` of stream ``key``."""
        assert isinstance(key, tuple)
        kind, index = key[0], key[1]
        delta_type, number_field = DELTA_EVENTS[kind]
        if kind == "tool" and self._types.get(index) == "custom_tool_call":
            delta_type = "response.custom_tool_call_input.delta"
        payload: dict[str, Any] = {
            "type": delta_type,
            "item_id": self._ids.get(index, ""),
            "output_index": index,
        }
        if number_field is not None:
            payload[number_field] = key[2]
        payload["delta"] = text
        if kind == "text":
            payload["logprobs"] = []
        payload["sequence_number"] = self._sequence
        return payload, delta_type


def _drop_items(payload: dict[str, Any], stripped: list[Hashable]) -> None:
    """Remove the stripped tool calls from a terminal event's whole response."""
    response = payload.get("response")
    output = response.get("output") if isinstance(response, dict) else None
    if isinstance(output, list):
        output[:] = [item for number, item in enumerate(output) if number not in stripped]


def _get(holder: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        holder = holder[step]
    return holder
