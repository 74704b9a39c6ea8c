"""Hold each tool call of a progressive stream back until it is complete, then check it.

A :class:`ToolGate` sits in front of a stream filter's ``forward`` when the policy has
checks of complete tool calls (``Capabilities(tool_calls=True)``). The format reads each
upstream event (:meth:`GatedFilter.tool_event`, :mod:`guard.formats._tool_events`): which
tool call it belongs to, what of the call it carries (id, name, a piece of the
arguments), and which tool calls it shows complete (the next tool call's index,
``content_block_stop``, ``output_item.done``, a finish reason; the stream's end
completes the rest). Events of an open tool call wait in one ordered queue — and so does
every later event, so the client sees the upstream's order. When a call completes its
checks run (:mod:`guard._tool_calls`):

- pass: its held events go on, through the filter's usual text checks, unchanged;
- ``BLOCK``: the stream ends with the API's error event; none of its bytes left;
- ``REDACT`` (``action: strip``): its events are dropped; the format renumbers later
  tool calls / content blocks / output items so that the client's indices stay dense.

More of a tool call after it was checked and let through (an upstream interleaving
parallel calls, a delta after ``content_block_stop``) ends the stream: it was never checked.

Hold-back is bounded by ``stream.max_tool_arguments`` (characters of arguments per tool
call, 262,144 by default; the text hold-back ``stream.max_holdback`` is much smaller, and
a tool call's arguments can be a whole file): past it ``on_holdback_overflow: block``
ends the stream, ``release`` lets the call go unheld — it is then checked with the whole
reply at the stream's end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from guard._drive import Step
from guard._tool_calls import complete_tool_call
from guard.checks.base import CompleteToolCall
from guard.formats.sse import Event
from guard.types import Action, Finding, Verdict


@dataclass(slots=True)
class ToolPiece:
    """What one stream event carries of one tool call."""

    key: Hashable
    id: str = ""
    name: str = ""
    arguments: str = ""
    #: The complete arguments, when the event repeats them (``*.done`` events).
    whole: str | None = None


@dataclass(slots=True)
class ToolEvent:
    """A format's reading of one stream event, for the gate."""

    pieces: Sequence[ToolPiece] = ()
    #: Tool calls this event shows complete before it (a new one began, a choice ended).
    ends_before: Sequence[Hashable] = ()
    #: Tool calls complete with this event, their last one (``content_block_stop``).
    ends_after: Sequence[Hashable] = ()


NOTHING = ToolEvent()


