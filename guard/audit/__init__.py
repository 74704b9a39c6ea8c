"""The audit log: one JSON line per call, never a raw value.

A line is built by a pipeline of small processors (bind the call context, add the
decisions, add the usage, drop anything outside the value-free vocabulary), rendered as
JSON and handed to a sink (a file, standard output or a callable). See
:mod:`guard.audit.processors` for the chain and :mod:`guard.audit.vocabulary` for what a
line may hold. Off by default; enabled by giving a path.
"""

from __future__ import annotations

from guard.audit.log import AuditLog
from guard.audit.processors import (
    AuditValueError,
    ModelName,
    Processor,
    add_decisions,
    add_usage,
    assert_no_values,
    bind_call_context,
    default_processors,
    digest,
    drop_values,
    render_json,
)
from guard.audit.record import AUDIT_OUTCOMES, FRONTENDS, CallRecord
from guard.audit.sinks import CallableSink, FileSink, Sink, StreamSink, open_sink

__all__ = [
    "AUDIT_OUTCOMES",
    "FRONTENDS",
    "AuditLog",
    "AuditValueError",
    "CallRecord",
    "CallableSink",
    "FileSink",
    "ModelName",
    "Processor",
    "Sink",
    "StreamSink",
    "add_decisions",
    "add_usage",
    "assert_no_values",
    "bind_call_context",
    "default_processors",
    "digest",
    "drop_values",
    "open_sink",
    "render_json",
]
