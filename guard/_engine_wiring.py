"""How a :class:`guard.engine.Guard` is put together from its policy: the check
combinations it refuses, and the budget check with its state store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from guard.checks.base import Check, capabilities_of
from guard.errors import PolicyError
from guard.policy import Policy
from guard.telemetry import Telemetry


def validate_capabilities(
    policy: Policy, input_checks: list[Check], output_checks: list[Check]
) -> None:
    """Refuse check combinations that cannot work, naming the check and the fix."""
    for index, check in enumerate(input_checks):
        if capabilities_of(check).may_reask:
            raise PolicyError(
                f"check '{check.name}' can ask for a reask, which only output checks may do: "
                "move it under 'output'",
                **_entry(policy, "input", index),
            )
    stream = policy.stream
    if stream.mode == "progressive" and stream.whole_reply == "reject":
        for index, check in enumerate(output_checks):
            capabilities = capabilities_of(check)
            if capabilities.whole_reply and capabilities.may_block:
                raise PolicyError(
                    f"check '{check.name}' needs the whole reply and may block, which a "
                    "progressive stream can only do after the text was sent: set "
                    "'stream: {mode: buffer}', 'stream: {whole_reply: buffer}' to buffer "
                    "only the calls such checks apply to, or 'stream: {whole_reply: end}' "
                    "to end the stream with an error event after the text",
                    **_entry(policy, "output", index),
                )
    if stream.mode == "progressive" and stream.whole_reply == "end":
        for index, check in enumerate(output_checks):
            capabilities = capabilities_of(check)
            if capabilities.whole_reply and capabilities.may_reask:
                raise PolicyError(
                    f"check '{check.name}' may ask for a reask, which cannot replace text "
                    "a progressive stream already sent: use 'stream: {whole_reply: buffer}' "
                    "or the check's 'action: block'",
                    **_entry(policy, "output", index),
                )


def _entry(policy: Policy, stage: str, index: int) -> dict[str, Any]:
    """A :class:`PolicyError`'s file, line and field for check entry ``index``."""
    file, line, field = policy.where(stage, index)
    return {"file": file, "line": line, "field": field}


#: Where budgets keep their state when a Guard is given none (the server's default too).
DEFAULT_STORE = "sqlite://guardwire-state.db"


def budget_store(store: Any) -> Any:
    """The store budgets use: a URL is opened lazily (on first use)."""
    from guard.stores import open_store

    if store is None:
        store = DEFAULT_STORE
    return open_store(store) if isinstance(store, str) else store


def budget_check(policy: Policy, prices: Any, registry: Any) -> Check:
    from guard.checks._prices import PriceTable
    from guard.checks.budget import BudgetCheck

    if prices is None or isinstance(prices, str | Path):
        prices = PriceTable.shipped(prices)
    check = BudgetCheck(list(policy.budgets), prices)
    check.telemetry = Telemetry.for_registry(registry)
    return check
