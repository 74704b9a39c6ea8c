"""One stage of checks: run every check of the stage, merge their edits, decide.

Every check of a stage sees the same text (the stage's segments as they arrived) and the
edits of all enforced verdicts are merged once, overlapping redactions into one — the
same composition as a stream session, so a complete reply and a streamed one come out
identical, and every finding's span refers to the same text (the audit log's spans are
comparable across checks).

The runner is a generator (see :mod:`guard._drive`): an async check's awaitable is
yielded, with the check's time limit, and its verdict comes back in.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from guard._drive import Blocking, Pending, Step
from guard.checks.base import Check, CheckContext, TextCheck, capabilities_of
from guard.decision import Decision
from guard.streaming import apply_edits
from guard.types import Action, Call, Edit, Finding, Reply, Stage, Verdict

if TYPE_CHECKING:
    from guard.engine import Guard

log = logging.getLogger("guardwire")

#: A stage whose text (segments and context passages together) has at least this many
#: characters runs its CPU-bound checks (:func:`_runs_in_thread`) in a worker thread
#: under the async driver, at the input and the output stage alike: injection alone takes
#: ~0.1 s on 200 K characters of input, grounding or PII as long on a big reply, which on
#: the event loop would stall every other call of the proxy's worker or the application.
#: Shorter text stays on the loop, where it costs less than the hop (~0.1 ms).
OFF_LOOP_CHARS = 32_768


class CheckTimeout(Exception):
    """A check took longer than its ``timeout_ms``."""


@dataclass(slots=True)
class StageResult:
    """A stage's decision, the segment texts with its enforced edits applied (empty when
    nothing was edited), and the request patches of its enforced verdicts."""

    decision: Decision
    texts: list[str]
    edited: bool = False
    patches: list[Any] = field(default_factory=list)


def run_stage(
    guard: Guard,
    stage: Stage,
    checks: Sequence[Check],
    call: Call,
    ctx: CheckContext,
    reply: Reply | None = None,
) -> Step[StageResult]:
    """Run ``checks`` on ``ctx.segments`` of ``call`` (and ``reply`` at the output stage)."""
    clock = time.perf_counter
    started = clock()
    verdicts: list[Verdict] = []
    limits = guard.limits
    shadow = guard.shadow
    input_stage = stage is Stage.INPUT
    off_loop = _stage_chars(call, ctx) >= OFF_LOOP_CHARS
    for check in checks:
        check_started = clock()
        timeout = limits.get(id(check))
        try:
            # (No partial unless it moves: this loop is on every call's path.)
            if input_stage:
                if off_loop and _runs_in_thread(check, check.input):
                    result: Any = yield Blocking(partial(check.input, call, ctx), timeout)
                else:
                    result = check.input(call, ctx)
            else:
                assert reply is not None
                if off_loop and _runs_in_thread(check, check.output):
                    result = yield Blocking(partial(check.output, call, reply, ctx), timeout)
                else:
                    result = check.output(call, reply, ctx)
            # A plain verdict is by far the common case: skip the awaitable test for it.
            if result.__class__ is not Verdict and inspect.isawaitable(result):
                result = yield Pending(result, timeout)
            verdict: Verdict = result
            if timeout is not None and clock() - check_started > timeout:
                raise CheckTimeout
        except Exception as exc:  # a failing check decides by on_error, loudly
            verdict = guard.check_failed(check, stage, exc)
        verdict.latency = clock() - check_started
        if shadow:
            verdict.shadow = True
        if input_stage and verdict.action is Action.REASK:
            # A reask repeats the upstream call; before it there is nothing to repeat. The
            # policy loader refuses such checks; one added by code fails closed.
            verdict.action = Action.BLOCK
            verdict.reason = verdict.reason or f"check '{verdict.check}' asked for a reask"
        verdicts.append(verdict)
    decision = guard.decide(stage, verdicts, call, clock() - started)
    return _resolve(decision, checks, ctx)


def _stage_chars(call: Call, ctx: CheckContext) -> int:
    return sum(len(segment.text) for segment in ctx.segments) + sum(
        len(passage.text) for passage in call.context
    )


def _runs_in_thread(check: Check, method: Any) -> bool:
    """True for a check whose work on a big text may move to a worker thread: text
    checks, and plain-function checks that keep no state in the store (schema,
    grounding, a custom check). A store's client and an ``async def`` check belong to the
    event loop: they stay on it (an ``async def`` method does its work when awaited)."""
    if isinstance(check, TextCheck):
        return True
    return not capabilities_of(check).needs_state and not inspect.iscoroutinefunction(method)


def _resolve(decision: Decision, checks: Sequence[Check], ctx: CheckContext) -> StageResult:
    """Merge the enforced edits into the segment texts; collect the enforced patches."""
    if not any(v.edits or v.patches for v in decision.verdicts):
        return StageResult(decision, [])  # nothing to write (the common case)
    result = StageResult(decision, [])
    segments = len(ctx.segments)
    by_segment: dict[int, list[Edit]] = {}
    for check, verdict in zip(checks, decision.verdicts, strict=True):
        if verdict.shadow or getattr(check, "shadow", False):
            continue
        for edit in verdict.edits:
            if 0 <= edit.segment < segments:
                by_segment.setdefault(edit.segment, []).append(edit)
        result.patches.extend(verdict.patches)
    if not by_segment:
        return result  # patches only (a budget's clamp): no text to copy
    texts = result.texts = [s.text for s in ctx.segments]
    for number, edits in by_segment.items():
        texts[number] = apply_edits(texts[number], edits)
        result.edited = True
    return result


def check_error_verdict(check: Check, stage: Stage, exc: Exception, block: bool) -> Verdict:
    """The verdict of a check that failed: ``on_error`` decides, by exception type only."""
    kind = "check_timeout" if isinstance(exc, CheckTimeout | TimeoutError) else "check_error"
    # Only the exception type: its message could quote user text.
    log.error("check %r failed at %s stage (%s); on_error=%s", check.name, stage.value,
              type(exc).__name__, "block" if block else "allow")  # fmt: skip
    action = Action.BLOCK if block else Action.ALLOW
    reason = f"check '{check.name}' failed and on_error is 'block'" if block else ""
    finding = Finding(check.name, kind, action=action, rule=kind)
    return Verdict(check.name, action, (finding,), reason=reason, errored=True, shadow=check.shadow)
