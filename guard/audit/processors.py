"""The steps of the audit pipeline, each a small callable testable alone.

A processor takes the :class:`~guard.audit.record.CallRecord` and the event built so
far and returns the event (structlog's shape, with the record in place of the logger).
The default chain, configured in one place (:func:`default_processors`)::

    bind_call_context -> ModelName(known) -> add_decisions -> add_usage -> drop_values

then :func:`render_json`, then a sink (:mod:`guard.audit.sinks`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from guard.audit.record import CallRecord
from guard.audit.vocabulary import clean, fits, violations

if TYPE_CHECKING:
    from guard.decision import Decision

log = logging.getLogger("guard.audit")

#: An event being built: field name -> JSON-safe value.
Event = dict[str, Any]
#: One step of the pipeline.
Processor = Callable[[CallRecord | None, Event], Event]


class AuditValueError(ValueError):
    """An audit event held a field outside the value-free vocabulary (strict mode)."""


def digest(value: str) -> str:
    """A stable, value-free stand-in for a client-chosen id: ``sha256:`` + 16 hex."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]


def bind_call_context(record: CallRecord | None, event: Event) -> Event:
    """Who called, through what, with what result: ids, names and counts."""
    if record is None:
        return event
    event.update(
        time=round(record.time, 6),
        request_id=record.request_id,
        frontend=record.frontend,
        format=record.format,
        outcome=record.outcome,
        status=record.status,
        policy=record.policy,
        policy_hash=record.policy_hash,
        tenant=record.tenant,
        key_id=record.key_id,
        session=None if record.session is None else digest(record.session),
        upstream=record.upstream,
        attempts=record.attempts,
        latency_ms=round(record.latency * 1000, 4),
    )
    if record.unguarded_history:
        event["unguarded_history"] = list(record.unguarded_history)
    return event


class ModelName:
    """Name the model only when it is in the known set (the configured upstream models
    or the price table); otherwise ``other``. The model string comes from the client and
    may hold anything, so the line always carries its hash too."""

    def __init__(self, known: Collection[str] | Callable[[str], bool] = ()) -> None:
        self._is_known: Callable[[str], bool] = (
            known if callable(known) else frozenset(known).__contains__
        )

    def __call__(self, record: CallRecord | None, event: Event) -> Event:
        """Add ``model`` and ``model_hash``."""
        if record is not None:
            event.update(self.fields(record.model))
        return event

    def fields(self, model: str | None) -> Event:
        """``model`` (the name, or ``other``) and ``model_hash`` for a client's model."""
        if model is None:
            return {"model": None, "model_hash": None}
        return {
            "model": model if self._is_known(model) else "other",
            "model_hash": digest(model),
        }


def decision_record(decision: Decision | None) -> Event | None:
    """A stage's decision: the action that applied and each check's verdict."""
    if decision is None:
        return None
    return {
        "action": decision.action.label,
        "latency_ms": round(decision.latency * 1000, 4),
        "checks": [
            {
                "check": v.check,
                "action": v.action.label,
                "shadow": v.shadow,
                "errored": v.errored,
                "latency_ms": round(v.latency * 1000, 4),
                "findings": [f.as_record() for f in v.findings],
            }
            for v in decision.verdicts
        ],
    }


def add_decisions(record: CallRecord | None, event: Event) -> Event:
    """The input and output decisions (``null`` for a stage that did not run)."""
    if record is not None:
        event.update(input=decision_record(record.input), output=decision_record(record.output))
    return event


def add_usage(record: CallRecord | None, event: Event) -> Event:
    """Token counts the provider reported (``null`` when it reported none)."""
    if record is not None:
        usage = record.usage
        event["usage"] = (
            None
            if usage is None
            else {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        )
    return event


def drop_values(record: CallRecord | None, event: Event) -> Event:
    """Remove every field outside the value-free vocabulary and list the removed
    fields' paths under ``dropped`` (the line is kept: losing it would hide the call)."""
    if fits(event):
        return event
    kept, dropped = clean(event)
    log.warning("audit line of request %s: dropped fields outside the vocabulary: %s",
                kept.get("request_id"), ", ".join(dropped))  # fmt: skip
    kept["dropped"] = dropped
    return kept


def assert_no_values(record: CallRecord | None, event: Event) -> Event:
    """Strict variant of :func:`drop_values` for tests and development: raise
    :class:`AuditValueError` naming the offending fields."""
    found = violations(event)
    if found:
        raise AuditValueError("audit fields outside the value-free vocabulary: " + ", ".join(found))
    return event


def render_json(event: Event) -> str:
    """One compact JSON line (no newline; the sink adds it)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def default_processors(
    known_models: Collection[str] | Callable[[str], bool] = (), *, strict: bool = False
) -> list[Processor]:
    """The standard chain; ``strict`` raises on a value instead of dropping it."""
    return [
        bind_call_context,
        ModelName(known_models),
        add_decisions,
        add_usage,
        assert_no_values if strict else drop_values,
    ]
