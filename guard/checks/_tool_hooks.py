"""Shapes the ``tool_call`` hooks of the agent and schema checks share.

A hook gets one :class:`~guard.checks.base.CompleteToolCall` of a progressive stream
(see :mod:`guard.formats._tool_gate`); the checks' whole-reply code reads a
:class:`~guard.types.Reply`. :func:`reply_of` wraps the one call in a reply, so the same
code (and the same canonical-arguments digest of the agent's loop detection and
approvals) serves both paths.
"""

from __future__ import annotations

from guard.checks.base import CompleteToolCall
from guard.types import Choice, Reply, ToolCall


def reply_of(tool_call: CompleteToolCall, format_name: str) -> Reply:
    """A reply holding only ``tool_call`` (its arguments as the model streamed them)."""
    call = ToolCall(tool_call.id, tool_call.name, tool_call.source)
    return Reply(format_name, [Choice(0, tool_calls=[call])])
