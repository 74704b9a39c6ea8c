"""What the call lifecycle asks of :class:`guard.engine.Guard`: how a failing check is
decided (``on_error``, a store outage), its time limit, combining verdicts into a
decision, and counting and auditing finished calls. Guard inherits these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from guard.audit import AuditLog, CallRecord
from guard.checks.base import Check
from guard.decision import Decision
from guard.stages import check_error_verdict
from guard.stores.base import StoreError, unavailable
from guard.types import Action, Call, Stage, Verdict

if TYPE_CHECKING:
    from guard.lifecycle import GuardedCall
    from guard.telemetry import Telemetry


class GuardServices:
    """The lifecycle's side of :class:`~guard.engine.Guard` (a mixin; Guard's
    ``__init__`` sets the state declared here)."""

    telemetry: Telemetry
    audit: AuditLog | None
    policy_name: str
    policy_hash: str
    _settings: dict[int, tuple[bool, float | None]]
    _block_on_error: bool
    _limits: dict[int, float]
    _metric_children: dict[tuple[str, Stage, Action, bool], tuple[Any, Any]]
    _entity_labels: dict[tuple[Stage, str], Callable[[Any], tuple[str, str]]]
    _entity_counters: dict[tuple[Stage, str], str]
    _call_counters: dict[tuple[str, str, str], Any]

    def blocks_on_error(self, check: Check) -> bool:
        """Whether a failure of ``check`` blocks (its ``on_error``, else the policy's)."""
        return self._settings.get(id(check), (self._block_on_error, None))[0]

    def timeout_of(self, check: Check) -> float | None:
        """``check``'s time limit in seconds, if it has one."""
        return self.limits.get(id(check))

    @property
    def limits(self) -> dict[int, float]:
        """Time limits in seconds by check object id (the checks that have one)."""
        return self._limits

    def check_failed(self, check: Check, stage: Stage, exc: Exception) -> Verdict:
        """Count a failed check and decide its verdict by ``on_error``."""
        self.telemetry.check_errors.labels(check.name, stage.value).inc()
        verdict = check_error_verdict(check, stage, exc, self.blocks_on_error(check))
        if isinstance(exc, StoreError) and verdict.action is Action.BLOCK:
            return unavailable(verdict)  # the service is unavailable, not the content
        return verdict

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
            if verdict.findings and self._entity_labels:
                self._count_entities(stage, verdict)
        return Decision(
            stage, action, verdicts, self.policy_name, self.policy_hash, call.request_id, latency
        )

    def _count_entities(self, stage: Stage, verdict: Verdict) -> None:
        labels_of = self._entity_labels.get((stage, verdict.check))
        if labels_of is None:
            return
        counter = getattr(self.telemetry, self._entity_counters[stage, verdict.check])
        for finding in verdict.findings:
            entity, action = labels_of(finding)
            counter.labels(verdict.check, stage.value, entity, action).inc()

    def count_call(self, frontend: str, format_name: str, outcome: str) -> None:
        """Count one finished call by frontend, wire format and outcome."""
        key = (frontend, format_name, outcome)
        counter = self._call_counters.get(key)
        if counter is None:
            counter = self._call_counters[key] = self.telemetry.calls.labels(*key)
        counter.inc()

    def record_call(
        self, lifecycle: GuardedCall, outcome: str, status: int, latency: float
    ) -> None:
        """Write a finished call to the audit log (when one is configured): one line."""
        if self.audit is None:
            return
        call, reply = lifecycle.call, lifecycle.reply
        self.audit.record_call(
            CallRecord(
                request_id=call.request_id,
                frontend=lifecycle.frontend,
                outcome=outcome,
                format=call.format,
                status=status,
                policy=self.policy_name,
                policy_hash=self.policy_hash,
                tenant=call.caller.tenant,
                key_id=call.caller.key_id,
                session=call.caller.session,
                model=call.model,
                upstream=lifecycle.upstream,
                attempts=lifecycle.attempts,
                input=lifecycle.input,
                output=lifecycle.output,
                usage=reply.usage if reply is not None else None,
                latency=latency,
                unguarded_history=tuple(call.extension.get("unguarded_history") or ()),
            )
        )
