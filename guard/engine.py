"""The engine: one policy's checks, and the way into the call lifecycle.

A :class:`Guard` is built once per policy. Frontends open a
:class:`~guard.lifecycle.GuardedCall` per call (``guard.open(call, frontend=...)``),
which runs the stages, drives reasks and finishes the call; see :mod:`guard.lifecycle`.

For people who orchestrate their own calls there are shortcuts on the same path:
``check_input`` / ``check_output`` (a piece of text; the decision carries the redacted
text), ``before`` / ``after`` (a parsed call or reply, edited in place), ``stream``
(a session for streamed text), and ``run`` / ``run_sync`` (send through your own
function, reasks included). ``close`` / ``aclose`` (or ``with`` / ``async with``) at
the end write what budgets still owe the state store.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from guard._awaiting_after import AwaitingAfter
from guard._drive import wait_sync
from guard._engine_services import GuardServices
from guard._engine_shortcuts import GuardShortcuts
from guard._engine_shortcuts import checked_reply_text as checked_reply_text
from guard._engine_shortcuts import text_call as text_call
from guard._engine_shortcuts import text_reply as text_reply
from guard._engine_wiring import DEFAULT_STORE as DEFAULT_STORE
from guard._engine_wiring import budget_check, budget_store, validate_capabilities
from guard.audit import AuditLog
from guard.checks.base import Check, capabilities_of
from guard.errors import PolicyError
from guard.formats.base import update_reply, write_segments
from guard.policy import Policy, resolve_policy
from guard.telemetry import Telemetry
from guard.types import Action, Call, Reply, Segment, Stage

if TYPE_CHECKING:
    from guard.lifecycle import GuardedCall

log = logging.getLogger("guardwire")

_ids = itertools.count(1)
_ID_PREFIX = secrets.token_hex(6)


def new_request_id() -> str:
    """A process-unique request id: a random per-process prefix and a counter
    (a tenth of the cost of ``uuid4().hex``, which showed in proxy profiles)."""
    return f"{_ID_PREFIX}{next(_ids):012x}"


class Guard(GuardShortcuts, GuardServices):
    """The guardrails engine for one policy (its shortcuts in
    :mod:`guard._engine_shortcuts`, what the lifecycle asks of it in
    :mod:`guard._engine_services`)."""

    def __init__(
        self,
        policy: Policy | str | Path | None = None,
        *,
        audit: AuditLog | str | Path | None = None,
        registry: CollectorRegistry | None = None,
        store: Any = None,
        prices: Any = None,
    ) -> None:
        self.telemetry = Telemetry.for_registry(registry)
        try:
            self.policy = resolve_policy(policy)
            self.input_checks, self.output_checks = self.policy.build()
        except PolicyError:
            self.telemetry.policy_load_errors.inc()
            raise
        self.telemetry.policy_loads.inc()
        # Read once: the pydantic private attribute behind Policy.hash costs ~5 µs a read.
        self.policy_name = self.policy.name
        self.policy_hash = self.policy.hash
        #: ``name@hash``, as in the ``x-guardwire-policy`` header.
        self.policy_tag = f"{self.policy_name}@{self.policy_hash}"
        self.telemetry.policy_info.labels(self.policy_name, self.policy_hash).set(1)
        self.audit = audit if isinstance(audit, AuditLog) or audit is None else AuditLog(audit)
        #: The state store checks that keep state use (``ctx.store``).
        self.store = store
        #: Shadow policy: everything is evaluated and recorded, traffic never changes.
        self.shadow = self.policy.mode == "shadow"
        self._block_on_error = self.policy.on_error == "block"
        #: Per check object: (blocks on error, time limit in seconds).
        self._settings: dict[int, tuple[bool, float | None]] = {}
        for configs, checks in ((self.policy.input, self.input_checks),
                                (self.policy.output, self.output_checks)):  # fmt: skip
            for config, check in zip(configs, checks, strict=True):
                on_error = config.on_error or self.policy.on_error
                limit = config.timeout_ms / 1000 if config.timeout_ms else None
                self._settings[id(check)] = (on_error == "block", limit)
        self._wire_stateful_checks(store, registry)
        if self.policy.budgets:
            # Budgets run last at the input stage: a call another check refuses holds
            # nothing. Their failures (a store outage) follow the policy's on_error.
            self.store = budget_store(store)
            budgets = budget_check(self.policy, prices, registry)
            self.input_checks.append(budgets)
            self._settings[id(budgets)] = (self._block_on_error, None)
        self._limits = {k: v[1] for k, v in self._settings.items() if v[1] is not None}
        validate_capabilities(self.policy, self.input_checks, self.output_checks)
        self._collect_finish_hooks()
        self._bind_telemetry()
        self._metric_children: dict[tuple[str, Stage, Action, bool], tuple[Any, Any]] = {}
        #: (stage, check name) -> the check's ``metric_labels`` for findings counted by
        #: entity (the pii check's ``guardwire_pii_entities_total``).
        self._entity_labels: dict[tuple[Stage, str], Callable[[Any], tuple[str, str]]] = {}
        #: (stage, check name) -> the Telemetry counter those findings go to (a check's
        #: ``metric_counter``; default the pii one).
        self._entity_counters: dict[tuple[Stage, str], str] = {}
        for stage, checks in ((Stage.INPUT, self.input_checks), (Stage.OUTPUT, self.output_checks)):
            for check in checks:
                labels_of = getattr(check, "metric_labels", None)
                if labels_of is not None:
                    self._entity_labels[stage, check.name] = labels_of
                    counter_name = getattr(check, "metric_counter", "pii_entities")
                    self._entity_counters[stage, check.name] = counter_name
        self._call_counters: dict[tuple[str, str, str], Any] = {}
        #: Calls ``before()`` let through, waiting for their ``after()``.
        self._awaiting_after = AwaitingAfter()

    def _wire_stateful_checks(self, store: Any, registry: Any) -> None:
        """Checks that govern both stages (``serves_output``: the agent check) also run
        at the output stage; checks that keep state get the store and the metrics."""
        for check in list(self.input_checks):
            if getattr(check, "serves_output", False):
                self.output_checks.append(check)
            if capabilities_of(check).needs_state:
                self.store = budget_store(store)
                if hasattr(check, "telemetry"):
                    check.telemetry = Telemetry.for_registry(registry)

    @property
    def needs_state(self) -> bool:
        """Whether a check or a budget of the policy keeps state in the store."""
        checks = (*self.input_checks, *self.output_checks)
        return bool(self.policy.budgets) or any(capabilities_of(c).needs_state for c in checks)

    def add_check(
        self,
        stage: Stage | str,
        check: Check,
        *,
        on_error: str | None = None,
        timeout_ms: float | None = None,
    ) -> None:
        """Add a check written in Python after the policy's checks of ``stage``, with its
        own ``on_error`` (``block``/``allow``; default the policy's) and time limit."""
        stage = Stage(stage)
        checks = self.input_checks if stage is Stage.INPUT else self.output_checks
        checks.append(check)
        block = (on_error or self.policy.on_error) == "block"
        self._settings[id(check)] = (block, timeout_ms / 1000 if timeout_ms else None)
        if timeout_ms:
            self._limits[id(check)] = timeout_ms / 1000
        try:
            validate_capabilities(self.policy, self.input_checks, self.output_checks)
        except PolicyError:
            checks.remove(check)
            raise
        self._collect_finish_hooks()
        self._bind_telemetry()

    def _bind_telemetry(self) -> None:
        # Checks with metrics of their own (grounding) record them in this catalogue.
        for check in (*self.input_checks, *self.output_checks):
            bind = getattr(check, "bind_telemetry", None)
            if bind is not None:
                bind(self.telemetry)

    def _collect_finish_hooks(self) -> None:
        #: The ``finish`` hooks of the checks, each once (a check may serve both stages).
        hooks: dict[int, Any] = {}
        for check in (*self.input_checks, *self.output_checks):
            # Checks that count their own metrics (schema failures by kind) get the catalogue.
            bind = getattr(check, "bind_telemetry", None)
            if bind is not None:
                bind(self.telemetry)
            hook = getattr(check, "finish", None)
            if hook is not None:
                hooks.setdefault(id(check), hook)
        self.finish_hooks = list(hooks.values())

    @property
    def stream_buffered(self) -> bool:
        """Streamed replies are checked whole before release: ``stream.mode: buffer``, or
        ``stream.whole_reply: buffer`` with an output check that needs the whole reply
        and may block."""
        stream = self.policy.stream
        if stream.mode == "buffer":
            return True
        if stream.whole_reply != "buffer":
            return False
        return any(
            capabilities_of(c).whole_reply and capabilities_of(c).may_block
            for c in self.output_checks
        )

    # -- the call lifecycle -------------------------------------------------------------

    def open(self, call: Call, *, frontend: str, upstream: str | None = None) -> GuardedCall:
        """Start the life of one call (see :mod:`guard.lifecycle`)."""
        from guard.lifecycle import GuardedCall

        return GuardedCall(self, call, frontend=frontend, upstream=upstream)

    def open_text_check(self, call: Call) -> GuardedCall:
        """Start the life of text checked without a model call (``check_input``, the
        check endpoint): nothing is forwarded, so budgets reserve nothing."""
        lifecycle = self.open(call, frontend="check")
        lifecycle.ctx.calls_model = False
        return lifecycle

    def stream_checks(self, call: Call) -> GuardedCall:
        """What a stream filter of a call opened outside a lifecycle talks to."""
        return self.open(call, frontend="check")

    @staticmethod
    def ensure_request_id(call: Call) -> None:
        """Give ``call`` a request id if it has none."""
        if not call.request_id:
            call.request_id = new_request_id()

    # -- shutdown ----------------------------------------------------------------------

    def close(self) -> None:
        """Write what budgets still owe the state store: settlements queued after a store
        failure (retried for at most 5 s while it keeps failing; what is still unwritten
        is counted and logged). Call it when done with the guard; the transports' close,
        ``with Guard(...)`` and ``async with`` call it too. The guard stays usable."""
        if self.store is not None:
            wait_sync(self.aclose())

    async def aclose(self) -> None:
        """:meth:`close` from async code, on the loop the guard's async calls ran on."""
        if self.store is not None:
            from guard.checks._budget_leases import close_leases

            await close_leases(self.store)

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Guard:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _write_segments(segments: Sequence[Segment], texts: list[str], raw: Any) -> None:
    """Write edited texts into the segments and ``raw`` (tool-argument leaves included:
    the format-level :func:`~guard.formats.base.write_segments` re-serialises them)."""
    write_segments(raw, segments, texts)


def _write_reply(reply: Reply, segments: Sequence[Segment]) -> None:
    """Copy edited segment texts back to the reply's choices and tool calls."""
    update_reply(reply, segments)
