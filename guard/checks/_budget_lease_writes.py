"""A lease's bookkeeping and its one store write (see :mod:`guard.checks._budget_leases`).

A failed write is sent again by the next flush, yet it may have been applied (a reply
lost after the store ran it): so writes carry the lease's running total
(``spent_total``), and the store adds only what it has not recorded for the lease —
never the same spend twice, and a write that truly failed is carried by the next.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from guard.stores.base import Reservation


@dataclass(eq=False, slots=True)
class Lease:
    """Room one process holds in the store for many calls on one counter key."""

    reservation: Reservation
    #: What the store holds for the lease now.
    held: int
    started: float
    #: Carved for calls still running; spent by finished calls, not yet written.
    outstanding: int = 0
    spent: int = 0
    #: Spend the store confirmed it added for the lease (writes send the running total).
    written: int = 0
    lending: bool = True
    carved_since_flush: bool = True
    #: One write at a time: two would both add the same spend.
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def free(self) -> int:
        """Room in the lease that no running call carries and no spend has used."""
        return self.held - self.outstanding - self.spent


async def write_lease(store: Any, lease: Lease) -> int | None:
    """Add the lease's unwritten spend to the store and shrink its hold to what it still
    needs, in one ``settle``; return the counter's value (``None``: nothing to write).
    The caller holds ``lease.writing``."""
    spent = lease.spent
    # Lending: keep all but the spend (calls may carve meanwhile); otherwise only
    # what running calls carry.
    keep = max(lease.held - spent, lease.outstanding) if lease.lending else lease.outstanding
    if spent == 0 and keep == lease.held:
        return None
    # The running total, not the increment: a write whose reply was lost after the
    # store applied it is sent again by the next flush, and the store adds only what
    # its record of the lease lacks (nothing, for such a replay).
    total = lease.written + spent
    value: int = await store.settle(lease.reservation, spent, keep, spent_total=total)
    lease.written = total
    lease.spent -= spent
    lease.held = keep
    return value
