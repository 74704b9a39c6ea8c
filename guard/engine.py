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
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from guard._awaiting_after import AwaitingAfter
from guard._drive import Step, run_sync, wait_sync
from guard._transport_deadline import DEFAULT_TOTAL_TIMEOUT
from guard.audit import AuditLog, CallRecord
from guard.checks.base import Check, capabilities_of
from guard.decision import Decision, Outcome
from guard.errors import PolicyError
from guard.formats.base import update_reply, write_segments
from guard.formats.text import build_call
from guard.policy import Policy, resolve_policy
from guard.stages import check_error_verdict
from guard.stores.base import StoreError, unavailable
from guard.streaming import StreamSession
from guard.telemetry import Telemetry
from guard.types import Action, Call, Caller, Choice, Passage, Reply, Segment, Stage, Verdict

if TYPE_CHECKING:
    from guard.lifecycle import GuardedCall

log = logging.getLogger("guardwire")

_ids = itertools.count(1)
_ID_PREFIX = secrets.token_hex(6)


def new_request_id() -> str:
    """A process-unique request id: a random per-process prefix and a counter
    (a tenth of the cost of ``uuid4().hex``, which showed in proxy profiles)."""
    return f"{_ID_PREFIX}{next(_ids):012x}"


class Guard:
    """The guardrails engine for one policy."""

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
            self.store = _budget_store(store)
            budgets = _budget_check(self.policy, prices, registry)
            self.input_checks.append(budgets)
            self._settings[id(budgets)] = (self._block_on_error, None)
        self._limits = {k: v[1] for k, v in self._settings.items() if v[1] is not None}
        self._validate_capabilities()
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
                self.store = _budget_store(store)
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
            self._validate_capabilities()
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

    def _validate_capabilities(self) -> None:
        """Refuse check combinations that cannot work, naming the check and the fix."""
        source = self.policy.source
        for check in self.input_checks:
            if capabilities_of(check).may_reask:
                raise PolicyError(
                    f"check '{check.name}' can ask for a reask, which only output checks may do: "
                    "move it under 'output'",
                    file=source,
                )
        stream = self.policy.stream
        if stream.mode == "progressive" and stream.whole_reply == "reject":
            for check in self.output_checks:
                capabilities = capabilities_of(check)
                if capabilities.whole_reply and capabilities.may_block:
                    raise PolicyError(
                        f"check '{check.name}' needs the whole reply and may block, which a "
                        "progressive stream can only do after the text was sent: set "
                        "'stream: {mode: buffer}', 'stream: {whole_reply: buffer}' to buffer "
                        "only the calls such checks apply to, or 'stream: {whole_reply: end}' "
                        "to end the stream with an error event after the text",
                        file=source,
                    )
        if stream.mode == "progressive" and stream.whole_reply == "end":
            for check in self.output_checks:
                capabilities = capabilities_of(check)
                if capabilities.whole_reply and capabilities.may_reask:
                    raise PolicyError(
                        f"check '{check.name}' may ask for a reask, which cannot replace text "
                        "a progressive stream already sent: use 'stream: {whole_reply: buffer}' "
                        "or the check's 'action: block'",
                        file=source,
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

    # -- shortcuts on the same path ------------------------------------------------------

    def before(self, call: Call) -> Decision:
        """Run the input checks; apply redactions to ``call`` (segments and raw body).

        A call let through waits for :meth:`after` with its reply, which settles what
        the input stage reserved (budgets); a blocked call ends here and holds nothing.
        A call never given to ``after`` keeps its reservation until the hold expires
        (15 minutes) and is then charged at it (see :mod:`guard._awaiting_after`)."""
        lifecycle = self.open(call, frontend="check")
        lifecycle.start()
        assert lifecycle.input is not None
        if lifecycle.refusal is not None:
            lifecycle.finish()  # never sent: budgets release, agent steps are given back
        else:
            self._awaiting_after.put(call, lifecycle)
        return lifecycle.input

    def after(self, call: Call, reply: Reply) -> Decision:
        """Run the output checks; apply redactions to ``reply`` (choices and raw body).
        For the ``call`` object :meth:`before` let through, this ends the call: budgets
        settle with the reply's usage (or a counted estimate), once, and the values an
        input check replaced by placeholders (``pseudonymise``) are put back in ``reply``
        unless it is blocked, as the proxy and the transport do."""
        lifecycle = self._awaiting_after.pop(call)
        if lifecycle is None:
            return run_sync(self.open(call, frontend="check")._output(reply))
        try:
            decision = run_sync(lifecycle._output(reply))
            if not decision.blocked:
                lifecycle._restore_reply(reply)
            return decision
        finally:
            lifecycle.finish()

    def stream(self, call: Call) -> StreamSession:
        """Open a progressive output-check session for a streamed reply to ``call``."""
        self.ensure_request_id(call)
        return StreamSession(self, call)

    def check_input(self, text: str, *, caller: Caller | None = None) -> Decision:
        """Run the input checks on a piece of text; ``.text`` is the text as redacted."""
        call = text_call(text, caller=caller)
        lifecycle = self.open_text_check(call)
        lifecycle.start()
        lifecycle.finish()
        decision = lifecycle.input
        assert decision is not None
        decision.text = call.segments[0].text if call.segments else text
        return decision

    def check_output(
        self,
        text: str,
        *,
        context: Sequence[str | Passage] = (),
        caller: Caller | None = None,
        schema: dict[str, Any] | type[BaseModel] | None = None,
    ) -> Decision:
        """Run the output checks on a piece of text, with optional retrieved context.

        ``schema`` (a JSON Schema dict or a pydantic model class) adds a blocking schema
        check for this text: ``.text`` is the document as repaired (fences, prose removed).
        """
        call = text_call("", caller=caller, context=context)
        lifecycle = self.open_text_check(call)
        if schema is not None:
            from guard.checks.schema import schema_check

            lifecycle.extra_output_checks.append(schema_check(schema, telemetry=self.telemetry))
        decision = run_sync(checked_reply_text(lifecycle, text_reply(text)))
        lifecycle.finish()
        return decision

    async def run(self, call: Call, send: Callable[[Call], Awaitable[Reply]]) -> Outcome:
        """Check, send (repeating on reask) and check the reply; async ``send``."""
        lifecycle = self.open(call, frontend="run")
        try:
            request = await lifecycle.astart()
            while request is not None:
                request = await lifecycle.adeliver(await send(request))
        finally:
            await lifecycle.afinish()
        return lifecycle.outcome()

    def run_sync(self, call: Call, send: Callable[[Call], Reply]) -> Outcome:
        """Check, send (repeating on reask) and check the reply; sync ``send``."""
        lifecycle = self.open(call, frontend="run")
        try:
            request = lifecycle.start()
            while request is not None:
                request = lifecycle.deliver(send(request))
        finally:
            lifecycle.finish()
        return lifecycle.outcome()

    # -- what the lifecycle asks of the engine ---------------------------------------------

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

    # -- in-process frontends ------------------------------------------------------------

    def transport(
        self,
        transport: Any = None,
        *,
        allow_unchecked: bool = False,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
    ) -> Any:
        """An ``httpx`` transport guarding model calls, wrapping ``transport`` (default:
        ``httpx.HTTPTransport()``): ``httpx.Client(transport=guard.transport())``.

        ``total_timeout`` bounds a checked call from its start to the last byte of its
        reply, streamed or not (httpx's timeouts bound each read only): past it a
        complete call raises the SDK's timeout error, a stream ends with the API's error
        event. ``None``: no deadline."""
        from guard.transport import GuardTransport

        return GuardTransport(
            self, transport, allow_unchecked=allow_unchecked, total_timeout=total_timeout
        )

    def async_transport(
        self,
        transport: Any = None,
        *,
        allow_unchecked: bool = False,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
    ) -> Any:
        """The async variant of :meth:`transport`, for ``httpx.AsyncClient``."""
        from guard.transport import GuardAsyncTransport

        return GuardAsyncTransport(
            self, transport, allow_unchecked=allow_unchecked, total_timeout=total_timeout
        )

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


#: Where budgets keep their state when a Guard is given none (the server's default too).
DEFAULT_STORE = "sqlite://guardwire-state.db"


def _budget_store(store: Any) -> Any:
    """The store budgets use: a URL is opened lazily (on first use)."""
    from guard.stores import open_store

    if store is None:
        store = DEFAULT_STORE
    return open_store(store) if isinstance(store, str) else store


def _budget_check(policy: Policy, prices: Any, registry: Any) -> Check:
    from guard.checks._prices import PriceTable
    from guard.checks.budget import BudgetCheck

    if prices is None or isinstance(prices, str | Path):
        prices = PriceTable.shipped(prices)
    check = BudgetCheck(list(policy.budgets), prices)
    check.telemetry = Telemetry.for_registry(registry)
    return check


def text_call(
    text: str, *, caller: Caller | None = None, context: Sequence[str | Passage] = ()
) -> Call:
    """A plain-text call (the ``text`` format of ``wrap``): one user segment."""
    passages = [
        p if isinstance(p, Passage) else Passage(str(i + 1), p) for i, p in enumerate(context)
    ]
    return build_call(text, caller=caller, context=passages)


def text_reply(text: str) -> Reply:
    """A plain-text reply with one choice."""
    return Reply(format="text", choices=[Choice(0, text)])


def checked_reply_text(lifecycle: GuardedCall, reply: Reply) -> Step[Decision]:
    """The output stage on a plain-text ``reply`` (``check_output``, the check endpoint),
    as a step either driver runs: its decision carries the reply's text as redacted."""
    decision = yield from lifecycle._output(reply)
    decision.text = reply.text
    return decision


def _write_segments(segments: Sequence[Segment], texts: list[str], raw: Any) -> None:
    """Write edited texts into the segments and ``raw`` (tool-argument leaves included:
    the format-level :func:`~guard.formats.base.write_segments` re-serialises them)."""
    write_segments(raw, segments, texts)


def _write_reply(reply: Reply, segments: Sequence[Segment]) -> None:
    """Copy edited segment texts back to the reply's choices and tool calls."""
    update_reply(reply, segments)
