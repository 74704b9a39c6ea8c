"""The end of a guarded call: its refusal, its outcome, and :meth:`finish`.

``finish`` runs once on every exit path — delivered, refused, upstream error, timeout,
client gone: it counts the call's outcome, writes one audit line and runs the checks'
``finish`` hooks (budgets settle there).

:class:`CallEnding` is a part of :class:`~guard.lifecycle.GuardedCall`, kept apart so the
steps of a call and its bookkeeping each read on their own; it works on the call's
state, which ``GuardedCall`` sets up.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from guard._drive import wait_sync
from guard.checks.base import CallEnd
from guard.decision import Decision, Outcome
from guard.stores.base import STORE_UNAVAILABLE
from guard.types import Action, Call, Reply

if TYPE_CHECKING:
    from guard.checks.base import CheckContext
    from guard.engine import Guard
    from guard.lifecycle import GuardedCall


@dataclass(frozen=True, slots=True)
class Refusal:
    """How to refuse a call, in the API's own error shape: status, code, message."""

    status: int
    code: str
    message: str
    decision: Decision
    retry_after: float | None = None


#: The longest ``retry-after`` worth waiting for in place. A refusal that lasts longer (a
#: budget's window resets in hours) says ``x-should-retry: false`` too: the anthropic SDK
#: would otherwise sleep for the whole ``retry-after`` before its retry, however long.
LONGEST_RETRY_WAIT = 60.0


def retry_headers(retry_after: float | None) -> list[tuple[str, str]]:
    """The headers of a refusal that ends after ``retry_after`` seconds (none if unknown)."""
    if retry_after is None:
        return []
    headers = [("retry-after", str(max(0, round(retry_after))))]
    if retry_after > LONGEST_RETRY_WAIT:
        headers.append(("x-should-retry", "false"))
    return headers


def refusal_of(decision: Decision) -> Refusal:
    """The refusal a blocking decision gives: the status, code and ``retry_after`` of
    the verdicts that decided it (400 ``content_blocked`` when none says)."""
    deciding = [v for v in decision.verdicts if v.effective is decision.action]
    status = next((v.status for v in deciding if v.status), 400)
    code = next((v.code for v in deciding if v.code), "content_blocked")
    retry_after = next((v.retry_after for v in deciding if v.retry_after is not None), None)
    return Refusal(status, code, decision.message(), decision, retry_after)


class CallEnding:
    """The outcome and end of :class:`~guard.lifecycle.GuardedCall`."""

    # The call's state (set by GuardedCall.__init__).
    guard: Guard
    call: Call
    ctx: CheckContext
    frontend: str
    input: Decision | None
    output: Decision | None
    reply: Reply | None
    refusal: Refusal | None
    attempts: int
    streaming: bool
    started: float
    upstream_seconds: float | None
    _finished: bool

    def outcome(self) -> Outcome:
        """Input and output decisions, reply and attempts so far."""
        assert self.input is not None
        return Outcome(self.input, self.output, self.reply, self.attempts)

    def label(self) -> str:
        """The call's outcome (``guard.telemetry.OUTCOMES``) as decided so far."""
        if self.refusal is not None:
            # A check that could not reach its state store: the service, not the content.
            return "unavailable" if self.refusal.code == STORE_UNAVAILABLE else "blocked"
        action = self.input.action if self.input is not None else Action.ALLOW
        if self.output is not None:
            action = max(action, self.output.action)
        if action is Action.BLOCK:
            return "blocked"
        if self.attempts > 1:
            return "reasked"
        return {Action.REDACT: "redacted", Action.WARN: "warned"}.get(action, "allowed")

    def finish(
        self, outcome: str | None = None, *, status: int | None = None, request_sent: bool = True
    ) -> None:
        """End the call (once): count it, write its audit line, run finish hooks.

        ``outcome`` overrides the decided one for ends the guard did not decide:
        ``upstream_error``, ``disconnected``; ``request_sent`` is False when the request
        never reached the upstream (no connection).
        """
        end = self._end(outcome, status, request_sent)
        if end is None:
            return
        for hook in self._hooks():
            result = hook(self.ctx, end)
            if inspect.isawaitable(result):
                wait_sync(result)

    async def afinish(
        self, outcome: str | None = None, *, status: int | None = None, request_sent: bool = True
    ) -> None:
        """:meth:`finish` for async frontends (async hooks are awaited)."""
        end = self._end(outcome, status, request_sent)
        if end is None:
            return
        for hook in self._hooks():
            result = hook(self.ctx, end)
            if inspect.isawaitable(result):
                await result

    def _end(self, outcome: str | None, status: int | None, request_sent: bool) -> CallEnd | None:
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
        # Only GuardedCall has this part; the audit line also reads its upstream.
        guard.record_call(cast("GuardedCall", self), label, status, total)
        read = _characters_read(reply) if usage is None and self.streaming else 0
        return CallEnd(label, status, self.attempts, usage, read, request_sent=request_sent)

    def _hooks(self) -> list[Any]:
        return self.guard.finish_hooks


def _characters_read(reply: Reply | None) -> int:
    """How much of a streamed reply was read (its text and tool calls): a budget settles a
    stream that broke before any of it without charging (no sign a model ran)."""
    if reply is None:
        return 0
    segments = sum(len(segment.text) for segment in reply.segments())
    return segments + sum(len(choice.tool_calls) for choice in reply.choices)
