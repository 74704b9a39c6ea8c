"""The life of one guarded call — one implementation for every frontend.

::

    parse ─> identity ─> input stage ─> request patches ─> forward
        ─> complete reply: output stage (reask: forward again)   ─┐
        ─> or stream: the format's filter (text checks as it      ├─> finish: metrics,
           passes, whole-reply checks at its end, restores)      ─┘   audit, finish hooks

:class:`GuardedCall` does no I/O. A frontend (the proxy, the sync and async transports,
``wrap``, ``Guard.run``) parses the request into a :class:`~guard.types.Call`, opens a
``GuardedCall`` with ``guard.open(call, frontend=...)``, sends what :meth:`start`
returns, hands each reply to :meth:`deliver` (which may return the next request: a
reask), or pumps a stream through :meth:`stream_filter`, and calls :meth:`finish` on
every exit path — delivered, refused, upstream error, timeout, client gone. ``finish``
runs once; it counts the call's outcome, writes one audit line and runs the checks'
``finish`` hooks (budgets settle there).

Each step exists twice, ``start``/``astart``, ``deliver``/``adeliver``: one generator
(:mod:`guard._drive`) run blocking or awaited, so sync and async frontends share it.
"""

from __future__ import annotations

import functools
import inspect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from guard._drive import Pending, Step, run_async, run_sync, wait_sync
from guard.checks.base import CallEnd, CheckContext, CompleteToolCall
from guard.decision import Decision, Outcome
from guard.patches import Patched
from guard.restore import Restorer
from guard.stages import StageResult, run_stage
from guard.types import Action, Call, Reply, Stage, Verdict

if TYPE_CHECKING:
    from guard.engine import Guard
    from guard.streaming import StreamSession

#: Reply finish reasons that mean "cut short by the length limit": never reasked.
_TRUNCATED = ("length", "max_tokens")


@functools.cache
def _checks_reply(format_name: str) -> bool:
    """False for formats whose reply is not model text (``checks_reply = False``: token
    counting); read once per format from the format itself."""
    from guard import formats

    try:
        fmt = formats.get(format_name)
    except KeyError:  # a call built by hand, with a format of its own
        return True
    return bool(getattr(fmt, "checks_reply", True))


@dataclass(frozen=True, slots=True)
class Refusal:
    """How to refuse a call, in the API's own error shape: status, code, message."""

    status: int
    code: str
    message: str
    decision: Decision
    retry_after: float | None = None


