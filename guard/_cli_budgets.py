"""``guardwire budgets [--config FILE] [list | show NAME | reset NAME]``.

Reads the server config (its policies, store and client keys) and the store the proxy
uses. A budget's spend is kept per scope value (tenant, key, session, model) and
window; the scope values listed are those the config knows (the tenants and keys of
``keys:``, the models of the price table, the global scope); any other one (a session)
is named with ``--scope VALUE``. ``reset`` sets the current window's spend of the
named scopes back to zero; reservations of calls in flight settle as usual.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from guard.checks._budget_config import BudgetConfig
from guard.checks._prices import NANO_PER_USD, PriceTable
from guard.checks._windows import counter_key, scope_value, window_bounds
from guard.errors import ConfigError

_UNITS = ("usd", "tokens", "requests")


def add_parser(commands: Any) -> None:
    """Register ``budgets`` on the CLI's sub-command parser."""
    budgets = commands.add_parser(
        "budgets",
        help="list budgets, show their spend and remaining, reset a budget",
        description="Budgets of the configured policies, with spend, reservations and "
        "remaining per scope in the current window, read from the configured store.",
    )
    budgets.add_argument(
        "--config", metavar="FILE", help="server config YAML (env GUARDWIRE_CONFIG)"
    )
    budgets.add_argument("--json", action="store_true", help="print JSON instead of a table")
    budgets.add_argument("action", nargs="?", choices=("list", "show", "reset"), default="list")
    budgets.add_argument("name", nargs="?", metavar="NAME", help="the budget (show, reset)")
    budgets.add_argument(
        "--scope", metavar="VALUE", action="append",
        help="a scope value (tenant, key id, session, model) besides those the config knows",
    )  # fmt: skip


@dataclass
class Row:
    """One budget in one scope in the current window."""

    budget: str
    scope: str
    value: str
    unit: str
    limit: float
    spent: float
    reserved: float
    remaining: float
    resets_at: str | None


def run(args: argparse.Namespace) -> int:
    """Run ``guardwire budgets``; exit 0, or 2 on a usage or configuration error."""
    from guard.policy import resolve_policy
    from guard.proxy.config import load_config
    from guard.stores import open_store

    config = load_config(args.config)
    budgets: dict[str, BudgetConfig] = {}
    for source in {config.policy, *config.policies.values()}:
        for budget in resolve_policy(source).budgets:
            budgets.setdefault(budget.name, budget)
    if args.action in ("show", "reset"):
        if not args.name:
            raise ConfigError(f"'guardwire budgets {args.action}' needs the budget's NAME")
        if args.name not in budgets:
            known = ", ".join(sorted(budgets)) or "none"
            raise ConfigError(f"no budget named '{args.name}' in the configured policies ({known})")
        budgets = {args.name: budgets[args.name]}
    store = open_store(config.store).sync
    store.open()
    try:
        values = _scope_values(config, PriceTable.shipped(config.prices), args.scope or [])
        rows = [row for b in budgets.values() for row in _rows(store, b, values)]
        if args.action == "reset":
            for row in rows:
                key = _key(budgets[row.budget], row.value, row.unit)
                current = store.get(key)
                if current:
                    store.incr(key, -current)
            rows = [row for b in budgets.values() for row in _rows(store, b, values)]
    finally:
        store.close()
    _print(rows, budgets, as_json=args.json, reset=args.action == "reset")
    return 0


def _scope_values(config: Any, prices: PriceTable, extra: list[str]) -> dict[str, list[str]]:
    tenants = sorted({key.tenant for key in config.keys}) or ["(none)"]
    keys = sorted({key.digest()[:12] for key in config.keys}) or ["(none)"]
    return {
        "global": ["-"],
        "tenant": [*tenants, *extra],
        "key": [*keys, *extra],
        "session": extra or ["(none)"],
        "model": sorted(prices.labels) + extra,
        "request": [],
    }


def _key(budget: BudgetConfig, value: str, unit: str) -> str:
    window, _ = window_bounds(budget.window, time.time(), budget.tz)
    if budget.scope == "global":
        scope = "-"
    elif budget.scope == "model":
        scope = value
    else:
        scope = scope_value(None if value == "(none)" else value)
    return counter_key(budget.name, scope, window, unit)


def _rows(store: Any, budget: BudgetConfig, values: dict[str, list[str]]) -> list[Row]:
    _, resets = window_bounds(budget.window, time.time(), budget.tz)
    when = None if resets is None else datetime.fromtimestamp(resets, UTC).isoformat()
    limits = {"usd": budget.limit_usd, "tokens": budget.limit_tokens,
              "requests": budget.limit_requests}  # fmt: skip
    rows: list[Row] = []
    for value in values[budget.scope]:
        for unit in _UNITS:
            limit = limits[unit]
            if limit is None:
                continue
            key = _key(budget, value, unit)
            scale = NANO_PER_USD if unit == "usd" else 1
            spent, held = store.get(key) / scale, store.reserved(key) / scale
            rows.append(Row(budget.name, budget.scope, value, unit, float(limit), spent, held,
                            max(float(limit) - spent - held, 0.0), when))  # fmt: skip
    return rows


def _print(
    rows: list[Row], budgets: dict[str, BudgetConfig], *, as_json: bool, reset: bool
) -> None:
    if as_json:
        print(json.dumps({"reset": reset, "budgets": [asdict(r) for r in rows]}, indent=2))
        return
    if not budgets:
        print("no budgets in the configured policies")
        return
    if reset:
        print("reset: " + ", ".join(sorted(budgets)))
    print(f"{'budget':<20} {'scope':<8} {'value':<16} {'unit':<8} {'limit':>12} {'spent':>12}"
          f" {'reserved':>12} {'remaining':>12}  resets (UTC)")  # fmt: skip
    for r in rows:
        resets = r.resets_at or "never"
        print(f"{r.budget:<20} {r.scope:<8} {r.value[:16]:<16} {r.unit:<8} {r.limit:>12.6g}"
              f" {r.spent:>12.6g} {r.reserved:>12.6g} {r.remaining:>12.6g}  {resets}")  # fmt: skip
