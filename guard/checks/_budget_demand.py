"""What each budget key asked for lately: the size of its process's next lease.

A killed process's lease is charged at all the room it holds when its hold expires, its
calls in flight and the room no call carries alike (:mod:`guard.checks._budget_leases`).
So a lease holds about the room its key is expected to ask for until the next flush:
what the key asked for in the last interval of :data:`DEMAND_SECONDS`, less what it
asked for in this one so far. A key asking for one call's room per interval gets
nothing beyond its call (it reserves exactly); a burst (more than twice the last
interval) expects as much again, so its leases grow with it.
"""

from __future__ import annotations

#: One demand interval: a flush of the leases (``FLUSH_SECONDS``), which also starts one.
DEMAND_SECONDS = 0.1
#: At most this many keys' demand is remembered per interval (past it: start over).
KEYS_REMEMBERED = 4096


class Demand:
    """Room asked for per key in the current interval and in the one before."""

    def __init__(self, now: float) -> None:
        #: Room asked for per key in the current interval.
        self.asked: dict[str, int] = {}
        self._asked_before: dict[str, int] = {}
        self._started = now

    def ask(self, key: str, amount: int) -> None:
        """``key`` asked for ``amount`` (a call's reservation, carved or not)."""
        asked = self.asked
        if len(asked) >= KEYS_REMEMBERED and key not in asked:
            asked.clear()  # many keys with one call each: start over
        asked[key] = asked.get(key, 0) + amount

    def expected(self, key: str, amount: int) -> int:
        """The room ``key`` is expected to ask for until the interval ends, the call of
        ``amount`` that just asked included (``amount`` itself for a new or quiet key)."""
        asked = self.asked.get(key, 0)
        before = self._asked_before.get(key, 0)
        if asked > 2 * before:
            return asked  # a burst: as much again
        return max(before - asked, 0) + amount

    def roll(self, now: float, *, flushing: bool = False) -> None:
        """Start a new interval at each flush (its timer may fire a hair early), or once
        the current one is over when no flush runs; what was asked in an interval that
        ended longer ago than one interval is forgotten."""
        elapsed = now - self._started
        if flushing or elapsed >= DEMAND_SECONDS:
            self._asked_before = self.asked if elapsed < 2 * DEMAND_SECONDS else {}
            self.asked = {}
            self._started = now
