"""Tool-call checks: the ``tool_call`` hooks of checks that declare
``Capabilities(tool_calls=True)``, run on one complete tool call of a streamed reply.

A progressive stream filter holds each tool call's events back until its arguments are
complete (:mod:`guard.formats._tool_gate`), then runs these hooks through the call's
lifecycle. The verdicts of one stream are merged per check (:class:`ToolVerdicts`), so
a check appears once in the stream's decision however many tool calls it saw.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from guard._drive import Pending, Step
from guard.checks.base import CompleteToolCall, capabilities_of
from guard.types import Action, Call, Stage, ToolCall, Verdict

if TYPE_CHECKING:
    from guard.checks.base import CheckContext
    from guard.engine import Guard


def tool_call_checks(checks: Sequence[Any]) -> list[Any]:
    """The checks of ``checks`` that check complete tool calls, each once."""
    found: dict[int, Any] = {}
    for check in checks:
        if capabilities_of(check).tool_calls and hasattr(check, "tool_call"):
            found.setdefault(id(check), check)
    return list(found.values())


def only_tool_calls(check: Any) -> bool:
    """True for a check whose output stage is all tool calls: in progressive streams its
    ``tool_call`` hook replaces its whole-reply ``output``."""
    capabilities = capabilities_of(check)
    return capabilities.tool_calls and not capabilities.whole_reply


def complete_tool_call(id: str, name: str, source: str) -> CompleteToolCall:
    """A :class:`CompleteToolCall` from what a stream carried (arguments parsed once)."""
    arguments: Any
    if not source.strip():
        arguments = {}
    else:
        try:
            arguments = json.loads(source)
        except (ValueError, RecursionError):
            arguments = source  # not JSON: the checks see the text
    return CompleteToolCall(id, name, arguments, source)


def identity(tool_call: CompleteToolCall | ToolCall) -> Hashable:
    """What tells one tool call of a reply from another: its id, else name and source."""
    source = tool_call.source if isinstance(tool_call, CompleteToolCall) else tool_call.arguments
    return tool_call.id or ("", tool_call.name, source)


def run_tool_call(
    guard: Guard, checks: Sequence[Any], call: Call, tool_call: CompleteToolCall, ctx: CheckContext
) -> Step[list[Verdict]]:
    """Run each check's ``tool_call`` hook on ``tool_call`` (as a lifecycle step: async
    hooks are awaited by the driver). Failures and overruns decide by ``on_error``."""
    from guard.stages import CheckTimeout  # (stages imports the stream session: not above)

    verdicts: list[Verdict] = []
    clock = time.perf_counter
    ctx.stage = Stage.OUTPUT
    for check in checks:
        started = clock()
        timeout = guard.limits.get(id(check))
        try:
            result: Any = check.tool_call(call, tool_call, ctx)
            if inspect.isawaitable(result):
                result = yield Pending(result, timeout)
            verdict: Verdict = result
            if timeout is not None and clock() - started > timeout:
                raise CheckTimeout
        except Exception as exc:  # a failing check decides by on_error, loudly
            verdict = guard.check_failed(check, Stage.OUTPUT, exc)
        verdict.latency = clock() - started
        if guard.shadow or getattr(check, "shadow", False):
            verdict.shadow = True
        if verdict.action is Action.REASK:
            # A stream that started cannot be asked again: a reask refuses the call.
            verdict.action = Action.BLOCK
        verdicts.append(verdict)
    return verdicts


class ToolVerdicts:
    """The tool-call verdicts of one stream, merged into one verdict per check."""

    def __init__(self) -> None:
        self._merged: dict[str, Verdict] = {}
        #: Identities (:func:`identity`) of the tool calls checked so far.
        self.checked: set[Hashable] = set()

    def add(self, tool_call: CompleteToolCall, verdicts: list[Verdict]) -> Action:
        """Take the verdicts on one tool call; return the strictest effective action."""
        self.checked.add(identity(tool_call))
        action = Action.ALLOW
        for verdict in verdicts:
            action = max(action, verdict.effective)
            kept = self._merged.get(verdict.check)
            if kept is None:
                self._merged[verdict.check] = verdict
                continue
            findings = (*kept.findings, *verdict.findings)
            latency = kept.latency + verdict.latency
            if verdict.action > kept.action:
                kept = self._merged[verdict.check] = verdict
            kept.findings, kept.latency = findings, latency
        return action

    def merged(self) -> list[Verdict]:
        """One verdict per check (the strictest one's reason and code, every finding)."""
        return list(self._merged.values())
