"""The counters of one call on one budget, worked out once per window and scope.

A call on a budget has up to three counters (USD, tokens, requests), keyed by the
budget, its scope's value and the window. Working the window out (time zones, calendar
arithmetic) and building the keys costs ~30 µs; calls in the same window, scope and
model reuse them.
"""

from __future__ import annotations

from typing import Any

from guard.checks._budget_config import BudgetConfig, CallHold
from guard.checks._budget_ledger import Counter
from guard.checks._prices import NANO_PER_USD
from guard.checks._windows import counter_key, scope_value, window_bounds
from guard.types import Call

#: Built counters are reused for this long (seconds): their store TTL, worked out when
#: they were built, is then at most this much longer than needed (garbage collection).
COUNTERS_REUSED_FOR = 60.0
#: At most this many (budget, scope, window, model) counter sets are kept for reuse.
COUNTERS_KEPT = 4096
#: The caller's field a scope counts by.
_IDENTITY = {"key": "key_id", "tenant": "tenant", "session": "session"}


class CounterCache:
    """Builds (and reuses) the counters of a call on a budget."""

    def __init__(self, hold_seconds: float) -> None:
        #: The TTL of per-request counters (they live as long as the call's hold).
        self.hold_seconds = hold_seconds
        self._windows: dict[tuple[str, str | None], tuple[float, str, float | None]] = {}
        self._built: dict[tuple[Any, ...], tuple[float, list[Counter]]] = {}
        #: Identities hashed for keys (a hash per call costs more than the lookup).
        self._scopes: dict[str | None, str] = {}

    def counters(
        self, budget: BudgetConfig, call: Call, now: float, state: CallHold
    ) -> list[Counter]:
        """The counters ``call`` reserves on for ``budget`` at ``now`` (shared: do not
        change the list)."""
        window, resets_at = self._window(budget, now)
        scope = self._scope(budget, call, state)
        prices = (
            state.price_in, state.price_out, state.price_cached, state.price_cache_write,
            state.price_audio_in, state.price_audio_out,
        )  # fmt: skip
        key = (id(budget), scope, window, state.model_label, prices)
        if budget.scope == "request":  # one key per request: nothing to reuse
            return self._build(budget, scope, window, resets_at, now, state)
        built = self._built.get(key)
        if built is not None and built[0] <= now < built[0] + COUNTERS_REUSED_FOR:
            return built[1]
        counters = self._build(budget, scope, window, resets_at, now, state)
        if len(self._built) >= COUNTERS_KEPT:
            self._built.clear()  # many sessions or keys: start over rather than grow
        self._built[key] = (now, counters)
        return counters

    def _window(self, budget: BudgetConfig, now: float) -> tuple[str, float | None]:
        """:func:`window_bounds`, reused while ``now`` stays between the time it was
        worked out and the window's end (a window is one contiguous stretch)."""
        key = (budget.window, budget.tz)
        cached = self._windows.get(key)
        if cached is not None:
            since, window, resets_at = cached
            if since <= now and (resets_at is None or now < resets_at):
                return window, resets_at
        window, resets_at = window_bounds(budget.window, now, budget.tz)
        self._windows[key] = (now, window, resets_at)
        return window, resets_at

    def _build(
        self,
        budget: BudgetConfig,
        scope: str,
        window: str,
        resets_at: float | None,
        now: float,
        state: CallHold,
    ) -> list[Counter]:
        ttl = None if resets_at is None else max(resets_at - now, 1.0) + 3600.0
        if budget.scope == "request":
            ttl = self.hold_seconds
        out: list[Counter] = []
        base = (budget.name, budget.scope, resets_at, ttl)
        if budget.limit_usd is not None:
            key = counter_key(budget.name, scope, window, "usd")
            out.append(
                Counter(
                    *base,
                    key,
                    round(budget.limit_usd * NANO_PER_USD),
                    state.price_in,
                    state.price_out,
                    0,
                    state.price_cached,
                    state.price_cache_write,
                    state.price_audio_in,
                    state.price_audio_out,
                )
            )
        if budget.limit_tokens is not None:
            key = counter_key(budget.name, scope, window, "tokens")
            out.append(Counter(*base, key, budget.limit_tokens, 1, 1, 0))
        if budget.limit_requests is not None:
            key = counter_key(budget.name, scope, window, "requests")
            out.append(Counter(*base, key, budget.limit_requests, 0, 0, 1))
        return out

    def _scope(self, budget: BudgetConfig, call: Call, state: CallHold) -> str:
        caller = call.caller
        if budget.scope == "request":
            return "r" + scope_value(call.request_id)
        if budget.scope == "global":
            return "-"
        if budget.scope == "model":
            return state.model_label
        given = getattr(caller, _IDENTITY[budget.scope])
        hashed = self._scopes.get(given)
        if hashed is None:
            if len(self._scopes) >= COUNTERS_KEPT:
                self._scopes.clear()
            hashed = self._scopes[given] = scope_value(given)
        return hashed
