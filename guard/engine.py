"""The engine: one path for every call, whatever the frontend.

``before`` runs the input checks on a :class:`~guard.types.Call`, ``after`` runs the
output checks on a :class:`~guard.types.Reply`, ``stream`` opens a
:class:`~guard.streaming.StreamSession` for a streamed reply. Checks run in policy
order on a working copy of the text; each check sees the redactions of the ones before
it; the strictest verdict of a stage wins. In ``shadow`` mode everything is evaluated
and recorded but the call is never changed.

``run`` / ``run_sync`` drive the upstream call themselves (the frontend passes a
``send`` function), so that an output check can ask for a *reask*: the engine repeats
the call with feedback, at most ``max_reasks`` times.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Generator, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from guard.audit import AuditLog
from guard.checks.base import Check, CheckContext
from guard.decision import Decision, Outcome
from guard.formats.base import set_at
from guard.policy import Policy, resolve_policy
from guard.streaming import StreamSession, apply_edits
from guard.telemetry import Telemetry
from guard.types import Action, Call, Caller, Edit, Finding, Passage, Reply, Segment, Stage, Verdict

log = logging.getLogger("guardwire")

_ids = itertools.count(1)
_ID_PREFIX = secrets.token_hex(6)


def new_request_id() -> str:
    """A process-unique request id: a random per-process prefix and a counter
    (a tenth of the cost of ``uuid4().hex``, which showed in proxy profiles)."""
    return f"{_ID_PREFIX}{next(_ids):012x}"


class Guard:
    """The guardrails engine for one policy."""

    def __init__(
        self,
        policy: Policy | str | Path | None = None,
        *,
        audit: AuditLog | str | Path | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.policy = resolve_policy(policy)
        self.input_checks, self.output_checks = self.policy.build()
        self.telemetry = Telemetry.for_registry(registry)
        # Read once: the pydantic private attribute behind Policy.hash costs ~5 µs a read.
        self.policy_name = self.policy.name
        self.policy_hash = self.policy.hash
        #: ``name@hash``, as in the ``x-guardwire-policy`` header.
        self.policy_tag = f"{self.policy_name}@{self.policy_hash}"
        self.telemetry.policy_info.labels(self.policy_name, self.policy_hash).set(1)
        self.audit = audit if isinstance(audit, AuditLog) or audit is None else AuditLog(audit)
        self._shadow = self.policy.mode == "shadow"
        self._block_on_error = self.policy.on_error == "block"
        self._metric_children: dict[tuple[str, Stage, Action, bool], tuple[Any, Any]] = {}

    # -- stages -------------------------------------------------------------------

    def before(self, call: Call) -> Decision:
        """Run the input checks; apply redactions to ``call`` (segments and raw body)."""
        self._ensure_request_id(call)
        decision, texts = self._run_stage(Stage.INPUT, self.input_checks, call, None, call.segments)
        if decision.action is Action.REDACT:
            _write_segments(call.segments, texts, call.raw)
            call.body = b""
        self.record(decision, call)
        return decision

    def after(self, call: Call, reply: Reply) -> Decision:
        """Run the output checks; apply redactions to ``reply`` (choices and raw body)."""
        self._ensure_request_id(call)
        segments = reply.segments()
        decision, texts = self._run_stage(Stage.OUTPUT, self.output_checks, call, reply, segments)
        if decision.action is Action.REDACT:
            _write_segments(segments, texts, reply.raw)
            _write_reply(reply, segments)
            reply.body = b""
        self.record(decision, call)
        return decision

    def after_checks(self, call: Call, reply: Reply, checks: Sequence[Check]) -> Decision:
        """Run some output checks on a reply without editing it or recording the result
        (the stream session merges and records them)."""
        decision, _ = self._run_stage(Stage.OUTPUT, checks, call, reply, reply.segments())
        return decision

    def stream(self, call: Call) -> StreamSession:
        """Open a progressive output-check session for a streamed reply to ``call``."""
        self._ensure_request_id(call)
        return StreamSession(self, call)

    def _run_stage(
        self,
        stage: Stage,
        checks: Sequence[Check],
        call: Call,
        reply: Reply | None,
        segments: Sequence[Segment],
    ) -> tuple[Decision, list[str]]:
        started = time.perf_counter()
        # Checks run on a working copy: in shadow mode the call stays untouched but
        # every check still sees what it would have seen in enforce mode.
        working = [Segment(s.text, s.path, s.role, s.kind, s.index) for s in segments]
        ctx = CheckContext(stage, self.policy_name, working, call.request_id)
        verdicts: list[Verdict] = []
        for check in checks:
            check_started = time.perf_counter()
            try:
                if stage is Stage.INPUT:
                    verdict = check.input(call, ctx)
                else:
                    assert reply is not None
                    verdict = check.output(call, reply, ctx)
            except Exception as exc:  # a failing check decides by on_error, loudly
                verdict = self._check_failed(check, stage, exc)
            verdict.latency = time.perf_counter() - check_started
            verdict.shadow = verdict.shadow or self._shadow
            # Redactions apply to the working copy even in a shadow *policy*, so later
            # checks see what they would see in enforce mode (the call itself is only
            # rewritten when the decision is an enforced redact). A shadow *check*
            # never rewrites anything.
            if verdict.action is Action.REDACT and verdict.edits and not check.shadow:
                by_segment: dict[int, list[Edit]] = {}
                for edit in verdict.edits:
                    by_segment.setdefault(edit.segment, []).append(edit)
                for number, edits in by_segment.items():
                    working[number].text = apply_edits(working[number].text, edits)
            verdicts.append(verdict)
        decision = self.decide(stage, verdicts, call, time.perf_counter() - started)
        return decision, [s.text for s in working]

    def _check_failed(self, check: Check, stage: Stage, exc: Exception) -> Verdict:
        self.telemetry.check_errors.labels(check.name, stage.value).inc()
        # Only the exception type: its message could quote user text.
        log.error("check %r failed at %s stage (%s); on_error=%s", check.name, stage.value,
                  type(exc).__name__, self.policy.on_error)  # fmt: skip
        action = Action.BLOCK if self._block_on_error else Action.ALLOW
        reason = (
            f"check '{check.name}' failed and on_error is 'block'" if self._block_on_error else ""
        )
        finding = Finding(check.name, "check_error", action=action, rule="check_error")
        return Verdict(
            check.name, action, (finding,), reason=reason, errored=True, shadow=check.shadow
        )

    def decide(self, stage: Stage, verdicts: list[Verdict], call: Call, latency: float) -> Decision:
        """Combine verdicts (the strictest effective action wins) and count them."""
        action = Action.ALLOW
        for verdict in verdicts:
            action = max(action, verdict.effective)
            key = (verdict.check, stage, verdict.action, verdict.shadow)
            children = self._metric_children.get(key)
            if children is None:
                # prometheus_client's labels() costs microseconds; resolve each label
                # combination once (the set is closed: checks x stages x actions).
                telemetry = self.telemetry
                children = self._metric_children[key] = (
                    telemetry.verdicts.labels(
                        verdict.check,
                        stage.value,
                        verdict.action.label,
                        "true" if verdict.shadow else "false",
                    ),
                    telemetry.check_seconds.labels(verdict.check, stage.value),
                )
            children[0].inc()
            children[1].observe(verdict.latency)
        return Decision(
            stage, action, verdicts, self.policy_name, self.policy_hash, call.request_id, latency
        )

    def record(self, decision: Decision, call: Call, **extra: Any) -> None:
        """Write a decision to the audit log (when one is configured)."""
        if self.audit is not None:
            self.audit.record(decision, format=call.format, **extra)

    @staticmethod
    def _ensure_request_id(call: Call) -> None:
        if not call.request_id:
            call.request_id = new_request_id()

    # -- engine-driven calls (reask) ------------------------------------------------

    def drive(self, call: Call) -> Generator[Call, Reply, Outcome]:
        """The call loop without I/O: yields calls to send, receives their replies.

        ``run`` and ``run_sync`` drive it with an async or a sync ``send``.
        """
        from guard import formats

        outcome = Outcome(self.before(call))
        if outcome.input.blocked:
            return outcome
        while True:
            reply = yield call
            outcome.attempts += 1
            outcome.reply = reply
            outcome.output = self.after(call, reply)
            if outcome.output.action is not Action.REASK:
                return outcome
            truncated = any(c.finish_reason in ("length", "max_tokens") for c in reply.choices)
            if truncated or outcome.attempts > self.policy.max_reasks:
                # Out of attempts (or truncated: a reask with the same budget would be
                # truncated again): the reask becomes a block.
                outcome.output.action = Action.BLOCK
                return outcome
            self.telemetry.reasks.labels(call.format).inc()
            call = formats.get(call.format).with_feedback(call, reply, outcome.output.feedback())

    async def run(self, call: Call, send: Callable[[Call], Awaitable[Reply]]) -> Outcome:
        """Check, send (repeating on reask) and check the reply; async ``send``."""
        loop = self.drive(call)
        try:
            request = next(loop)
            while True:
                request = loop.send(await send(request))
        except StopIteration as stop:
            result: Outcome = stop.value
            return result

    def run_sync(self, call: Call, send: Callable[[Call], Reply]) -> Outcome:
        """Check, send (repeating on reask) and check the reply; sync ``send``."""
        loop = self.drive(call)
        try:
            request = next(loop)
            while True:
                request = loop.send(send(request))
        except StopIteration as stop:
            result: Outcome = stop.value
            return result

    # -- in-process frontends ------------------------------------------------------------

    def transport(self, transport: Any = None) -> Any:
        """An ``httpx`` transport guarding model calls, wrapping ``transport`` (default:
        ``httpx.HTTPTransport()``): ``httpx.Client(transport=guard.transport())``."""
        from guard.transport import GuardTransport

        return GuardTransport(self, transport)

    def async_transport(self, transport: Any = None) -> Any:
        """The async variant of :meth:`transport`, for ``httpx.AsyncClient``."""
        from guard.transport import GuardAsyncTransport

        return GuardAsyncTransport(self, transport)

    # -- convenience for people who orchestrate their own calls ----------------------

    def check_input(self, text: str, *, caller: Caller | None = None) -> Decision:
        """Run the input checks on a piece of text."""
        return self.before(text_call(text, caller=caller))

    def check_output(
        self, text: str, *, context: Sequence[str | Passage] = (), caller: Caller | None = None
    ) -> Decision:
        """Run the output checks on a piece of text, with optional retrieved context."""
        call = text_call("", caller=caller, context=context)
        return self.after(call, text_reply(text))


def text_call(
    text: str, *, caller: Caller | None = None, context: Sequence[str | Passage] = ()
) -> Call:
    """A plain-text call (no wire format): one user segment."""
    passages = [
        p if isinstance(p, Passage) else Passage(str(i + 1), p) for i, p in enumerate(context)
    ]
    return Call(
        format="text",
        segments=[Segment(text, None, "user")] if text else [],
        caller=caller or Caller(),
        context=passages,
    )


def text_reply(text: str) -> Reply:
    """A plain-text reply with one choice."""
    from guard.types import Choice

    return Reply(format="text", choices=[Choice(0, text)])


def _write_segments(segments: Sequence[Segment], texts: list[str], raw: Any) -> None:
    for segment, text in zip(segments, texts, strict=True):
        if segment.text != text:
            segment.text = text
            if segment.path is not None and raw is not None:
                set_at(raw, segment.path, text)


def _write_reply(reply: Reply, segments: Sequence[Segment]) -> None:
    """Copy edited segment texts back to the reply's choices and tool calls."""
    position = 0
    for choice in reply.choices:
        choice.text = segments[position].text
        position += 1
        for call in choice.tool_calls:
            call.arguments = segments[position].text
            position += 1
