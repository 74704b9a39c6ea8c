"""The calls ``Guard.before()`` let through, waiting for their ``Guard.after()``.

``before(call)`` and ``after(call, reply)`` are two halves of one call: what the input
stage started (a budget's reservation, an agent's step) is finished by ``after`` with
the reply's usage. Between the two, the call's lifecycle waits here, found again by the
call object itself (the one ``before`` edited in place).

A program that calls ``before`` and never ``after`` must not grow the guard without
bound: at most :data:`MAX_AWAITING_AFTER` calls wait, none longer than
:data:`AWAITING_SECONDS` (a budget reservation's hold). A call forgotten that way keeps
what the store holds for it until the hold expires, and is then charged at its
reservation (the call may have reached the provider), like a crashed caller's.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guard.lifecycle import GuardedCall
    from guard.types import Call

#: Most calls waiting for their ``after()`` at once, per guard.
MAX_AWAITING_AFTER = 10_000
#: How long a call waits for its ``after()``: as long as a budget holds its reservation
#: (:data:`guard.checks.budget.HOLD_SECONDS`); then the store has charged it anyway.
AWAITING_SECONDS = 900.0


class AwaitingAfter:
    """Lifecycles by call object (identity, not equality), oldest first; thread-safe
    (a guard serves many threads)."""

    def __init__(self) -> None:
        self._calls: dict[int, tuple[float, GuardedCall]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._calls)

    def put(self, call: Call, lifecycle: GuardedCall) -> None:
        """Keep ``lifecycle`` until ``after(call)``; forget the oldest past the bounds.
        (The lifecycle holds ``call``, so its id is not reused while it waits.)"""
        now = time.monotonic()
        with self._lock:
            calls = self._calls
            calls.pop(id(call), None)  # before() twice on one call: the newest counts
            calls[id(call)] = (now, lifecycle)
            while len(calls) > MAX_AWAITING_AFTER:
                del calls[next(iter(calls))]
            # Oldest first: stop at the first young one (no copy of the table per call).
            while calls:
                oldest = next(iter(calls))
                if now - calls[oldest][0] < AWAITING_SECONDS:
                    break
                del calls[oldest]

    def pop(self, call: Call) -> GuardedCall | None:
        """The lifecycle ``before(call)`` left waiting, once; ``None`` if there is none
        (``after`` without ``before``, or forgotten)."""
        with self._lock:
            entry = self._calls.pop(id(call), None)
        if entry is None or entry[1].call is not call:
            return None
        return entry[1]
