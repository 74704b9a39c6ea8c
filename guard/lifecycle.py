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

This module holds the request and complete-reply steps; the stream methods are in
:mod:`guard._lifecycle_streams` and the end of the call (outcome, ``finish``, the
refusal) in :mod:`guard._lifecycle_end`, both parts of :class:`GuardedCall`.
"""

from __future__ import annotations

import functools
import inspect
import time
from typing import TYPE_CHECKING, Any

from guard._drive import Pending, Step, run_async, run_sync
from guard._lifecycle_end import CallEnding, Refusal, refusal_of, retry_headers
from guard._lifecycle_streams import StreamSteps
from guard.checks.base import CheckContext
from guard.decision import Decision
from guard.patches import Patched
from guard.restore import Restorer
from guard.stages import StageResult, run_stage
from guard.types import Action, Call, Reply, Stage, Verdict

if TYPE_CHECKING:
    from guard.engine import Guard

__all__ = ["GuardedCall", "Refusal", "retry_headers"]

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


class GuardedCall(StreamSteps, CallEnding):
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
            self.refusal = refusal_of(result.decision)
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
        decision, again = yield from self._check_reply(reply)
        if decision.blocked and self.refusal is None:
            self.refusal = refusal_of(decision)
        return again

    def _check_reply(self, reply: Reply) -> Step[tuple[Decision, Call | None]]:
        """The output stage on a whole reply (complete, or a buffered stream): its
        decision, and the call to send again for a reask (the reask's own refusals, out
        of attempts or blocked by an ``attempt`` hook, are set on :attr:`refusal`)."""
        decision = yield from self._output(reply)
        if decision.action is Action.REASK:
            again = self._reask(reply, decision)
            if again is not None:
                again = yield from self._next_attempt(again, reply)
            return (self.output or decision), again
        if not decision.blocked:
            self._restore_reply(reply)
        return decision, None

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
            self.refusal = refusal_of(self.output)
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
            self.refusal = refusal_of(decision)
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

    def waited(self, seconds: float) -> None:
        """Add time spent waiting for the upstream (for the added-latency histogram)."""
        self.upstream_seconds = (self.upstream_seconds or 0.0) + seconds
