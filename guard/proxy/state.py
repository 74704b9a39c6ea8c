"""The proxy's state store (budgets): built from ``store:``, opened at start-up, closed
at shutdown, shown in ``/readyz``. A hook of its own so the app only calls three methods.

The store is opened only when a loaded policy has budgets: a proxy without budgets
creates no state file and needs no Redis.
"""

from __future__ import annotations

import logging
from typing import Any

from guard.checks._budget_leases import close_leases, enable_leases
from guard.stores import Store, StoreError, open_store

log = logging.getLogger("guardwire.proxy")


class ProxyState:
    """The store every engine of the proxy shares."""

    def __init__(self, url: str) -> None:
        self.store: Store = open_store(url)
        self.needed = False
        self.opened = False

    def use(self, guard: Any) -> None:
        """Note an engine; the store is needed when its policy keeps state (budgets, agent)."""
        self.needed = self.needed or bool(getattr(guard, "needs_state", guard.policy.budgets))

    async def open(self) -> None:
        """Open the store at start-up (an outage is logged; /readyz shows it)."""
        if not self.needed:
            return
        self.opened = True
        if self.store.kind != "memory":
            # Budgets lease room per worker instead of two store writes per call; the
            # spend of the last moments is written at close().
            enable_leases(self.store)
        try:
            await self.store.open()
        except StoreError as exc:
            # Budgets fail by their policy's on_error until the store answers.
            log.error("state store not available at start-up: %s", exc)

    async def open_if_needed(self) -> bool:
        """Open the store when a reloaded policy is the first to need it; True if it did."""
        if not self.needed or self.opened:
            return False
        await self.open()
        return True

    async def close(self) -> None:
        """Close the store at shutdown."""
        if self.needed:
            try:
                await close_leases(self.store)
            except StoreError as exc:
                log.error("budget leases not written at shutdown: %s", exc)
            await self.store.close()

    async def ready(self) -> dict[str, Any] | None:
        """``{"kind": ..., "ok": ...}`` for /readyz, ``None`` when no budget uses it."""
        if not self.needed:
            return None
        try:
            await self.store.ping()
        except StoreError:
            try:  # reconnect: a store that was down at start-up may be back
                await self.store.open()
                await self.store.ping()
            except StoreError:
                return {"kind": self.store.kind, "ok": False}
        return {"kind": self.store.kind, "ok": True}
