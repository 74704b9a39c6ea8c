""":class:`AuditLog`: runs records through the pipeline into a sink."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guard.audit.processors import (
    Event,
    ModelName,
    Processor,
    assert_no_values,
    decision_record,
    default_processors,
    digest,
    drop_values,
    render_json,
)
from guard.audit.record import CallRecord
from guard.audit.sinks import FileSink, Sink, open_sink

if TYPE_CHECKING:
    from guard.decision import Decision


class AuditLog:
    """The audit log: one value-free JSON line per call (:meth:`record_call`).

    ``target`` is a file path, ``"-"`` for standard output, or a callable taking each
    line. The pipeline is configured here and nowhere else: ``known_models`` names the
    models that may appear by name (others are written as ``other`` + hash), ``strict``
    raises :class:`~guard.audit.processors.AuditValueError` on a field outside the
    value-free vocabulary instead of dropping it, and ``processors`` replaces the chain.
    """

    def __init__(
        self,
        target: str | Path | Callable[[str], None] | Sink,
        *,
        known_models: Collection[str] | Callable[[str], bool] = (),
        strict: bool = False,
        processors: Sequence[Processor] | None = None,
        render: Callable[[Event], str] = render_json,
    ) -> None:
        self.sink = open_sink(target)
        #: The file written to, when the sink is a file.
        self.path: Path | None = self.sink.path if isinstance(self.sink, FileSink) else None
        self._model_name = ModelName(known_models)
        if processors is None:
            processors = default_processors(known_models, strict=strict)
        self.processors = list(processors)
        self._check_values: Processor = assert_no_values if strict else drop_values
        self._render = render

    def record_call(self, record: CallRecord) -> None:
        """Write the line of one finished call. A failing sink (disk full) raises its
        ``OSError``: whether that fails the call is the caller's decision."""
        event: Event = {}
        for processor in self.processors:
            event = processor(record, event)
        self.sink.write(self._render(event))

    def record(self, decision: Decision, **extra: Any) -> None:
        """Write one stage's decision (the per-stage line of earlier versions;
        :meth:`record_call` writes one line per call instead). ``extra`` holds value-free
        fields such as ``format``; anything outside the vocabulary is dropped. A
        ``model`` or ``session`` given here is written as for :meth:`record_call`
        (known name or ``other`` plus hash; session hashed), never as given."""
        if "model" in extra:
            extra.update(self._model_name.fields(extra.pop("model")))
        if extra.get("session") is not None:
            extra["session"] = digest(str(extra["session"]))
        stage = decision_record(decision)
        assert stage is not None
        event: Event = {
            "time": round(time.time(), 6),
            "request_id": decision.request_id,
            "policy": decision.policy,
            "policy_hash": decision.policy_hash,
            "stage": decision.stage.value,
            **stage,
            **extra,
        }
        self.sink.write(self._render(self._check_values(None, event)))

    def record_event(self, event: Event) -> None:
        """Write one line that is not a call (an operator's approval decision), checked
        against the same value-free vocabulary as call lines."""
        self.sink.write(self._render(self._check_values(None, dict(event))))

    def reopen(self) -> None:
        """Reopen a file sink after log rotation (no-op for other sinks)."""
        if isinstance(self.sink, FileSink):
            self.sink.reopen()

    def close(self) -> None:
        """Flush and close the sink."""
        self.sink.close()