class GuardedCall:
    """One call through the guard; see the module docstring for its life."""

    def __init__(self, guard: Guard, call: Call, *, frontend: str, upstream: str | None = None):
        guard.ensure_request_id(call)
        self.guard = guard
        self.call = call
        self.frontend = frontend
        self.upstream = upstream
        self.ctx = CheckContext(
            Stage.INPUT,
            guard.policy_name,
            call.segments,
            call.request_id,
            caller=call.caller,
            store=guard.store,
            frontend=frontend,
        )
        self.input: Decision | None = None
        self.output: Decision | None = None
        self.reply: Reply | None = None
        self.refusal: Refusal | None = None
        self.patched = Patched()
        self.attempts = 0
        #: True while a stream is being filtered (its outcome is final at its end).
        self.streaming = False
        self.started = time.perf_counter()
        #: Time spent waiting for the upstream (frontends add it with :meth:`waited`);
        #: ``None`` until one does. The rest of the call's time is guardwire's own.
        self.upstream_seconds: float | None = None
        self._finished = False
        self._restorer: Restorer | None = None
        #: Output checks for this call only, after the policy's.
        self.extra_output_checks: list[Any] = []
        #: False for APIs whose reply is not model text (token counting).
        self.checks_reply = _checks_reply(call.format)

    # -- input -------------------------------------------------------------------------

    def start(self) -> Call | None:
        """Run the input stage; the call to forward, or ``None`` (see :attr:`refusal`)."""
        return run_sync(self._start())

    async def astart(self) -> Call | None:
        """:meth:`start` for async frontends (async checks are awaited)."""
        return await run_async(self._start())

    def _start(self) -> Step[Call | None]:
        guard, call = self.guard, self.call
        self.ctx.stage, self.ctx.segments = Stage.INPUT, call.segments
        result = yield from run_stage(guard, Stage.INPUT, guard.input_checks, call, self.ctx)
        self._check_request(result.decision)
        self.input = self.ctx.input_decision = result.decision
        self._write_input(result)
        if result.decision.blocked:
            self.refusal = _refusal(result.decision)
            return None
        if result.patches and not guard.shadow:
            from guard.formats import apply_patches

            self.patched = apply_patches(call, result.patches)
        return call

    def _check_request(self, decision: Decision) -> None:
        """Output checks that read the request (a schema in ``response_format``) refuse
        it before it leaves when it cannot work (a 400: nothing is sent upstream)."""
        if decision.blocked or self.guard.shadow:
            return
        for check in self.output_checks:
            prepare = getattr(check, "check_request", None)
            verdict = prepare(self.call) if prepare is not None else None
            if verdict is not None and verdict.effective is Action.BLOCK:
                decision.verdicts.append(verdict)
                decision.action = Action.BLOCK
                return

    @property
    def output_checks(self) -> list[Any]:
        """The policy's output checks and those added for this call (``check_output``
        with a schema, ``wrap(output=Model)``)."""
        checks = self.guard.output_checks
        return [*checks, *self.extra_output_checks] if self.extra_output_checks else checks

    def _write_input(self, result: StageResult) -> None:
        from guard.engine import _write_segments

        if result.edited and not self.guard.shadow:
            _write_segments(self.call.segments, result.texts, self.call.raw)
            self.call.body = b""

    # -- complete replies ------------------------------------------------------------------

    def deliver(self, reply: Reply) -> Call | None:
        """Run the output stage on a reply; the call to send again (a reask), or ``None``:
        the reply (checked, redacted, restored) is in :attr:`reply`, or refused."""
        return run_sync(self._deliver(reply))

    async def adeliver(self, reply: Reply) -> Call | None:
        """:meth:`deliver` for async frontends."""
        return await run_async(self._deliver(reply))

    def _deliver(self, reply: Reply) -> Step[Call | None]:
        if not self.checks_reply:
            # Token counting: the reply is a number, not model text (no output stage).
            self.attempts += 1
            self.reply = reply
            return None
        decision = yield from self._output(reply)
        if decision.action is Action.REASK:
            again = self._reask(reply, decision)
            if again is not None:
                again = yield from self._next_attempt(again, reply)
            return again
        if decision.blocked:
            self.refusal = _refusal(decision)
            return None
        self._restore_reply(reply)
        return None

    def _output(self, reply: Reply) -> Step[Decision]:
        from guard.engine import _write_reply, _write_segments

        guard = self.guard
        self.attempts += 1
        self.reply = reply
        segments = reply.segments()
        self.ctx.stage, self.ctx.segments, self.ctx.attempt = Stage.OUTPUT, segments, self.attempts
        checks = self.output_checks
        result = yield from run_stage(guard, Stage.OUTPUT, checks, self.call, self.ctx, reply)
        if result.edited and not guard.shadow:
            _write_segments(segments, result.texts, reply.raw)
            _write_reply(reply, segments)
            reply.body = b""
        if result.patches and not guard.shadow and not result.decision.blocked:
            # Reply patches (a stripped tool call), after the edits they may move.
            from guard import formats

            reread = formats.get(reply.format).reply_from_raw  # type: ignore[attr-defined]
            formats.apply_reply_patches(reply, result.patches, reread)
        self.output = result.decision
        return result.decision

    def _reask(self, reply: Reply, decision: Decision) -> Call | None:
        truncated = any(c.finish_reason in _TRUNCATED for c in reply.choices)
        if truncated or self.attempts > self.guard.policy.max_reasks:
            # Out of attempts (or truncated: the same budget would be truncated again).
            self.output = decision.exhausted()
            self.refusal = _refusal(self.output)
            return None
        from guard import formats

        self.guard.telemetry.reasks.labels(self.call.format).inc()
        self.call = formats.get(self.call.format).with_feedback(
            self.call, reply, decision.feedback()
        )
        self.ctx.segments = self.call.segments
        return self.call

    def _next_attempt(self, call: Call, reply: Reply) -> Step[Call | None]:
        """Before a further upstream attempt (a reask): the ``attempt(call, reply, ctx)``
        hooks of the input checks (a budget settles the attempt that ended and reserves
        for the next). A block refuses the call; patches apply to the new request."""
        verdicts: list[Verdict] = []
        for check in self.guard.input_checks:
            hook = getattr(check, "attempt", None)
            if hook is None:
                continue
            try:
                result = hook(call, reply, self.ctx)
                if inspect.isawaitable(result):
                    result = yield Pending(result, self.guard.timeout_of(check))
                verdict: Verdict = result
            except Exception as exc:  # decided by on_error, like a failing stage check
                verdict = self.guard.check_failed(check, Stage.INPUT, exc)
            verdict.shadow = verdict.shadow or self.guard.shadow
            verdicts.append(verdict)
        if not verdicts:
            return call
        decision = self.guard.decide(Stage.INPUT, verdicts, call, 0.0)
        if decision.blocked:
            self.refusal = _refusal(decision)
            return None
        patches = [p for v in verdicts if not v.shadow for p in v.patches]
        if patches:
            from guard.formats import apply_patches

            apply_patches(call, patches)
        return call

    def _restore_reply(self, reply: Reply) -> None:
        restorer = self.restorer()
        if restorer is None:
            return
        from guard.engine import _write_reply, _write_segments

        segments = reply.segments()
        texts = [restorer.text(s.text) for s in segments]
        if any(t != s.text for t, s in zip(texts, segments, strict=True)):
            _write_segments(segments, texts, reply.raw)
            _write_reply(reply, segments)
            reply.body = b""

    def restorer(self) -> Restorer | None:
        """The restorer of this call's placeholders, if an input check issued any."""
        if self._restorer is None and self.ctx.restores:
            self._restorer = Restorer(self.ctx.restores)
        return self._restorer

    # -- streams -----------------------------------------------------------------------------

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

    def check_tool_call_step(
        self, tool_call: CompleteToolCall, session: StreamSession
    ) -> Step[Action]:
        """Run the tool-call checks on one complete tool call of a progressive stream;
        the strictest effective action (the session records the verdicts)."""
        from guard._tool_calls import run_tool_call

        step = run_tool_call(self.guard, session.tool_checks, self.call, tool_call, self.ctx)
        verdicts = yield from step
        return session.tool_verdicts(tool_call, verdicts)

    def stream_checks(self, call: Call) -> GuardedCall:
        """What a stream filter talks to (this object; see :mod:`guard.formats._stream`)."""
        return self

    def open_session(self) -> StreamSession | None:
        """The progressive session of a streamed reply (``None`` in buffer mode)."""
        self.streaming = True
        if self.buffering:
            return None
        from guard.streaming import StreamSession

        return StreamSession(self.guard, self.call, self.ctx)

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
        decision = yield from self._output(reply)
        if decision.action is Action.REASK:
            again = self._reask(reply, decision)
            if again is not None:
                again = yield from self._next_attempt(again, reply)
            return (self.output or decision), again
        if not decision.blocked:
            self._restore_reply(reply)
        return decision, None

    def stream_filter(self) -> Any:
        """The format's stream filter for this call's reply."""
        from guard import formats

        # Formats take "what the filter talks to": a Guard, or this lifecycle (typed as
        # Guard in the format modules until they name the protocol).
        return formats.get(self.call.format).stream_filter(self.call, self)  # type: ignore[arg-type]

    def waited(self, seconds: float) -> None:
        """Add time spent waiting for the upstream (for the added-latency histogram)."""
        self.upstream_seconds = (self.upstream_seconds or 0.0) + seconds

    # -- the end ---------------------------------------------------------------------------

    def outcome(self) -> Outcome:
        """Input and output decisions, reply and attempts so far."""
        assert self.input is not None
        return Outcome(self.input, self.output, self.reply, self.attempts)

    def label(self) -> str:
        """The call's outcome (``guard.telemetry.OUTCOMES``) as decided so far."""
        if self.refusal is not None:
            return "blocked"
        action = self.input.action if self.input is not None else Action.ALLOW
        if self.output is not None:
            action = max(action, self.output.action)
        if action is Action.BLOCK:
            return "blocked"
        if self.attempts > 1:
            return "reasked"
        return {Action.REDACT: "redacted", Action.WARN: "warned"}.get(action, "allowed")

    def finish(self, outcome: str | None = None, *, status: int | None = None) -> None:
        """End the call (once): count it, write its audit line, run finish hooks.

        ``outcome`` overrides the decided one for ends the guard did not decide:
        ``upstream_error``, ``disconnected``.
        """
        end = self._end(outcome, status)
        if end is None:
            return
        for hook in self._hooks():
            result = hook(self.ctx, end)
            if inspect.isawaitable(result):
                wait_sync(result)

    async def afinish(self, outcome: str | None = None, *, status: int | None = None) -> None:
        """:meth:`finish` for async frontends (async hooks are awaited)."""
        end = self._end(outcome, status)
        if end is None:
            return
        for hook in self._hooks():
            result = hook(self.ctx, end)
            if inspect.isawaitable(result):
                await result

    def _end(self, outcome: str | None, status: int | None) -> CallEnd | None:
        if self._finished:
            return None
        self._finished = True
        label = outcome or self.label()
        if status is None:
            status = self.refusal.status if self.refusal is not None else 200
        guard = self.guard
        guard.count_call(self.frontend, self.call.format, label)
        if self.streaming and self.output is not None and self.output.blocked:
            check = next((v.check for v in self.output.verdicts if v.effective is Action.BLOCK), "")
            guard.telemetry.stream_cutoffs.labels(check or "unknown").inc()
        reply = self.reply
        usage = reply.usage if reply is not None else None
        total = time.perf_counter() - self.started
        waited = self.upstream_seconds
        guard.telemetry.finish_call(
            self.frontend,
            self.call.model,
            label,
            usage,
            # A stream's time is mostly the upstream's generating: only complete calls.
            None if waited is None or self.streaming else total - waited,
        )
        guard.record_call(self, label, status, total)
        return CallEnd(label, status, self.attempts, usage)

    def _hooks(self) -> list[Any]:
        return self.guard.finish_hooks


def _refusal(decision: Decision) -> Refusal:
    deciding = [v for v in decision.verdicts if v.effective is decision.action]
    status = next((v.status for v in deciding if v.status), 400)
    code = next((v.code for v in deciding if v.code), "content_blocked")
    retry_after = next((v.retry_after for v in deciding if v.retry_after is not None), None)
    return Refusal(status, code, decision.message(), decision, retry_after)
