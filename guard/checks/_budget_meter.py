"""A budget's stream meter: counts a streamed reply's output as it passes, and cuts the
stream once it has used up the call's reservation (for upstreams that ignore
``max_tokens``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.checks._budget_config import CallHold
from guard.checks._tokens import text_token_bound

if TYPE_CHECKING:
    from guard.checks.budget import BudgetCheck

#: A stream is cut when its UTF-8 bytes pass this many per reserved output token (text
#: runs 3-5 bytes per token; the cut is for upstreams that ignore max_tokens).
CUT_BYTES_PER_TOKEN = 6


class BudgetMeter:
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
            self.check.metrics.count("cutoffs", budget)
        return "the reply reached the budget's reservation (max_tokens) and was cut"
