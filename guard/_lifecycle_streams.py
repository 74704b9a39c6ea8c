"""A guarded call's streamed reply: what a format's stream filter talks to.

A progressive stream gets a :class:`~guard.streaming.StreamSession` (text checks as the
text passes, each tool call checked as soon as its arguments are complete, whole-reply
checks at the end); a buffered stream is checked whole at its end like a complete reply,
and may be reasked. The filter itself is :mod:`guard.formats._stream`.

:class:`StreamSteps` is a part of :class:`~guard.lifecycle.GuardedCall`, kept apart so
that the complete-reply path and the stream path each read on their own; it works on
the call's state, which ``GuardedCall`` sets up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from guard._drive import Step, run_sync
from guard.types import Action, Call, Reply

if TYPE_CHECKING:
    from guard.checks.base import CheckContext, CompleteToolCall
    from guard.decision import Decision
    from guard.engine import Guard
    from guard.streaming import StreamSession


class StreamSteps:
    """The stream methods of :class:`~guard.lifecycle.GuardedCall`."""

    # The call's state (set by GuardedCall.__init__).
    guard: Guard
    call: Call
    ctx: CheckContext
    attempts: int
    reply: Reply | None
    output: Decision | None
    streaming: bool

    if TYPE_CHECKING:  # GuardedCall's complete-reply steps, which a buffered stream reuses

        @property
        def output_checks(self) -> list[Any]: ...

        def _output(self, reply: Reply) -> Step[Decision]: ...

        def _check_reply(self, reply: Reply) -> Step[tuple[Decision, Call | None]]: ...

    @property
    def buffering(self) -> bool:
        """Stream replies are checked whole before any byte is released: by the policy,
        or because a check needs this call's whole reply (``needs_whole_reply``: a schema
        from the request's ``response_format``)."""
        if self.guard.stream_buffered:
            return True
        for check in self.output_checks:
            needs = getattr(check, "needs_whole_reply", None)
            if needs is not None and needs(self.call):
                return True
        return False

    def stream_checks(self, call: Call) -> Self:
        """What a stream filter talks to (this object; see :mod:`guard.formats._stream`)."""
        return self

    def stream_filter(self) -> Any:
        """The format's stream filter for this call's reply."""
        from guard import formats

        # Formats take "what the filter talks to": a Guard, or this lifecycle (typed as
        # Guard in the format modules until they name the protocol).
        return formats.get(self.call.format).stream_filter(self.call, self)  # type: ignore[arg-type]

    def open_session(self) -> StreamSession | None:
        """The progressive session of a streamed reply (``None`` in buffer mode)."""
        self.streaming = True
        if self.buffering:
            return None
        from guard.streaming import StreamSession

        return StreamSession(self.guard, self.call, self.ctx)

    def check_tool_call_step(
        self, tool_call: CompleteToolCall, session: StreamSession
    ) -> Step[Action]:
        """Run the tool-call checks on one complete tool call of a progressive stream;
        the strictest effective action (the session records the verdicts)."""
        from guard._tool_calls import run_tool_call

        step = run_tool_call(self.guard, session.tool_checks, self.call, tool_call, self.ctx)
        verdicts = yield from step
        return session.tool_verdicts(tool_call, verdicts)

    def end_stream(self, reply: Reply, session: StreamSession | None) -> Decision:
        """A progressive stream ended: the session's decision plus the whole-reply checks."""
        return run_sync(self.end_stream_step(reply, session))

    def end_stream_step(self, reply: Reply, session: StreamSession | None) -> Step[Decision]:
        """:meth:`end_stream` as a step (an async frontend awaits the checks)."""
        self.attempts += 1
        self.reply = reply
        assert session is not None
        self.output = decision = yield from session.close_step(reply)
        return decision

    def abandon_stream(self, reply: Reply, session: StreamSession | None) -> Decision | None:
        """The upstream broke off a stream: the decision on the text that was streamed."""
        if session is None:  # buffered: check what arrived, for the record
            return run_sync(self._output(reply))
        self.attempts += 1
        self.reply = reply
        self.output = run_sync(session.close_step(None))
        return self.output

    def check_buffered(self, reply: Reply) -> tuple[Decision, Call | None]:
        """A buffered stream ended: its output decision, and the call to send again when
        a check asked for a reask (the frontend re-requests the stream)."""
        return run_sync(self.check_buffered_step(reply))

    def check_buffered_step(self, reply: Reply) -> Step[tuple[Decision, Call | None]]:
        """:meth:`check_buffered` as a step (an async frontend awaits the checks)."""
        return self._check_reply(reply)
