"""Agent limits at the wire: tool allowlists, argument rules, step caps and loop detection.

One ``agent`` entry, listed under ``input:``, governs both stages of every call of an
agent session (the engine also runs it at the output stage, because its state is one):

- **Input**: the session named by the caller (``x-guardwire-session``, the request
  extension's ``session``, ``wrap``'s ``guardwire={"session": ...}``) counts one step
  per model call (``max_steps``) and is refused once it is older than
  ``max_session_seconds``.
- **Output**: each tool call of the reply is checked against ``tools_allowed`` /
  ``tools_denied`` and the ``arguments`` rules (:mod:`guard.checks._agent_tools`), the
  latter with the placeholders a ``pseudonymise`` action issued put back (the call the
  application runs, not the one the model wrote); then,
  per session, ``max_tool_calls``, the loop window (``repeat``: the same tool with the
  same arguments) and the data-flow ``sequences``. A refused reply never reaches the
  client: it is answered with the API's own error (403, code ``agent_<kind>``). With
  ``action: strip`` an offending tool call is removed from the reply instead (a
  :class:`~guard.patches.DropToolCalls` reply patch; in progressive streams the tool-call
  gate drops it) and the rest goes through. In progressive streams each tool call is
  checked as soon as its arguments are complete (``tool_call``), before any of it is
  sent (:mod:`guard.formats._tool_gate`), so a refused tool call is never streamed.
- **Refused calls cost no step**: when the call is refused before it reached the
  upstream (by this check or another), its step is given back at ``finish``.
- **Approval**: a tool call matching ``approval`` is refused with code
  ``approval_required`` and an approval id until a person approves it
  (:mod:`guard.checks._agent_approvals`); then the same call passes once.

State lives in the store (``Guard(store=...)``) under hashed keys, expiring with the
session (:mod:`guard.checks._agent_state`). Findings carry ``rule`` = the tool name or
glob from the policy that matched, or ``other`` — never a name the model made up, never
arguments; a tool call's finding also carries the tool's name (when the policy or the
request names it) and a keyed hash of its arguments, for the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Sequence
from typing import Any

from guard.checks._agent_config import REFUSAL_STATUS, AgentConfig, refusal
from guard.checks._agent_session import SessionLimits
from guard.checks._agent_state import (
    FIRST_SEEN,
    STEPS,
    ToolUse,
    ensure_open,
    offered_patch,
    session_prefix,
    tool_uses,
)
from guard.checks._agent_tools import ToolRules
from guard.checks._tool_hooks import reply_of
from guard.checks.base import CompleteToolCall
from guard.formats import DROPS_TOOL_CALLS
from guard.patches import DropToolCalls
from guard.stores.base import StoreError
from guard.types import Action, Call, Finding, Reply, Verdict

__all__ = ["REFUSAL_STATUS", "AgentCheck", "AgentConfig"]


class AgentCheck(SessionLimits):
    """The ``agent`` check (see the module docstring)."""

    #: The engine runs this input check at the output stage too.
    serves_output = True

    def __init__(self, config: AgentConfig) -> None:
        from guard.checks.base import Capabilities

        self.config = config
        self.name = config.name or config.check
        self.shadow = config.mode == "shadow"
        self.capabilities = Capabilities(
            patches_request=config.filter_offered, needs_state=self.needs_state, tool_calls=True
        )
        self.telemetry: Any = None  # set by the engine (guard.telemetry.Telemetry)
        self.clock: Any = time.time  # tests move time by hand
        self.tools = ToolRules(config, self.name)

    def bind_telemetry(self, telemetry: Any) -> None:
        """Take the engine's metric catalogue (also when the entry keeps no state)."""
        self.telemetry = telemetry

    @property
    def needs_state(self) -> bool:
        """Whether a policy key of this entry keeps per-session state."""
        c = self.config
        return bool(
            c.max_steps
            or c.max_tool_calls
            or c.max_session_seconds
            or c.repeat
            or c.sequences
            or c.approval
        )

    # -- input: steps and the session's age ------------------------------------------------

    async def input(self, call: Call, ctx: Any) -> Verdict:
        """Count this model call as a step of its session; refuse past the caps. A store
        failure is counted and raised: ``on_error`` decides (fail closed by default)."""
        try:
            return await self._input(call, ctx)
        except StoreError:
            self._store_failed(ctx)
            raise

    async def output(self, call: Call, reply: Reply, ctx: Any) -> Verdict:
        """Check each tool call of the reply; then the session's tool limits."""
        try:
            return await self._output(call, reply, ctx)
        except StoreError:
            self._store_failed(ctx)
            raise

    async def tool_call(self, call: Call, tool_call: CompleteToolCall, ctx: Any) -> Verdict:
        """One complete tool call of a progressive stream, as :meth:`output` checks each."""
        return await self.output(call, reply_of(tool_call, call.format), ctx)

    def _store_failed(self, ctx: Any) -> None:
        if self.telemetry is not None:
            self.telemetry.store_errors.labels(getattr(ctx.store, "kind", "unknown")).inc()

    async def _input(self, call: Call, ctx: Any) -> Verdict:
        patches = offered_patch(self.config, call)
        if not self.needs_state:
            return Verdict(self.name, Action.ALLOW, shadow=self.shadow, patches=patches)
        prefix = session_prefix(self.name, ctx.caller)
        if prefix is None:
            refused = self._missing_session()
            refused.patches = patches
            return refused
        store, config = ctx.store, self.config
        if store is None:
            raise RuntimeError("the agent check needs a state store (Guard(store=...))")
        await ensure_open(store)
        ttl = config.state_ttl()
        findings: list[Finding] = []
        if config.max_steps is not None:
            steps = await store.incr(f"{prefix}:{STEPS}", 1, ttl)
            ctx.private(self.name)["step"] = f"{prefix}:{STEPS}"
            if steps > config.max_steps:
                findings.append(self._finding("agent.step_cap", "other"))
        if config.max_session_seconds is not None:
            now = float(self.clock())
            lifetime = ttl + config.max_session_seconds
            first = float(await store.set_if_absent(f"{prefix}:{FIRST_SEEN}", now, lifetime))
            if now - first > config.max_session_seconds:
                findings.append(self._finding("agent.time_cap", "other"))
        verdict = await self._verdict(findings, ctx, prefix)
        verdict.patches = patches
        return verdict

    def _missing_session(self) -> Verdict:
        mode = self.config.on_missing_session
        if mode == "allow":
            return Verdict(self.name, Action.ALLOW, shadow=self.shadow)
        action = Action.BLOCK if mode == "block" else Action.WARN
        finding = Finding(self.name, "agent.missing_session", action=action, rule="other")
        self._count([finding])
        return refusal(self.name, self.shadow, [finding], action)

    def finish(self, ctx: Any, end: Any) -> Awaitable[None] | None:
        """Give back the step of a call refused before it reached the upstream (by this
        check or another): a refused step cost nothing, and must not use up the cap.
        Plain (not ``async``) so that the calls that went ahead cost no event-loop hop."""
        step = ctx.private(self.name).pop("step", None)
        if step is None or end.attempts != 0 or end.outcome != "blocked":
            return None
        return self._give_back(ctx, step)

    async def _give_back(self, ctx: Any, step: str) -> None:
        try:
            await ctx.store.incr(step, -1, self.config.state_ttl())
        except StoreError:
            self._store_failed(ctx)  # the step stays counted: the cap errs on the safe side

    # -- output: the reply's tool calls ----------------------------------------------------

    async def _output(self, call: Call, reply: Reply, ctx: Any) -> Verdict:
        uses = tool_uses(reply, ctx.restores)
        if not uses:
            return Verdict(self.name, Action.ALLOW, shadow=self.shadow)
        findings, stripped = self._tool_findings(uses, call)
        kept = [use for use in uses if use.position not in stripped]
        prefix = session_prefix(self.name, ctx.caller) if self.needs_state else None
        waiting: list[str] = []
        if prefix is not None and not any(f.action is Action.BLOCK for f in findings):
            # Only tool calls that are let through count towards the session's state.
            if ctx.store is None:
                raise RuntimeError("the agent check needs a state store (Guard(store=...))")
            await ensure_open(ctx.store)
            asked, waiting = await self._approval_findings(kept, call, ctx, prefix)
            findings += asked
            findings += await self._session_findings(kept, call, ctx.store, prefix)
        elif prefix is None and self.config.approval:
            # Nobody can approve a call of no session: such tool calls are refused.
            findings += [
                self.tools.about(self._finding("agent.approval_required", rule), use, call)
                for use in kept
                if (rule := self.config.approval_rule(use.name)[0]) is not None
            ]
        verdict = await self._verdict(findings, ctx, prefix, waiting)
        if stripped and verdict.action is Action.REDACT:
            verdict.patches = (DropToolCalls(frozenset(stripped)),)
        return verdict

    def _tool_findings(
        self, uses: list[ToolUse], call: Call
    ) -> tuple[list[Finding], set[tuple[int, int]]]:
        """The lists' and argument rules' findings, and the tool calls ``strip`` removes
        (a format that cannot remove one refuses the reply instead)."""
        action: str = self.config.action
        if action == "strip":
            action = "redact" if call.format in DROPS_TOOL_CALLS else "block"
        found: list[Finding] = []
        stripped: set[tuple[int, int]] = set()
        for use in uses:
            for finding in self.tools.findings(use, Action.parse(action)):
                found.append(self.tools.about(finding, use, call))
                if finding.action is Action.REDACT:
                    stripped.add(use.position)
        return found, stripped

    # -- verdicts, findings, metrics -------------------------------------------------------

    async def _verdict(
        self, findings: list[Finding], ctx: Any, prefix: str | None, waiting: Sequence[str] = ()
    ) -> Verdict:
        if not findings:
            return Verdict(self.name, Action.ALLOW, shadow=self.shadow)
        self._count(findings)
        action = max(f.action for f in findings)
        if action is Action.BLOCK and prefix is not None:
            await self._note_stopped(findings, ctx.store, prefix)
        return refusal(self.name, self.shadow, findings, action, waiting)

    def _count(self, findings: list[Finding]) -> None:
        if self.telemetry is None:
            return
        for finding in findings:
            self.telemetry.agent_findings.labels(
                self.name, finding.kind, finding.action.label
            ).inc()
