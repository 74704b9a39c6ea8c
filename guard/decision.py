"""What the engine decided: per stage (:class:`Decision`) and per call (:class:`Outcome`)."""

from __future__ import annotations

from dataclasses import dataclass

from guard.types import Action, Finding, Reply, Stage, Verdict

_OUTCOME = {
    Action.ALLOW: "allowed",
    Action.WARN: "warned",
    Action.REDACT: "redacted",
    Action.REASK: "reasked",
    Action.BLOCK: "blocked",
}


@dataclass(slots=True)
class Decision:
    """The result of one stage: every check's verdict and the action that applies."""

    stage: Stage
    #: The action that applies to traffic (``allow`` for everything in shadow mode).
    action: Action
    verdicts: list[Verdict]
    policy: str
    policy_hash: str
    request_id: str = ""
    latency: float = 0.0
    #: The checked text with this stage's redactions applied (``check_input`` /
    #: ``check_output``; ``None`` where the text lives in a wire body instead).
    text: str | None = None

    @property
    def blocked(self) -> bool:
        """True when the call or reply must be refused."""
        return self.action is Action.BLOCK

    @property
    def recorded_action(self) -> Action:
        """The strictest action any check decided, shadow included."""
        return max((v.action for v in self.verdicts), default=Action.ALLOW)

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every check, in policy order."""
        return [f for v in self.verdicts for f in v.findings]

    @property
    def outcome(self) -> str:
        """``allowed``, ``warned``, ``redacted``, ``reasked`` or ``blocked``."""
        return _OUTCOME[self.action]

    def reasons(self) -> list[str]:
        """Value-free reasons of the verdicts that decided the action."""
        return [
            v.reason or f"check '{v.check}'" for v in self.verdicts if v.effective == self.action
        ]

    def exhausted(self) -> Decision:
        """This reask decision as the block it becomes when no attempt is left: the
        reasons are those of the verdicts that asked for the reask."""
        verdicts = [
            Verdict(
                v.check,
                Action.BLOCK,
                v.findings,
                reason=(v.reason or f"check '{v.check}'") + " (no reask left)",
                latency=v.latency,
                errored=v.errored,
            )
            if v.effective is Action.REASK
            else v
            for v in self.verdicts
        ]
        return Decision(
            self.stage,
            Action.BLOCK,
            verdicts,
            self.policy,
            self.policy_hash,
            self.request_id,
            self.latency,
        )

    def message(self) -> str:
        """One sentence for the caller; names checks and rules, never the text."""
        what = "request" if self.stage is Stage.INPUT else "model reply"
        if self.action is Action.ALLOW:
            return f"guardwire allowed this {what}"
        verb = {Action.BLOCK: "blocked", Action.REASK: "rejected"}.get(self.action, "flagged")
        return f"guardwire {verb} this {what}: " + "; ".join(self.reasons())

    def feedback(self) -> str:
        """The feedback of every check that asked for a reask."""
        return "\n".join(
            v.feedback for v in self.verdicts if v.effective is Action.REASK and v.feedback
        )


@dataclass(slots=True)
class Outcome:
    """Everything an engine-driven call produced."""

    input: Decision
    output: Decision | None = None
    reply: Reply | None = None
    attempts: int = 0

    @property
    def blocked(self) -> Decision | None:
        """The decision that blocked the call, if any."""
        for decision in (self.input, self.output):
            if decision is not None and decision.blocked:
                return decision
        return None

    @property
    def action(self) -> Action:
        """The strictest action that applied to the call (input or output)."""
        if self.output is None:
            return self.input.action
        return max(self.input.action, self.output.action)

    @property
    def label(self) -> str:
        """The call's outcome for metrics: ``reasked`` or the strictest stage outcome."""
        return "reasked" if self.attempts > 1 and self.blocked is None else _OUTCOME[self.action]
