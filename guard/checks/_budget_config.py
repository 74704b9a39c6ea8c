"""The ``budgets:`` entries of a policy, a budget's refusal verdict, and what one call
holds while it runs (see :mod:`guard.checks.budget`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guard.checks._budget_ledger import Counter, Hold
from guard.checks._prices import Price
from guard.types import Action, Finding, Verdict


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
    #: Input tokens reserved for each input the request's bytes cannot bound (a
    #: document by reference, each use of a provider-side tool, stored context; see
    #: :mod:`guard.checks._budget_unbounded`). Unset: such a call is refused by a
    #: budget with a USD or token ceiling.
    reference_tokens: int | None = Field(default=None, ge=1)

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
    #: Audio prices, set when the call sends audio / asks for it (else: ``None``).
    price_audio_in: int | None = None
    price_audio_out: int | None = None
    streamed_tokens: int = 0
    cut: bool = False

    @classmethod
    def priced(cls, label: str, price: Price) -> CallHold:
        """An empty hold at ``price``'s rates, labelled ``label`` in metrics."""
        return cls(
            model_label=label,
            price_in=price.input,
            price_out=price.output,
            price_cached=price.cached_input,
            price_cache_write=price.cache_write,
        )


def exceeded_verdict(check: str, short: Counter, now: float) -> BudgetVerdict:
    """The 429 of a call that ``short``'s budget cannot afford, saying when it resets."""
    resets = short.resets_at
    when = "never resets (window: none)"
    if resets is not None:
        when = f"resets in {round(resets - now)} s"
    reason = f"budget '{short.budget}' ({short.scope} scope) is used up; it {when}"
    finding = Finding(check, "budget_exceeded", action=Action.BLOCK, rule=short.budget)
    return BudgetVerdict(
        check, Action.BLOCK, (finding,), reason=reason, status=429,
        code="budget_exceeded", retry_after=None if resets is None else max(resets - now, 1.0),
        budget=short.budget, scope=short.scope, resets_at=resets,
    )  # fmt: skip


_WHAT = {
    "document": "a document the provider reads (by reference, or a PDF read as text and "
    "page images)",
    "tool": "a provider-side tool whose results join the input",
    "stored": "context the provider stores",
}


def unbounded_verdict(check: str, budget: str, paths: list[str], kinds: list[str]) -> Verdict:
    """The 400 of a call with inputs its bytes cannot bound, from a budget with a
    ceiling and no ``reference_tokens``: the field paths, never their values."""
    more = f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""
    reason = (
        f"budget '{budget}' cannot bound the input at {paths[0]}{more}: {_WHAT[kinds[0]]}, "
        "counted by the provider and not by the request's size; set reference_tokens on "
        "the budget to reserve that many input tokens for each such input (or each use "
        "of such a tool)"
    )
    finding = Finding(check, "unbounded_input", action=Action.BLOCK, rule=budget)
    return Verdict(check, Action.BLOCK, (finding,), reason=reason, status=400,
                   code="budget_unbounded_input")  # fmt: skip


def unknown_model_verdict(check: str, budget: str) -> Verdict:
    """The 400 of a call whose model has no price, from a budget that refuses those."""
    reason = (
        f"budget '{budget}' cannot price this request's model (not in the price table);"
        " add it to the prices file or set on_unknown_model: default_price"
    )
    finding = Finding(check, "unknown_model", action=Action.BLOCK, rule=budget)
    return Verdict(check, Action.BLOCK, (finding,), reason=reason, status=400,
                   code="budget_unknown_model")  # fmt: skip
