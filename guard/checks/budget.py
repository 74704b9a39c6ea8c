"""Cost ceilings: reserve before the call, settle after it, release on every exit path.

A policy's ``budgets:`` become one check, ``budget``, at the input stage:

- **Reserve**: an upper bound of the call's cost — the input tokens bounded by the
  request's UTF-8 bytes plus framing (:mod:`guard.checks._tokens`), plus ``max_tokens``
  output tokens — is held in the state store with an atomic check-and-add against the
  limit, for every counter the budget has (USD, tokens, requests). ``max_tokens`` is
  clamped (a request patch) to what every budget still allows; when not even
  :data:`MIN_REPLY_TOKENS` can be afforded the call is refused with a 429 naming the
  budget and when it resets.
- **Settle** in the ``finish`` hook, which runs once on every exit path: with the
  provider's usage, or an estimate that is counted and never zero (the streamed text's
  bytes, or the reservation when nothing is known). Calls that never reached the
  upstream release their hold.
- **Streams**: a meter counts the output as it passes and cuts the stream (a
  well-formed error event) once it has used up its reservation.

In the proxy, reservations come from per-process leases (:mod:`._budget_leases`):
one store reservation serves many calls, so a call costs no store write of its own.
A call its lease has room for is reserved and settled in memory, synchronously (the
check returns a plain verdict, ``finish`` returns nothing to await): that keeps a
budgeted call within a few microseconds of an unbudgeted one.

Amounts in the store are integers: nano-dollars, tokens, requests. A store failure is
an error of this check, decided by ``on_error`` (fail closed by default) and counted.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable
from typing import Any

from guard.checks._budget_audio import price_audio
from guard.checks._budget_config import (
    BudgetConfig,
    BudgetVerdict,
    CallHold,
    exceeded_verdict,
    unknown_model_verdict,
)
from guard.checks._budget_counters import CounterCache
from guard.checks._budget_leases import leases_for
from guard.checks._budget_ledger import (
    Counter,
    Hold,
    Ledger,
    carve_all,
    carved_in_open_leases,
    release_carved,
    settle_carved,
)
from guard.checks._budget_meter import CUT_BYTES_PER_TOKEN as CUT_BYTES_PER_TOKEN
from guard.checks._budget_meter import BudgetMeter
from guard.checks._budget_metrics import BudgetMetrics
from guard.checks._budget_retries import ABANDONED, pending_for
from guard.checks._budget_spend import CallSpender
from guard.checks._budget_unbounded import reference_reservation
from guard.checks._prices import PriceTable
from guard.checks._tokens import input_token_bound
from guard.checks.base import CallEnd, Capabilities, CheckContext
from guard.patches import EnsureStreamUsage, SetMaxTokens
from guard.stores.base import StoreError
from guard.types import Action, Call, Reply, Usage, Verdict

__all__ = ["BudgetCheck", "BudgetConfig", "BudgetVerdict"]

log = logging.getLogger("guardwire")

#: The shortest reply worth sending: below this the call is refused, not clamped.
MIN_REPLY_TOKENS = 16
#: How long a reservation holds if its process dies before settling it (or cannot reach
#: the store); then the store charges it at its amount.
HOLD_SECONDS = 900.0


class BudgetCheck:
    """The ``budget`` input check built from a policy's ``budgets:``."""

    name = "budget"
    shadow = False
    capabilities = Capabilities(whole_reply=False, patches_request=True, needs_state=True)

    def __init__(self, budgets: list[BudgetConfig], prices: PriceTable | None = None) -> None:
        self.budgets = budgets
        self.prices = prices or PriceTable.shipped()
        self.metrics = BudgetMetrics()
        self.clock: Any = None  # tests inject a clock; default: the store's
        self._built = CounterCache(HOLD_SECONDS)
        #: Per wire format: does the provider bill it (not token counting)?
        self._bills: dict[str, bool] = {}
        #: Budgets with a USD or token ceiling: inputs the request cannot bound need
        #: their ``reference_tokens`` (refused without).
        self._ceilings = [b for b in budgets if b.limit_usd or b.limit_tokens]

    @property
    def telemetry(self) -> Any:
        """The metrics catalogue counted into (set by the engine)."""
        return self.metrics.telemetry

    @telemetry.setter
    def telemetry(self, telemetry: Any) -> None:
        self.metrics.telemetry = telemetry

    # -- the input stage: reserve --------------------------------------------------------

    def input(self, call: Call, ctx: CheckContext) -> Verdict | Awaitable[Verdict]:
        """Reserve for this call on every budget; clamp, or refuse with a 429. From the
        process's leases in memory when they have room (a plain verdict), else in the
        store (an awaitable)."""
        store = ctx.store
        if store is None:
            raise RuntimeError("budgets need a state store (Guard(store=...))")
        if not ctx.calls_model or not self._billed(call.format):
            # Text checked without a model call (guardwire check), or token counting:
            # the provider bills nothing (and no reply would ever settle a hold).
            return Verdict(self.name, Action.ALLOW)
        priced = self._price(call)
        if isinstance(priced, Verdict):
            return priced
        state, wanted = priced
        wanted *= choices_of(call)  # each of chat's n choices may use max_tokens
        book = leases_for(store)
        if book is not None and Ledger.opened(store):
            counters = self._counters(call, float((self.clock or time.time)()), state)
            holds = carve_all(book, counters, state.input_tokens, wanted)
            if holds is not None:
                return self._granted(call, ctx, state, wanted, holds)
        return self._reserve(call, ctx, state, wanted)

    def _billed(self, format_name: str) -> bool:
        billed = self._bills.get(format_name)
        if billed is None:
            from guard import formats

            billed = self._bills[format_name] = bool(
                getattr(formats.get(format_name), "checks_reply", True)
            )
        return billed

    def _price(self, call: Call) -> Verdict | tuple[CallHold, int]:
        """The call's prices and input bound, and the output tokens it asks for; a
        refusal when its model has no price and a budget refuses such models."""
        price = self.prices.lookup(call.model)
        label = price.model if price else "other"
        if price is None:
            refusing = [b for b in self.budgets if b.on_unknown_model == "refuse"]
            if refusing or self.prices.default is None:
                name = refusing[0].name if refusing else self.budgets[0].name
                return unknown_model_verdict(self.name, name)
            price = self.prices.default
        state = CallHold.priced(label, price)
        state.input_tokens = input_token_bound(call, price.image_tokens)
        unpriced = price_audio(self.name, self.budgets, call, price, state)
        if unpriced is not None:
            return unpriced
        if self._ceilings:
            extra = reference_reservation(self.name, self._ceilings, call)
            if isinstance(extra, Verdict):
                return extra
            state.input_tokens += extra
        wanted = min(call.max_tokens or price.max_output_tokens, price.max_output_tokens)
        return state, wanted

    def _counters(self, call: Call, now: float, state: CallHold) -> list[Counter]:
        return [c for b in self.budgets for c in self._built.counters(b, call, now, state)]

    async def _reserve(self, call: Call, ctx: CheckContext, state: CallHold, want: int) -> Verdict:
        ledger = Ledger(ctx.store, self.clock)
        try:
            await ledger.ensure_open()
            if ledger.leases is not None and ledger.leases.on_store_error is None:
                kind = getattr(ctx.store, "kind", "unknown")  # not ctx: it holds the call's text
                ledger.leases.on_store_error = lambda: self.metrics.store_error(kind)
                ledger.leases.on_abandoned = lambda: self.metrics.settle_retry(ABANDONED)
            now = ledger.now()
            counters = self._counters(call, now, state)
            least = MIN_REPLY_TOKENS * choices_of(call)  # a short reply for each choice
            granted, short = await ledger.reserve(
                counters, state.input_tokens, want, least, HOLD_SECONDS
            )
        except StoreError:
            # Counted here; the check's failure then follows on_error (closed by default).
            self._store_failed(ctx)
            raise
        if granted is None:
            assert short is not None
            self.metrics.count("refusals", short.budget)
            return exceeded_verdict(self.name, short, now)
        tokens, holds = granted
        return self._granted(call, ctx, state, tokens, holds)

    def _granted(
        self, call: Call, ctx: CheckContext, state: CallHold, tokens: int, holds: list[Hold]
    ) -> Verdict:
        """The call holds ``holds`` for ``tokens`` output tokens: clamp when that is less
        than it asked for."""
        state.holds, state.output_tokens = holds, tokens
        ctx.private(self.name)["call"] = state
        if call.stream:  # only streams are metered (a complete reply reports usage)
            ctx.meters.append(BudgetMeter(self, state))
        ctx.spender = CallSpender(self, call, ctx.store, HOLD_SECONDS)  # e.g. a judge's use
        patches: list[Any] = []
        each = tokens // choices_of(call)  # max_tokens bounds each choice
        if call.max_tokens is None or each < call.max_tokens:
            patches.append(SetMaxTokens(each))
            ctx.response_headers["x-guardwire-max-tokens-clamped"] = str(each)
            for budget in self.budgets:
                self.metrics.count("clamps", budget.name)
        if call.stream:
            patches.append(EnsureStreamUsage())
        return Verdict(self.name, Action.ALLOW, patches=tuple(patches))

    def _store_failed(self, ctx: CheckContext) -> None:
        self.metrics.store_error(getattr(ctx.store, "kind", "unknown"))

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    async def attempt(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        """Before a reask: settle the attempt that ended with its usage, then reserve for
        the next one like a new call (refused with a 429 when it cannot be afforded)."""
        state: CallHold | None = ctx.private(self.name).get("call")
        if state is not None and state.holds:
            try:
                await self._settle(ctx, CallEnd("reasked", 200, 1, reply.usage), state)
            except StoreError:
                self._store_failed(ctx)
                raise
        ctx.meters[:] = [m for m in ctx.meters if getattr(m, "check", None) is not self]
        verdict = self.input(call, ctx)
        return await verdict if inspect.isawaitable(verdict) else verdict

    # -- the end of the call: settle ------------------------------------------------------

    def finish(self, ctx: CheckContext, end: CallEnd) -> Awaitable[None] | None:
        """Settle (or release) what the call still holds; runs once on every exit path.
        In memory when it holds room carved from open leases, else in the store."""
        state: CallHold | None = ctx.private(self.name).get("call")
        if state is None or not state.holds:
            return None
        if carved_in_open_leases(state.holds):
            holds, state.holds = state.holds, []
            used = self._used(end, holds, state)
            if used is None:
                release_carved(holds)
            else:
                settle_carved(holds, used)
                self.metrics.spend(holds, state, used)
            return None
        return self._finish_in_store(ctx, end, state)

    async def _finish_in_store(self, ctx: CheckContext, end: CallEnd, state: CallHold) -> None:
        try:
            await self._settle(ctx, end, state)
        except StoreError as exc:
            # Queued: retried in the background until the store takes it (or its hold
            # expires), idempotently (guard.checks._budget_retries).
            self._store_failed(ctx)
            log.error("budget settlement failed (%s); retrying it in the background", exc)

    async def _settle(self, ctx: CheckContext, end: CallEnd, state: CallHold) -> None:
        ledger = Ledger(ctx.store, self.clock)
        retries = pending_for(ctx.store)
        if retries.on_result is None:
            retries.on_result = self.metrics.settle_retry
        holds, state.holds = state.holds, []
        used = self._used(end, holds, state)
        if used is None:
            await ledger.release(holds)
            return
        await ledger.settle(holds, used)
        self.metrics.spend(holds, state, used)

    def _used(self, end: CallEnd, holds: list[Hold], state: CallHold) -> Usage | None:
        """What the call used: the reported usage, else an estimate; ``None`` when it
        never reached a model that charged for it (release)."""
        # A timed-out call (504) may have been charged, unless it was never sent.
        unsent = end.status != 504 or not end.request_sent
        refused = end.outcome in ("blocked", "unavailable", "upstream_error")
        if end.attempts == 0 and refused and unsent:
            return None
        usage = end.usage
        if usage is not None and (usage.input_tokens or usage.output_tokens):
            return usage
        # No usage: the input bound and what streamed (or the whole reservation).
        streamed = min(state.streamed_tokens, state.output_tokens)
        nothing_read = not (streamed or end.streamed_characters)
        if end.outcome == "upstream_error" and nothing_read and unsent:
            # The upstream failed before any of its reply was read (a 200 whose body is
            # not the API's stream, a reset before the first text): nothing shows that a
            # model ran, and the same body on a complete call is released too. Charging
            # the reservation let a broken upstream drain a budget as the SDKs retried.
            return None
        for budget in {h.counter.budget for h in holds}:
            self.metrics.count("estimated", budget)
        output = streamed or state.output_tokens
        # Audio the call sent or asked for: the estimate is priced as audio, as reserved.
        heard = state.input_tokens if state.price_audio_in is not None else 0
        spoken = output if state.price_audio_out is not None else 0
        return Usage(
            state.input_tokens, output, audio_input_tokens=heard, audio_output_tokens=spoken
        )


def choices_of(call: Call) -> int:
    """How many replies ``call`` asks for (chat's ``n``), each bounded by ``max_tokens``."""
    raw = call.raw
    n = raw.get("n") if call.format == "openai.chat" and isinstance(raw, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1