class GatedFilter(Protocol):
    """What the gate needs of a stream filter (:class:`~guard.formats._stream.EventFilter`)."""

    def tool_event(self, event: Event, payload: dict[str, Any], gate: ToolGate) -> ToolEvent:
        """The format's reading of one event."""
        ...

    def pass_event(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Send an event on through the filter's usual path (text checks)."""
        ...

    def check_tool_call(self, tool_call: CompleteToolCall) -> Step[Action]:
        """Run the tool-call checks (a step); the strictest effective action."""
        ...

    def blocked(self) -> bool:
        """True once the stream is refused (no event may be sent any more)."""
        ...

    def refuse_tool_call(self, tool_call: CompleteToolCall, verdict: Verdict) -> None:
        """End the stream with ``verdict`` (a block the gate itself decided)."""
        ...


#: A tool call is open (events arriving), due (complete, its checks not run yet), then
#: passed or stripped.
_OPEN, _DUE, _PASSED, _STRIPPED = "open", "due", "passed", "stripped"


@dataclass(slots=True)
class _Held:
    id: str = ""
    name: str = ""
    parts: list[str] = field(default_factory=list)
    whole: str | None = None
    size: int = 0
    state: str = _OPEN
    #: Let go unheld past the hold-back cap (its later pieces pass; checked at the end).
    unheld: bool = False

    def source(self) -> str:
        """The arguments as received (the ``whole`` an upstream repeated, if longer)."""
        source = "".join(self.parts)
        return self.whole if self.whole is not None and len(self.whole) > len(source) else source

    def complete(self) -> CompleteToolCall:
        return complete_tool_call(self.id, self.name, self.source())


def _changes(piece: ToolPiece, held: _Held) -> bool:
    """True when ``piece`` adds to a tool call's name or arguments."""
    whole = piece.whole is not None and piece.whole != held.source()
    return bool(piece.name or piece.arguments or whole)


class ToolGate:
    """Holds a stream's tool calls until each is complete and checked (see module)."""

    def __init__(self, owner: GatedFilter, check_name: str, max_chars: int, overflow_blocks: bool):
        self._filter = owner
        self._check_name = check_name
        self._max_chars = max_chars
        self._overflow_blocks = overflow_blocks
        self._calls: dict[Hashable, _Held] = {}
        self._queue: deque[tuple[Event, dict[str, Any], tuple[Hashable, ...]]] = deque()
        #: Stripped tool calls in order (the format renumbers what follows them).
        self.stripped: list[Hashable] = []
        #: Set once the gate ended the stream (a block); nothing more is sent.
        self.refused = False
        #: Complete tool calls whose checks have not run yet, in order.
        self._due: list[Hashable] = []

    @property
    def busy(self) -> bool:
        """True while events wait (every event then goes through the gate)."""
        return bool(self._queue)

    def knows(self, key: Hashable) -> bool:
        """True for a tool call seen before (open or decided)."""
        return key in self._calls

    def named(self, key: Hashable) -> bool:
        """True for a tool call whose name arrived."""
        held = self._calls.get(key)
        return held is not None and bool(held.name)

    def open_keys(self) -> list[Hashable]:
        """The tool calls still open (not complete yet)."""
        return [key for key, held in self._calls.items() if held.state == _OPEN]

    def passed_keys(self) -> list[Hashable]:
        """The tool calls let through so far."""
        return [key for key, held in self._calls.items() if held.state == _PASSED]

    def admit(self, event: Event, payload: dict[str, Any], out: list[bytes]) -> None:
        """Take one upstream event: hold it, or send it on (through the filter)."""
        reading = self._filter.tool_event(event, payload, self)
        for key in reading.ends_before:
            self._complete(key)
        owners: list[Hashable] = []
        for piece in reading.pieces:
            held = self._calls.get(piece.key)
            if held is None:
                held = self._calls[piece.key] = _Held()
            owners.append(piece.key)
            if held.state in (_OPEN, _DUE):  # due: its checks have not run yet
                self._take(piece, held)
            elif held.state == _PASSED and not held.unheld and _changes(piece, held):
                self._changed(held)
                return
        if owners or self._queue:
            self._queue.append((event, payload, tuple(owners)))
        else:
            self._filter.pass_event(event, payload, out)
        for key in reading.ends_after:
            self._complete(key)
        self._pump(out)

    def finish(self) -> None:
        """The stream ended: every tool call still open is complete now."""
        for key in self.open_keys():
            self._complete(key)

    def _take(self, piece: ToolPiece, held: _Held) -> None:
        held.id = held.id or piece.id
        held.name += piece.name
        if piece.arguments:
            held.parts.append(piece.arguments)
            held.size += len(piece.arguments)
        if piece.whole is not None:
            held.whole = piece.whole
            held.size = max(held.size, len(piece.whole))
        if held.size > self._max_chars:
            self._overflow(held)

    def _overflow(self, held: _Held) -> None:
        """More arguments than ``stream.max_tool_arguments``: block, or let the call go unheld
        (it is then checked with the whole reply at the stream's end)."""
        if not self._overflow_blocks:
            held.state, held.unheld = _PASSED, True
            return
        finding = Finding(
            self._check_name, "holdback_overflow", action=Action.BLOCK, rule="holdback_overflow"
        )
        reason = (
            f"check '{self._check_name}': a tool call's arguments exceed "
            f"stream.max_tool_arguments ({self._max_chars} characters) before they could be "
            "checked; raise it"
        )
        self._refuse(held, Verdict(self._check_name, Action.BLOCK, (finding,), reason=reason))

    def _changed(self, held: _Held) -> None:
        """More of a tool call arrived after it was checked and let through (an upstream
        that interleaves parallel calls, a delta after ``content_block_stop``): what it
        adds was never checked, so the stream ends before any of it is sent."""
        finding = Finding(self._check_name, "tool_call.changed", action=Action.BLOCK)
        reason = (
            f"check '{self._check_name}': the upstream sent more of a tool call after it "
            "was checked; the rest was not released"
        )
        self._refuse(held, Verdict(self._check_name, Action.BLOCK, (finding,), reason=reason))

    def _refuse(self, held: _Held, verdict: Verdict) -> None:
        held.state = _STRIPPED
        self.refused = True
        self._queue.clear()
        self._filter.refuse_tool_call(held.complete(), verdict)

    def _complete(self, key: Hashable) -> None:
        """The tool call ``key`` is complete: its checks run in :meth:`decide` (a step,
        so that async checks are awaited by async frontends); until then it and every
        later event wait."""
        held = self._calls.get(key)
        if held is not None and held.state == _OPEN and not self.refused:
            held.state = _DUE
            self._due.append(key)

    @property
    def due(self) -> bool:
        """True while complete tool calls wait for their checks (:meth:`decide`)."""
        return bool(self._due) and not self.refused

    def decide(self, out: list[bytes]) -> Step[None]:
        """Run the checks of the complete tool calls in order; send, drop or refuse what
        waited behind each (a lifecycle step: async checks are awaited by the driver)."""
        while self._due and not self.refused:
            key = self._due.pop(0)
            held = self._calls[key]
            action = yield from self._filter.check_tool_call(held.complete())
            if action is Action.BLOCK:
                held.state = _STRIPPED
                self.refused = True
                self._queue.clear()  # the stream ends: nothing held ever leaves
                return
            if action is Action.REDACT:
                held.state = _STRIPPED
                self.stripped.append(key)
            else:
                held.state = _PASSED
            self._pump(out)

    def _pump(self, out: list[bytes]) -> None:
        """Send (or drop) the held events whose tool calls are decided, in order."""
        queue = self._queue
        while queue and not self.refused:
            event, payload, owners = queue[0]
            states = {self._calls[key].state for key in owners}
            if _OPEN in states or _DUE in states:
                return
            queue.popleft()
            if states == {_STRIPPED}:
                continue  # a removed tool call's event: never sent
            if _STRIPPED in states:
                # One event carries pieces of a removed call and a kept one (no provider
                # sends that): it cannot be split, so the stream ends.
                self._inseparable(owners)
                return
            mark = len(out)
            self._filter.pass_event(event, payload, out)
            if self._filter.blocked():
                del out[mark:]  # a text check blocked on this event: it adds nothing
                self.refused = True
                self._queue.clear()
                return

    def _inseparable(self, owners: tuple[Hashable, ...]) -> None:
        finding = Finding(self._check_name, "tool_call.inseparable", action=Action.BLOCK)
        reason = (
            f"check '{self._check_name}': a tool call to remove shares a stream event with "
            "another tool call"
        )
        held = self._calls[owners[0]]
        self._refuse(held, Verdict(self._check_name, Action.BLOCK, (finding,), reason=reason))
