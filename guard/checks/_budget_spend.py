"""Model use a check makes itself, charged to the call's budgets (``ctx.spender``).

A grounding judge that asks a model costs money too. It is held and settled on the
same counters as the call that carries it — same budgets, same scopes — priced at the
judge's own model, all or nothing (no clamp: a judge cut short answers nothing).
Requests budgets are left alone: they count the client's calls, not the guard's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.checks._budget_config import CallHold
from guard.checks._budget_ledger import Ledger
from guard.types import Call, Usage

if TYPE_CHECKING:
    from guard.checks.budget import BudgetCheck


class CallSpender:
    """Reserves, settles and releases extra model use on one call's budgets."""

    def __init__(self, check: BudgetCheck, call: Call, store: object, hold_seconds: float):
        self.check = check
        self.call = call
        self.store = store
        self.hold_seconds = hold_seconds

    async def reserve(self, model: str, input_tokens: int, output_tokens: int) -> CallHold | None:
        """Hold ``input_tokens`` in and ``output_tokens`` out of ``model`` on every budget;
        ``None`` when one cannot afford it or the model has no price."""
        check = self.check
        ledger = Ledger(self.store, check.clock)
        await ledger.ensure_open()
        now = ledger.now()
        price = check.prices.lookup(model)
        label = price.model if price is not None else "other"
        price = price or check.prices.default
        if price is None:
            return None
        state = CallHold.priced(label, price)
        counters = [c for c in check._counters(self.call, now, state) if c.unit != "requests"]
        granted, _ = await ledger.reserve(
            counters, input_tokens, output_tokens, output_tokens, self.hold_seconds
        )
        if granted is None:
            return None
        state.output_tokens, state.holds = granted
        state.input_tokens = input_tokens
        return state

    async def settle(self, hold: CallHold, usage: Usage | None) -> None:
        """Spend the reported usage (the whole hold when none was reported)."""
        if usage is not None and (usage.input_tokens or usage.output_tokens):
            used_in, used_out = usage.input_tokens, usage.output_tokens
        else:
            used_in, used_out = hold.input_tokens, hold.output_tokens
        holds, hold.holds = hold.holds, []
        # Priced as text in and out (a judge's cache and audio tokens are not read).
        used = Usage(used_in, used_out)
        await Ledger(self.store, self.check.clock).settle(holds, used)
        self.check.metrics.spend(holds, hold, used)

    async def release(self, hold: CallHold) -> None:
        """Drop the hold (the model was never asked)."""
        holds, hold.holds = hold.holds, []
        await Ledger(self.store, self.check.clock).release(holds)
