"""The budget check's metrics: spend, tokens, remaining room, refusals, clamps, cut-offs
and estimated settlements, by budget (and model: a closed set from the price table).

``labels()`` costs microseconds per call; every label set here is closed (budgets x
price-table models x units), so each child is resolved once and kept.
"""

from __future__ import annotations

from typing import Any

from guard.checks._budget_config import CallHold
from guard.checks._budget_ledger import Hold
from guard.checks._prices import NANO_PER_USD, token_cost
from guard.types import Usage


class BudgetMetrics:
    """Counts what the budget check does (nothing while ``telemetry`` is ``None``)."""

    def __init__(self) -> None:
        self._telemetry: Any = None
        self._children: dict[tuple[str, ...], Any] = {}

    @property
    def telemetry(self) -> Any:
        """The :class:`guard.telemetry.Telemetry` counted into (set by the engine)."""
        return self._telemetry

    @telemetry.setter
    def telemetry(self, telemetry: Any) -> None:
        self._telemetry = telemetry
        self._children = {}  # children of another registry

    def count(self, what: str, budget: str) -> None:
        """Count one ``refusals``, ``clamps``, ``cutoffs`` or ``estimated`` of ``budget``."""
        if self._telemetry is None:
            return
        key = (what, budget)
        child = self._children.get(key)
        if child is None:
            metric = getattr(self._telemetry, f"budget_{what}")
            child = self._children[key] = metric.labels(budget)
        child.inc()

    def store_error(self, kind: str) -> None:
        """Count a failed store operation of a store of ``kind``."""
        if self._telemetry is not None:
            self._telemetry.store_errors.labels(kind).inc()

    def settle_retry(self, result: str) -> None:
        """Count a failed settlement ``queued``, then ``written`` or ``abandoned``."""
        if self._telemetry is not None:
            self._telemetry.budget_settle_retries.labels(result).inc()

    def spend(self, holds: list[Hold], state: CallHold, usage: Usage) -> None:
        """Record a settled call: spend and tokens per budget, the room left per counter."""
        if self._telemetry is None:
            return
        nano = token_cost(
            usage, per_input=state.price_in, per_output=state.price_out,
            per_cached=state.price_cached, per_write=state.price_cache_write,
            per_audio_in=state.price_audio_in, per_audio_out=state.price_audio_out,
        )  # fmt: skip
        usd = nano / NANO_PER_USD
        for budget in {h.counter.budget for h in holds}:
            spend, tokens_in, tokens_out = self._spend_children(budget, state.model_label)
            spend.inc(usd)
            tokens_in.inc(usage.input_tokens)
            tokens_out.inc(usage.output_tokens)
        for hold in holds:
            if hold.remaining is not None:
                self._remaining(hold).set(hold.remaining)

    def _remaining(self, hold: Hold) -> Any:
        counter = hold.counter
        key = ("remaining", counter.budget, counter.unit)
        gauge = self._children.get(key)
        if gauge is None:
            telemetry = self._telemetry
            labels = (counter.budget, counter.unit)
            limit = counter.limit / 1e9 if counter.unit == "usd" else float(counter.limit)
            gauge = self._children[key] = telemetry.budget_remaining.labels(*labels)
            # The limit beside it, for alerts on the share left (set once).
            telemetry.budget_limit.labels(*labels).set(limit)
        return gauge

    def _spend_children(self, budget: str, model: str) -> Any:
        key = ("spend", budget, model)
        children = self._children.get(key)
        if children is None:
            telemetry = self._telemetry
            children = self._children[key] = (
                telemetry.budget_spend_usd.labels(budget, model),
                telemetry.budget_tokens.labels(budget, model, "input"),
                telemetry.budget_tokens.labels(budget, model, "output"),
            )
        return children
