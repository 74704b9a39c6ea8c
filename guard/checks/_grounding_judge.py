"""The grounding check's judge: unsure claims scored by a registered model, its use
charged to the call's budgets when it calls a model and the policy has budgets.

The rule when the budgets cannot afford a judged claim (documented in the README): the
judge is skipped for that claim and its lexical score stands — the reply was already
paid for, and refusing it for the guard's own cost would bill the client twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Sequence

from guard.checks._tokens import text_token_bound
from guard.checks.base import Spender
from guard.grounding import Claim
from guard.grounding.judge import (
    JUDGE_FRAMING_TOKENS,
    JUDGE_MAX_OUTPUT_TOKENS,
    Judge,
    Outcome,
    judged_score,
)
from guard.types import Passage


def judge_claims(
    judge: Judge, claims: Sequence[Claim], passages: list[Passage], spender: Spender | None
) -> list[float] | Awaitable[list[float]]:
    """The judge's score of each claim: plainly when the judge answers plainly, else an
    awaitable (an async judge, or a judge that spends from budgets)."""
    model = getattr(judge, "model", None)
    if spender is not None and isinstance(model, str):
        return _on_budget(judge, claims, passages, spender, model)
    outcomes = [judge.score(claim.text, passages) for claim in claims]
    if not any(inspect.isawaitable(o) for o in outcomes):
        return [judged_score(o)[0] for o in outcomes]  # type: ignore[arg-type]

    async def wait() -> list[float]:
        settled = [await o if inspect.isawaitable(o) else o for o in outcomes]
        return [judged_score(o)[0] for o in settled]

    return wait()


async def _on_budget(
    judge: Judge, claims: Sequence[Claim], passages: list[Passage], spender: Spender, model: str
) -> list[float]:
    """Judge each claim the budgets can afford, one at a time: reserved (the passages'
    and claim's bytes in, ``max_output_tokens`` out), then settled with the usage the
    judge reports; a claim they cannot afford keeps its lexical score."""
    most_out = int(getattr(judge, "max_output_tokens", JUDGE_MAX_OUTPUT_TOKENS))
    passage_tokens = sum(text_token_bound(p.text) for p in passages) + JUDGE_FRAMING_TOKENS
    scores: list[float] = []
    for claim in claims:
        hold = await spender.reserve(model, passage_tokens + text_token_bound(claim.text), most_out)
        if hold is None:
            scores.append(claim.score)
            continue
        try:
            outcome = judge.score(claim.text, passages)
            settled: Outcome = await outcome if inspect.isawaitable(outcome) else outcome
        except BaseException:
            await spender.release(hold)
            raise
        score, usage = judged_score(settled)
        await spender.settle(hold, usage)
        scores.append(score)
    return scores
