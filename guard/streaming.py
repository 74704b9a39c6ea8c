"""Output checks over a streamed reply, chunk by chunk.

A :class:`StreamSession` sits between the upstream's text deltas and the client. In
``progressive`` mode it releases text as it arrives except a hold-back tail: the part
a pending match could still extend (each text check says how much), so a phrase split
across chunks is caught before any of it leaves. Checks see a
:class:`~guard.checks.base.StreamWindow`: up to ``lookbehind`` released characters,
then the text not released yet. The session never releases part of a finding and acts
on a finding (records it, blocks) only once it is final, i.e. released: a match that
ends in unreleased text therefore starts there too, and a check may scan only that
text (the rules check does). The invariant (tested): the released chunks, joined,
equal the redacted full text.

Checks that need the whole reply (schema, grounding) run when the stream ends; in
progressive mode they can only end the stream with an error event, so policies that
must block on them use ``stream: buffer``, which the wire-format stream filters
implement by assembling the reply and running :meth:`Guard.after` on it. Checks of
complete tool calls (``Capabilities(tool_calls=True)``: agent, schema's tool arguments)
run as each tool call completes, before the filter releases it
(:mod:`guard.formats._tool_gate`); the session keeps their verdicts
(:meth:`StreamSession.tool_verdicts`), and checks at the end the tool calls the filter
could not hold.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import TYPE_CHECKING

from guard._drive import Step, run_sync
from guard._stream_channel import Channel, apply_edits, shift_finding
from guard._stream_parts import StreamParts
from guard._tool_calls import (
    ToolVerdicts,
    complete_tool_call,
    identity,
    only_tool_calls,
    run_tool_call,
    tool_call_checks,
)
from guard.checks.base import (
    CheckContext,
    CompleteToolCall,
    TextCheck,
    verdict_from,
)
from guard.types import Action, Edit, Finding, Stage, Verdict

if TYPE_CHECKING:
    from guard.decision import Decision
    from guard.engine import Guard
    from guard.types import Call, Reply

__all__ = ["StreamSession", "apply_edits"]


class StreamSession(StreamParts):
    """Progressive output checking for one streamed reply (a text read across parts:
    :class:`~guard._stream_parts.StreamParts`)."""

    def __init__(self, guard: Guard, call: Call, ctx: CheckContext | None = None) -> None:
        self._guard = guard
        self._call = call
        self._ctx = ctx
        self._checks = [c for c in guard.output_checks if isinstance(c, TextCheck)]
        self._whole_reply_checks = [
            c
            for c in guard.output_checks
            if not isinstance(c, TextCheck) and not only_tool_calls(c)
        ]
        #: Checks of complete tool calls (the stream filter runs them as each completes).
        self.tool_checks = tool_call_checks(guard.output_checks)
        self.tools = ToolVerdicts()
        self._lookbehind = max((c.lookbehind for c in self._checks), default=0)
        self._pieces: list[str] = []
        self._channels: dict[Hashable, Channel] = {}
        self._findings: dict[str, list[Finding]] = {c.name: [] for c in self._checks}
        self._latency: dict[str, float] = {c.name: 0.0 for c in self._checks}
        self._errored: set[str] = set()
        self._enforced = guard.policy.mode != "shadow"
        #: Hold-back cap per channel (characters) and what reaching it does.
        self._max_holdback = guard.policy.stream.max_holdback
        self._overflow_blocks = guard.policy.stream.on_holdback_overflow == "block"
        #: The blocking decision once a check blocked; afterwards nothing is released.
        self.blocked: Decision | None = None
        self.started = time.perf_counter()

    def feed(self, key: Hashable, text: str) -> str:
        """Take a delta of the text stream ``key``; return what may be released now."""
        if self.blocked is not None:
            return ""
        if self._ctx is not None and self._ctx.meters and self._metered(text):
            return ""
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = Channel()
        channel.window.text += text
        return self._release(channel, final=False)

    def _metered(self, text: str) -> bool:
        """Feed the call's stream meters; True when one cut the stream (now blocked)."""
        assert self._ctx is not None
        for meter in self._ctx.meters:
            reason = meter.count(text)
            if reason is not None and self._enforced:
                finding = Finding(meter.name, "stream_cut", action=Action.BLOCK, rule=meter.name)
                cut = Verdict(meter.name, Action.BLOCK, (finding,), reason=reason)
                decision = self._decision()
                decision.verdicts.append(cut)
                decision.action = Action.BLOCK
                self.blocked = decision
                return True
        return False

    def flush(self, key: Hashable) -> str:
        """The text stream ``key`` ended: release (or block) everything pending."""
        channel = self._channels.get(key)
        if channel is None or self.blocked is not None:
            return ""
        return self._release(channel, final=True)

    def _release(self, channel: Channel, *, final: bool) -> str:
        """Run the checks on the channel's window; release what they allow. (A stream
        read across parts gets its pieces in :attr:`_pieces` instead: _stream_parts.)"""
        window = channel.window
        window.final = final
        offset, size = window.released, len(window.text)
        cut = size
        scanned: list[tuple[TextCheck, list[Finding]]] = []
        holding: TextCheck | None = None
        clock, latency = time.perf_counter, self._latency
        # One clock read per check: each check's time runs to the next one's start.
        started = clock()
        for check in self._checks:
            try:
                found, hold = check.scan_window(window)
            except Exception:
                found, hold = self._check_failed(check)
            now = clock()
            latency[check.name] += now - started
            started = now
            if hold and not final and size - hold < cut:
                cut, holding = size - hold, check
            if found:
                scanned.append((check, found))
        cut = max(cut, offset)
        if holding is not None and size - cut > self._max_holdback:
            # A pending match would hold back more than the cap (core-review D14).
            if self._blocks_on_overflow(holding):
                self._overflow(holding, "")
                return ""
            cut = size - self._max_holdback
        edits: list[Edit] = []
        if scanned:
            cut, edits = self._apply_findings(channel, scanned, offset, cut)
            if self.blocked is not None:
                return ""
        if channel.ends:  # a text read across parts: cut at the part ends
            self._pieces = self._split(channel, offset, cut, edits)
            return ""
        released = window.text[offset:cut]
        if edits:
            released = apply_edits(released, edits)
        channel.released_up_to(cut, self._lookbehind)
        return released

    def _apply_findings(
        self,
        channel: Channel,
        scanned: list[tuple[TextCheck, list[Finding]]],
        offset: int,
        cut: int,
    ) -> tuple[int, list[Edit]]:
        """Move ``cut`` so that no finding is split; record the findings it releases (all
        of them if one blocks); return the cut and the edits (relative to ``offset``)."""
        # Never release part of a finding: a redaction must be applied whole, and a
        # check may resume scanning where the released text ends (TextCheck.scan_window).
        # Moving the cut back can make another finding cross it: repeat until none does.
        moved = True
        while moved:
            moved = False
            for _, found in scanned:
                for finding in found:
                    start = max(finding.start, offset)
                    if start < cut < finding.end:
                        cut, moved = start, True
        # Only a finding that ends before the cut is final: one in held-back text may
        # still change or vanish (``self destruct`` + ``o`` is no whole word). Its
        # text is held back, so waiting for it releases nothing of it.
        blocking = self._enforced and any(
            f.action is Action.BLOCK and f.end <= cut and not check.shadow
            for check, found in scanned
            for f in found
        )
        # A match that began in released text outgrew its hold-back (a capped regex
        # matched more than its max_length): the overflow policy decides.
        for check, found in scanned:
            late = next((f for f in found if f.start < offset < f.end), None)
            if late is not None and not blocking and self._blocks_on_overflow(check):
                self._overflow(check, late.rule)
                return cut, []
        edits: list[Edit] = []
        for check, found in scanned:
            # Record each finding once: when the text it covers is released (or blocks).
            self._findings[check.name].extend(
                shift_finding(f, channel.start) for f in found if blocking or f.end <= cut
            )
            if self._enforced and not check.shadow:
                # A match may start in released text only if a hold-back was wrong;
                # then only its unreleased part can still be edited.
                edits.extend(
                    Edit(0, max(f.start, offset) - offset, f.end - offset, check.replacement(f))
                    for f in found
                    if f.action is Action.REDACT and f.end <= cut
                )
        if blocking:
            self.blocked = self._decision()
        return cut, edits

    def tool_verdicts(self, tool_call: CompleteToolCall, verdicts: list[Verdict]) -> Action:
        """Take the tool-call checks' verdicts on one complete tool call; return the
        strictest effective action (a block ends the stream: :attr:`blocked`)."""
        action = self.tools.add(tool_call, verdicts)
        if action is Action.BLOCK and self.blocked is None:
            self.blocked = self._decision()
        return action

    def _blocks_on_overflow(self, check: TextCheck) -> bool:
        return self._overflow_blocks and self._enforced and not check.shadow

    def _overflow(self, check: TextCheck, rule: str) -> None:
        """Block the stream: ``check`` needed more hold-back than the policy allows."""
        self._findings[check.name].append(
            Finding(
                check.name,
                "holdback_overflow",
                action=Action.BLOCK,
                rule=rule or "holdback_overflow",
            )
        )
        self.blocked = self._decision()

    def _check_failed(self, check: TextCheck) -> tuple[list[Finding], int]:
        self._errored.add(check.name)
        self._guard.telemetry.check_errors.labels(check.name, Stage.OUTPUT.value).inc()
        if self._guard.blocks_on_error(check):
            return [Finding(check.name, "check_error", action=Action.BLOCK, rule="check_error")], 0
        return [], 0

    def _decision(self) -> Decision:
        verdicts: list[Verdict] = []
        for check in self._checks:
            findings = self._findings[check.name]
            action = max((f.action for f in findings), default=Action.ALLOW)
            # The stream already applied its redactions: the verdict carries no edits.
            verdict = verdict_from(
                check.name, action, findings, shadow=check.shadow or not self._enforced
            )
            verdict.latency = self._latency[check.name]
            verdict.errored = check.name in self._errored
            verdicts.append(verdict)
        verdicts.extend(self.tools.merged())
        return self._guard.decide(
            Stage.OUTPUT, verdicts, self._call, time.perf_counter() - self.started
        )

    def close(self, reply: Reply | None = None) -> Decision:
        """The stream ended: the output decision (see :meth:`close_step`)."""
        return run_sync(self.close_step(reply))

    def close_step(self, reply: Reply | None = None) -> Step[Decision]:
        """The stream ended: the output decision, as a lifecycle step.

        With the assembled ``reply``, the output checks that need the whole reply (not
        text checks) run now; in progressive mode they can only end the stream with an
        error event (delivered before the stream's terminal event), so a policy that must
        block on them before any text leaves uses ``stream: buffer``.
        """
        ctx = self._ctx or CheckContext(Stage.OUTPUT, self._guard.policy_name, [])
        if self.blocked is None and reply is not None and self.tool_checks:
            # Tool calls the filter could not hold back (a format without tool-call
            # events, a hold-back cap that released one) are checked now. They were
            # sent already: removing one is no longer possible, so a strip blocks.
            for choice in reply.choices:
                for sent in choice.tool_calls:
                    if identity(sent) in self.tools.checked or self.blocked is not None:
                        continue
                    done = complete_tool_call(sent.id, sent.name, sent.arguments)
                    verdicts = yield from run_tool_call(
                        self._guard, self.tool_checks, self._call, done, ctx
                    )
                    for verdict in verdicts:
                        if verdict.action is Action.REDACT:
                            verdict.action = Action.BLOCK
                    self.tool_verdicts(done, verdicts)
        decision = self.blocked if self.blocked is not None else self._decision()
        if self.blocked is None and reply is not None and self._whole_reply_checks:
            from guard.stages import run_stage

            ctx.stage, ctx.segments = Stage.OUTPUT, reply.segments()
            checks = self._whole_reply_checks
            whole = yield from run_stage(self._guard, Stage.OUTPUT, checks, self._call, ctx, reply)
            decision.verdicts.extend(whole.decision.verdicts)
            decision.action = max(decision.action, whole.decision.action)
        return decision
