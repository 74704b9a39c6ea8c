"""The agent check's limits per session, kept in the state store: approvals waiting for
a person, ``max_tool_calls``, the data-flow ``sequences``, the loop window (``repeat``)
and the metric of sessions a limit stopped. A part of
:class:`~guard.checks.agent.AgentCheck` (see :mod:`guard.checks.agent`)."""

from __future__ import annotations

from typing import Any

from guard.checks import _agent_approvals as approvals
from guard.checks._agent_config import AgentConfig, first_match, matches, policy_name
from guard.checks._agent_state import RECENT, STOPPED, TOOL_CALLS, ToolUse
from guard.checks._agent_tools import ToolRules
from guard.types import Action, Call, Finding

#: Session limits: when one trips, the session counts as stopped (a metric).
_SESSION_KINDS = ("agent.step_cap", "agent.time_cap")


class SessionLimits:
    """The session-state half of the ``agent`` check (a base of ``AgentCheck``)."""

    name: str
    config: AgentConfig
    tools: ToolRules
    telemetry: Any
    clock: Any

    def _finding(self, kind: str, rule: str, action: Action = Action.BLOCK) -> Finding:
        return Finding(self.name, kind, action=action, rule=rule)

    async def _approval_findings(
        self, uses: list[ToolUse], call: Call, ctx: Any, prefix: str
    ) -> tuple[list[Finding], list[str]]:
        """Tool calls that wait for a person's yes, and their approval ids."""
        from guard.audit import digest

        found: list[Finding] = []
        waiting: list[str] = []
        session = digest(ctx.caller.session or "")
        for use in uses:
            pattern, ttl = self.config.approval_rule(use.name)
            if pattern is None or await approvals.granted(ctx.store, prefix, use.digest):
                continue
            finding = self.tools.about(self._finding("agent.approval_required", pattern), use, call)
            about = approvals.About(
                finding.tool, finding.arguments_hash, session, ctx.caller.tenant, self.name
            )
            waiting.append(await approvals.ask(ctx.store, prefix, use.digest, ttl, about))
            found.append(finding)
        if waiting and self.telemetry is not None:
            self.telemetry.agent_approvals.labels(self.name, "requested").inc(len(waiting))
        return found, waiting

    async def _session_findings(
        self, uses: list[ToolUse], call: Call, store: Any, prefix: str
    ) -> list[Finding]:
        config, ttl = self.config, self.config.state_ttl()
        found: list[Finding] = []
        if config.max_tool_calls is not None:
            count = await store.incr(f"{prefix}:{TOOL_CALLS}", len(uses), ttl)
            if count > config.max_tool_calls:
                found.append(self._finding("agent.step_cap", "other"))
        for number, rule in enumerate(config.sequences):
            marker = f"{prefix}:seq{number}"
            seen = await store.get(marker) > 0
            for use in uses:  # in the reply's order: an earlier call of it counts too
                denied = first_match(use.name, rule.deny)
                if seen and denied is not None:
                    finding = self._finding("agent.sequence", denied, Action.parse(rule.action))
                    found.append(self.tools.about(finding, use, call))
                if not seen and matches(use.name, tuple(rule.after)):
                    await store.incr(marker, 1, ttl)
                    seen = True
        repeat = config.repeat
        if repeat is not None:
            for use in uses:
                recent = await store.push_recent(
                    f"{prefix}:{RECENT}", use.digest, repeat.window, ttl
                )
                if recent.count(use.digest) > repeat.max_same:
                    named = policy_name(use.name, config) or "other"
                    finding = self._finding("agent.loop", named, Action.parse(repeat.action))
                    found.append(self.tools.about(finding, use, call))
        return found

    async def _note_stopped(self, findings: list[Finding], store: Any, prefix: str) -> None:
        kinds = [f.kind for f in findings if f.kind in _SESSION_KINDS]
        if not kinds or self.telemetry is None:
            return
        now = float(self.clock())
        first = await store.set_if_absent(f"{prefix}:{STOPPED}", now, self.config.state_ttl())
        if first == now:
            self.telemetry.agent_sessions_stopped.labels(self.name, kinds[0]).inc()
