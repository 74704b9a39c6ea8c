"""The ``budgets:`` entries of a policy, a budget's refusal verdict, and what one call
holds while it runs (see :mod:`guard.checks.budget`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guard.checks._budget_ledger import Hold
from guard.types import Verdict


class BudgetConfig(BaseModel):
    """One entry of a policy's ``budgets:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    scope: Literal["request", "key", "tenant", "session", "model", "global"] = "global"
    window: Literal["none", "minute", "hour", "day", "month"] = "day"
    #: IANA time zone of the calendar window (default UTC).
    tz: str | None = None
    limit_usd: float | None = Field(default=None, gt=0)
    limit_tokens: int | None = Field(default=None, gt=0)
    limit_requests: int | None = Field(default=None, gt=0)
    on_unknown_model: Literal["refuse", "default_price"] = "refuse"

    @model_validator(mode="after")
    def _has_a_limit(self) -> BudgetConfig:
        if self.limit_usd is None and self.limit_tokens is None and self.limit_requests is None:
            raise ValueError(
                f"budget '{self.name}' needs limit_usd, limit_tokens or limit_requests"
            )
        if self.tz is not None:
            from zoneinfo import ZoneInfo

            try:
                ZoneInfo(self.tz)
            except Exception:
                raise ValueError(
                    f"budget '{self.name}': unknown time zone; use an IANA name such as "
                    "Europe/Berlin"
                ) from None
        return self


@dataclass(slots=True)
class BudgetVerdict(Verdict):
    """A budget's refusal: which budget, its scope and when it resets (for
    :class:`guard.errors.BudgetExceeded`)."""

    budget: str = ""
    scope: str = ""
    resets_at: float | None = None


@dataclass(slots=True)
class CallHold:
    """What one call holds (kept in ``ctx.private``; amounts only, never text)."""

    holds: list[Hold] = field(default_factory=list)
    model_label: str = "other"
    input_tokens: int = 0
    output_tokens: int = 0
    price_in: int = 0
    price_out: int = 0
    price_cached: int = 0
    price_cache_write: int = 0
    streamed_tokens: int = 0
    cut: bool = False
