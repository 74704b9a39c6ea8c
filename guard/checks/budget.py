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

Amounts in the store are integers: nano-dollars, tokens, requests. A store failure is
an error of this check, decided by ``on_error`` (fail closed by default) and counted.
"""

from __future__ import annotations

import logging
from typing import Any

from guard.checks._budget_config import BudgetConfig, BudgetVerdict, CallHold
from guard.checks._budget_counters import CounterCache
from guard.checks._budget_ledger import Counter, Hold, Ledger
from guard.checks._budget_spend import CallSpender
from guard.checks._prices import NANO_PER_USD, PriceTable
from guard.checks._tokens import input_token_bound, text_token_bound
from guard.checks.base import CallEnd, Capabilities, CheckContext
from guard.patches import EnsureStreamUsage, SetMaxTokens
from guard.stores.base import StoreError
from guard.types import Action, Call, Finding, Reply, Verdict

__all__ = ["BudgetCheck", "BudgetConfig", "BudgetVerdict"]

log = logging.getLogger("guardwire")

#: The shortest reply worth sending: below this the call is refused, not clamped.
MIN_REPLY_TOKENS = 16
#: How long a reservation holds if its process dies before settling it.
HOLD_SECONDS = 900.0
#: A stream is cut when its UTF-8 bytes pass this many per reserved output token (text
#: runs 3-5 bytes per token; the cut is for upstreams that ignore max_tokens).
CUT_BYTES_PER_TOKEN = 6


class BudgetCheck:
    """The ``budget`` input check built from a policy's ``budgets:``."""

    name = "budget"
    shadow = False
    capabilities = Capabilities(whole_reply=False, patches_request=True, needs_state=True)

    def __init__(self, budgets: list[BudgetConfig], prices: PriceTable | None = None) -> None:
        self.budgets = budgets
        self.prices = prices or PriceTable.shipped()
        self.telemetry: Any = None  # set by the engine (guard.telemetry.Telemetry)
        self.clock: Any = None  # tests inject a clock; default: the store's
        self._metrics: dict[tuple[str, ...], Any] = {}
        self._built = CounterCache(HOLD_SECONDS)

    # -- the input stage: reserve --------------------------------------------------------

    async def input(self, call: Call, ctx: CheckContext) -> Verdict:
        """Reserve for this call on every budget; clamp, or refuse with a 429."""
        if ctx.store is None:
            raise RuntimeError("budgets need a state store (Guard(store=...))")
        try:
            return await self._reserve(call, ctx)
        except StoreError:
            # Counted here; the check's failure then follows on_error (closed by default).
            self._store_failed(ctx)
            raise

    def _store_failed(self, ctx: CheckContext) -> None:
        self._count_store_error(getattr(ctx.store, "kind", "unknown"))

    def _count_store_error(self, kind: str) -> None:
        if self.telemetry is not None:
            self.telemetry.store_errors.labels(kind).inc()

    async def _reserve(self, call: Call, ctx: CheckContext) -> Verdict:
        from guard import formats

        if not getattr(formats.get(call.format), "checks_reply", True):
            # Token counting (count_tokens, input_tokens): the provider bills nothing.
            return Verdict(self.name, Action.ALLOW)
        ledger = Ledger(ctx.store, self.clock)
        await ledger.ensure_open()
        if ledger.leases is not None and ledger.leases.on_store_error is None:
            kind = getattr(ctx.store, "kind", "unknown")  # not ctx: it holds the call's text
            ledger.leases.on_store_error = lambda: self._count_store_error(kind)
        now = ledger.now()
        price = self.prices.lookup(call.model)
        state = CallHold(model_label=price.model if price else "other")
        if price is None:
            refusing = [b for b in self.budgets if b.on_unknown_model == "refuse"]
            if refusing or self.prices.default is None:
                return self._refuse_unknown(refusing[0].name if refusing else self.budgets[0].name)
            price = self.prices.default
        state.price_in, state.price_out = price.input, price.output
        state.price_cached, state.price_cache_write = price.cached_input, price.cache_write
        state.input_tokens = input_token_bound(call)
        wanted = min(call.max_tokens or price.max_output_tokens, price.max_output_tokens)
        counters = [
            c for budget in self.budgets for c in self._built.counters(budget, call, now, state)
        ]
        granted, short = await ledger.reserve(
            counters, state.input_tokens, wanted, MIN_REPLY_TOKENS, HOLD_SECONDS
        )
        if granted is None:
            assert short is not None
            self._count("refusals", short.budget)
            return self._refuse(short, now)
        tokens, holds = granted
        state.holds, state.output_tokens = holds, tokens
        ctx.private(self.name)["call"] = state
        ctx.meters.append(_Meter(self, state))
        ctx.spender = CallSpender(self, call, ctx.store, HOLD_SECONDS)  # e.g. a judge's use
        patches: list[Any] = []
        if call.max_tokens is None or tokens < call.max_tokens:
            patches.append(SetMaxTokens(tokens))
            ctx.response_headers["x-guardwire-max-tokens-clamped"] = str(tokens)
            for budget in self.budgets:
                self._count("clamps", budget.name)
        if call.stream:
            patches.append(EnsureStreamUsage())
        return Verdict(self.name, Action.ALLOW, patches=tuple(patches))

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
        return await self.input(call, ctx)

    def _refuse(self, short: Counter, now: float) -> Verdict:
        resets = short.resets_at
        when = (
            "never resets (window: none)"
            if resets is None
            else f"resets in {round(resets - now)} s"
        )
        reason = f"budget '{short.budget}' ({short.scope} scope) is used up; it {when}"
        finding = Finding(self.name, "budget_exceeded", action=Action.BLOCK, rule=short.budget)
        return BudgetVerdict(
            self.name, Action.BLOCK, (finding,), reason=reason, status=429,
            code="budget_exceeded", retry_after=None if resets is None else max(resets - now, 1.0),
            budget=short.budget, scope=short.scope, resets_at=resets,
        )  # fmt: skip

    def _refuse_unknown(self, budget: str) -> Verdict:
        reason = (
            f"budget '{budget}' cannot price this request's model (not in the price table);"
            " add it to the prices file or set on_unknown_model: default_price"
        )
        finding = Finding(self.name, "unknown_model", action=Action.BLOCK, rule=budget)
        return Verdict(self.name, Action.BLOCK, (finding,), reason=reason, status=400,
                       code="budget_unknown_model")  # fmt: skip

    # -- the end of the call: settle ------------------------------------------------------

    async def finish(self, ctx: CheckContext, end: CallEnd) -> None:
        """Settle (or release) what the call still holds; runs once on every exit path."""
        state: CallHold | None = ctx.private(self.name).get("call")
        if state is None or not state.holds:
            return
        try:
            await self._settle(ctx, end, state)
        except StoreError as exc:
            # The holds expire after HOLD_SECONDS; until then they count as spent.
            self._store_failed(ctx)
            log.error("budget settlement failed (%s); the reservation expires on its own", exc)

    async def _settle(self, ctx: CheckContext, end: CallEnd, state: CallHold) -> None:
        ledger = Ledger(ctx.store, self.clock)
        holds, state.holds = state.holds, []
        if end.attempts == 0 and end.outcome in ("blocked", "upstream_error") and end.status != 504:
            await ledger.release(holds)  # never reached a model that charged for it
            return
        usage = end.usage
        cached = written = 0
        if usage is not None and (usage.input_tokens or usage.output_tokens):
            used_in, used_out = usage.input_tokens, usage.output_tokens
            cached, written = usage.cached_input_tokens, usage.cache_write_tokens
        else:
            # No usage: the input bound and what streamed (or the whole reservation).
            used_in = state.input_tokens
            streamed = min(state.streamed_tokens, state.output_tokens)
            used_out = streamed or state.output_tokens
            for budget in {h.counter.budget for h in holds}:
                self._count("estimated", budget)
        await ledger.settle(holds, used_in, used_out, cached, written)
        self._record_spend(holds, state, used_in, used_out, cached, written)

    def _record_spend(
        self,
        holds: list[Hold],
        state: CallHold,
        used_in: int,
        used_out: int,
        cached: int = 0,
        written: int = 0,
    ) -> None:
        telemetry = self.telemetry
        if telemetry is None:
            return
        plain = max(used_in - cached - written, 0)
        nano = (
            plain * state.price_in + cached * state.price_cached
            + written * state.price_cache_write + used_out * state.price_out
        )  # fmt: skip
        usd = nano / NANO_PER_USD
        for budget in {h.counter.budget for h in holds}:
            spend, tokens_in, tokens_out = self._children(budget, state.model_label)
            spend.inc(usd)
            tokens_in.inc(used_in)
            tokens_out.inc(used_out)
        for hold in holds:
            if hold.remaining is not None:
                counter = hold.counter
                key = ("remaining", counter.budget, counter.unit)
                gauges = self._metrics.get(key)
                if gauges is None:
                    labels = (counter.budget, counter.unit)
                    limit = counter.limit / 1e9 if counter.unit == "usd" else float(counter.limit)
                    gauges = self._metrics[key] = telemetry.budget_remaining.labels(*labels)
                    # The limit beside it, for alerts on the share left (set once).
                    telemetry.budget_limit.labels(*labels).set(limit)
                gauges.set(hold.remaining)

    def _children(self, budget: str, model: str) -> Any:
        # labels() costs microseconds; the label sets are closed (budgets x price models).
        key = ("spend", budget, model)
        children = self._metrics.get(key)
        if children is None:
            telemetry = self.telemetry
            children = self._metrics[key] = (
                telemetry.budget_spend_usd.labels(budget, model),
                telemetry.budget_tokens.labels(budget, model, "input"),
                telemetry.budget_tokens.labels(budget, model, "output"),
            )
        return children

    def _count(self, what: str, budget: str) -> None:
        if self.telemetry is None:
            return
        key = (what, budget)
        child = self._metrics.get(key)
        if child is None:
            child = self._metrics[key] = getattr(self.telemetry, f"budget_{what}").labels(budget)
        child.inc()


class _Meter:
    """Counts a stream's output as it passes; exhausted at the call's reservation."""

    def __init__(self, check: BudgetCheck, state: CallHold) -> None:
        self.check = check
        self.state = state
        self.name = check.name

    def count(self, text: str) -> str | None:
        """Take streamed text; a reason to cut the stream once the reservation is used."""
        state = self.state
        state.streamed_tokens += text_token_bound(text)
        # The upstream honours max_tokens, so this only fires for one that does not: the
        # byte count bounds tokens from above, so the cut waits until even a generous
        # estimate (bytes / CUT_BYTES_PER_TOKEN) is past the reservation.
        if state.streamed_tokens <= state.output_tokens * CUT_BYTES_PER_TOKEN or state.cut:
            return None
        state.cut = True
        for budget in {h.counter.budget for h in state.holds}:
            self.check._count("cutoffs", budget)
        return "the reply reached the budget's reservation (max_tokens) and was cut"
