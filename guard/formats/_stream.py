"""What the OpenAI and Anthropic stream filters share.

:class:`EventFilter` parses the upstream's server-sent events, parses each event's JSON
once and hands it to the format's ``forward`` (progressive mode) or collects it
(buffer mode). Every event the client gets goes through :meth:`EventFilter.send` or
:meth:`EventFilter.send_raw`, which also feed the format's :class:`Assembly`, so the
assembled :attr:`~EventFilter.reply` is exactly what the client received.

Progressive mode: each text delta passes through the engine's
:class:`~guard.streaming.StreamSession`; the event is re-emitted with the released text
(unchanged events are forwarded byte-for-byte, emptied ones are dropped). Buffer mode:
nothing leaves until the stream ends; then the lifecycle's output stage checks the
assembled reply and the format renders it (or an error event) in one go. The text side
(session, envelopes of plain text deltas, sending) is :mod:`guard.formats._stream_text`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guard._drive import Step, run_async, run_sync
from guard.formats._envelope import event_payload
from guard.formats._json import reply_variant_error, reply_variants_noted
from guard.formats._stream_hooks import Assembly, StreamingFormat
from guard.formats._stream_text import TextStreams
from guard.formats._stream_whole import WholeReplies
from guard.formats._tool_gate import ToolGate
from guard.formats.sse import Event, SSEParser
from guard.types import Action, Call, Reply, Verdict

if TYPE_CHECKING:
    from guard.checks.base import CompleteToolCall
    from guard.decision import Decision
    from guard.engine import Guard

#: Code of the error event that ends a stream a check blocked.
BLOCKED = "content_blocked"

_UNREADABLE = "the upstream sent a stream event that is not a JSON object"


def _unreadable(event: Event) -> bool:
    """True for an event with data that is neither JSON nor ``[DONE]``."""
    data = event.data
    return data is not None and data.strip() not in ("", "[DONE]")


class EventFilter(WholeReplies, TextStreams):
    """Base of the SSE stream filters; implements :class:`~guard.formats.StreamFilter`."""

    def __init__(self, fmt: StreamingFormat, call: Call, guard: Guard, assembly: Assembly) -> None:
        self.done = False
        self.decision: Decision | None = None
        self.reply = Reply(fmt.name)
        self.format = fmt
        self.call = call
        #: The call's lifecycle (``guard`` may be a Guard or the lifecycle itself).
        self.checks = guard.stream_checks(call)
        super().__init__(self.checks.open_session(), self.checks.restorer(), assembly)
        self._parser = SSEParser()
        self._buffering = self.checks.buffering
        #: Drop the usage-only chunk the guard asked for but the client did not.
        self.strip_usage = self.checks.patched.strip_usage
        #: Set in buffer mode when a check asked for a reask: the frontend sends this call
        #: upstream again and filters the new stream with a new filter.
        self.retry: Call | None = None
        #: True when the upstream broke off (or ended without its terminal event).
        self.upstream_failed = False
        #: The upstream's terminal event (``[DONE]``, ``message_stop``), held until the end
        #: decision is made: a block must reach the client before it, or SDKs stop reading.
        self._terminal: Event | None = None
        #: Holds tool calls back until each is complete and checked (formats that read
        #: tool-call events, when the policy has tool-call checks).
        self.gate: ToolGate | None = None
        if self.gates_tool_calls and self.session is not None and self.session.tool_checks:
            stream = self.checks.guard.policy.stream
            self.gate = ToolGate(
                self,
                self.session.tool_checks[0].name,
                stream.max_tool_arguments,
                stream.on_holdback_overflow == "block",
            )

    # -- tool calls (the gate's side) ------------------------------------------------

    def pass_event(self, event: Event, payload: dict[str, Any] | None, out: list[bytes]) -> None:
        """Send an event on through the text checks (``forward``), renumbered after a
        removed tool call; learn the envelope of a plain text delta that went out."""
        if self.gate is not None and self.gate.stripped and payload is not None:
            event, payload = self.renumber(event, payload, self.gate)
        mark = len(out)
        delta = None
        if self._learning and payload is not None:
            delta = self.text_delta(event, payload)
        self.forward(event, payload, out)
        # Learn from an event that went out, as is or with its text changed by a
        # hold-back (either way the assembly has seen its stream).
        if delta is not None and len(out) > mark:
            self._learn(event, delta)

    def check_tool_call(self, tool_call: CompleteToolCall) -> Step[Action]:
        """Run the policy's tool-call checks on one complete tool call (a step)."""
        assert self.session is not None
        action: Action = yield from self.checks.check_tool_call_step(tool_call, self.session)
        if action is Action.REDACT:
            # Later events get renumbered: raw envelopes of them no longer apply.
            self._envelopes.clear()
            self._learning = 0
        return action

    def blocked(self) -> bool:
        """True once a check blocked the stream."""
        return self._blocked()

    def _decide(self) -> Step[bytes]:
        """Run the checks of the tool calls the gate found complete; what may go out
        now (or the error event that ends the stream)."""
        assert self.gate is not None
        out: list[bytes] = []
        yield from self.gate.decide(out)
        if self._blocked():
            out.append(self._block())
        return b"".join(out)

    def refuse_tool_call(self, tool_call: CompleteToolCall, verdict: Verdict) -> None:
        """End the stream with a block the gate decided (hold-back cap reached)."""
        assert self.session is not None
        self.session.tool_verdicts(tool_call, [verdict])

    # -- the StreamFilter interface --------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Take raw upstream bytes (any split); return bytes to send to the client."""
        if self.done or ((self._sniffing or self.answered_whole) and self.took_whole(data)):
            return b""
        out = self._handle(self._parser.feed(data))
        if self.gate is not None and self.gate.due:
            out += run_sync(self._decide())  # async tool-call checks: on the helper loop
        return out

    async def afeed(self, data: bytes) -> bytes:
        """:meth:`feed` for async frontends: tool-call checks are awaited on the
        caller's loop (only a filter with a :attr:`gate` has any)."""
        if self.done or ((self._sniffing or self.answered_whole) and self.took_whole(data)):
            return b""
        out = self._handle(self._parser.feed(data))
        if self.gate is not None and self.gate.due:
            out += await run_async(self._decide())
        return out

    def close(self) -> bytes:
        """The upstream ended: release what is left, decide, then end the stream."""
        return run_sync(self._close())

    async def aclose(self) -> bytes:
        """:meth:`close` for async frontends: the checks that run at the end of the stream
        (whole-reply checks, a buffered reply's output stage) are awaited on the caller's
        loop instead of blocking it while the helper loop runs them."""
        return await run_async(self._close())

    def _close(self) -> Step[bytes]:
        if self.done:
            return b""
        if self.answered_whole:
            return (yield from self.release_whole())
        out = [self._handle(self._parser.close())]
        if self.gate is not None and self.gate.due and not self.done:
            out.append((yield from self._decide()))
        if self.done:
            return b"".join(out)
        if self.has_terminal and self._terminal is None:
            # Connection closed half way, or a close-delimited body that stopped: the SDK
            # would return the truncated text as if complete. End with an error instead.
            return b"".join(out) + self.fail("the upstream ended the stream before it was complete")
        if self._buffering:
            self.done = True
            return b"".join(out) + (yield from self._release_buffered(self._assembled()))
        if self.gate is not None:
            self.gate.finish()  # tool calls the stream never showed complete
            out.append((yield from self._decide()))
            if self.done:
                return b"".join(out)
        mark = len(out)
        if self._terminal is not None:
            self.finish_terminal(self._terminal)
        self.flush(list(self._open), out)
        if self._blocked():
            del out[mark:]
            out.append(self._block())
            return b"".join(out)
        yield from self._settle_step()
        if self.decision is not None and self.decision.blocked:
            # A check that needs the whole reply blocked at the end of the stream: the
            # error event goes out before the terminal event, which is then never sent.
            out.append(self._refused(self.decision))
        elif self._terminal is not None:
            out.append(self._terminal.raw)
        return b"".join(out)

    def fail(self, message: str, code: str = "upstream_error") -> bytes:
        """The upstream broke: end with an error event, releasing nothing more."""
        if self.done:
            return b""
        self._abandon()
        return self.format.stream_error(message, code)

    # -- internals -------------------------------------------------------------------------

    def _handle(self, events: list[Event]) -> bytes:
        out: list[bytes] = []
        for event in events:
            mark = len(out)
            # (Events wait behind a held tool call: none may overtake them.)
            gate_busy = self.gate is not None and self.gate.busy
            envelope, text = (None, "") if gate_busy else self._enveloped(event)
            if envelope is not None:
                if self._buffering:
                    self.assembly.add_text(envelope.key, text)
                else:
                    self.forward_text(envelope, event, text, out)
            else:
                payload = event_payload(event.data)
                if payload is not None and reply_variants_noted():
                    api = "Anthropic" if self.format.name.startswith("anthropic") else "OpenAI"
                    error = reply_variant_error(payload, api)
                    if error is not None:
                        # A key a client may read in place of the checked field: the
                        # stream ends as broken, an upstream fault (as for a reply).
                        out.append(self.fail(str(error)))
                        break
                if self.has_terminal and self.is_terminal(event, payload):
                    self._terminal = event
                    continue
                if self._terminal is not None:
                    continue  # nothing may follow the terminal event
                if self.is_error(event, payload):
                    # The upstream's own error reaches the client as sent; nothing is flushed.
                    self._abandon()
                    out.append(event.raw)
                    break
                if payload is None and _unreadable(event):
                    # Data the guard cannot read (not JSON, or nested past the parser's
                    # depth) is never passed on unchecked: the stream ends as broken.
                    out.append(self.fail(_UNREADABLE))
                    break
                if self._buffering:
                    if payload is not None:
                        delta = self.text_delta(event, payload) if self._learning else None
                        self.assembly.add(payload)
                        if delta is not None:
                            self._learn(event, delta)
                elif self.gate is not None and payload is not None:
                    self.gate.admit(event, payload, out)
                else:
                    self.pass_event(event, payload, out)
            if self._blocked():
                del out[mark:]
                out.append(self._block())
                break
        return b"".join(out)

    def _block(self) -> bytes:
        self._settle()
        assert self.decision is not None
        return self._refused(self.decision)

    def _refused(self, decision: Decision) -> bytes:
        """The error event of a refusal: the deciding check's code and the error type of
        its status unstreamed."""
        code, status = _deciding(decision)
        return self.format.stream_error(decision.message(), code, status)

    def _settle(self) -> None:
        """End the stream: assemble the reply and take the output decision."""
        run_sync(self._settle_step())

    def _settle_step(self) -> Step[None]:
        self.done = True
        self.reply = self._assembled()
        if self.session is not None:
            self.decision = yield from self.checks.end_stream_step(self.reply, self.session)

    def _abandon(self) -> None:
        """The upstream broke off: decide on what was streamed (no whole-reply checks)."""
        self.upstream_failed = self.done = True
        self.reply = self._assembled()
        self.decision = self.checks.abandon_stream(self.reply, self.session)

    def _release_buffered(self, reply: Reply) -> Step[bytes]:
        decision, again = yield from self.checks.check_buffered_step(reply)
        self.reply, self.decision = reply, decision
        if again is not None:
            self.retry = again  # the frontend asks the upstream again; nothing was sent
            return b""
        if decision.blocked:
            return self._refused(decision)
        return b"".join(self.format.render_stream(self.call, reply))

    def _assembled(self) -> Reply:
        return self.format.reply_from_raw(self.assembly.build())


def _deciding(decision: Decision) -> tuple[str, int | None]:
    """The code and status of a refusal in a stream: those of the deciding check with its
    own code (an agent limit's ``agent_loop``, 403), else ``content_blocked`` without a
    status (as for a complete reply)."""
    for verdict in decision.verdicts:
        if verdict.effective is decision.action and verdict.code:
            return verdict.code, verdict.status
    return BLOCKED, None


async def aclose(stream_filter: Any) -> bytes:
    """Close a stream filter from async code: awaited when it can (``aclose``)."""
    closing = getattr(stream_filter, "aclose", None)
    if closing is None:
        return bytes(stream_filter.close())
    return bytes(await closing())
