"""Judges: model-based scorers a user registers in Python, consulted for unsure claims.

guardwire ships none and downloads nothing. A judge is any object with a ``score``
method returning the support of one claim by the passages in [0, 1] — plainly, or as an
awaitable (an LLM judge behind an HTTP call)::

    class MyNli:
        def score(self, claim: str, passages: Sequence[Passage]) -> float:
            return cross_encoder.predict(...)

    guard.grounding.register_judge("nli", MyNli())

and the policy names it: ``judge: nli``. The lexical scorer decides the claims it is
sure about; only claims within ``judge_band`` of the threshold reach the judge.

A judge that calls a model (an LLM judge through an upstream) names it in a ``model``
attribute (a model of the price table) and may set ``max_output_tokens`` (default
:data:`JUDGE_MAX_OUTPUT_TOKENS`); it returns a :class:`Judgement` carrying the usage the
model reported. When the policy has budgets, each judged claim is first reserved on
the call's budgets (the claim and passages' bytes in, ``max_output_tokens`` out) and
then settled with that usage. A claim the budgets cannot afford is not sent to the
judge: its lexical score stands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from guard.grounding.assess import Assessment, answer_score
from guard.types import Passage, Usage

#: Output tokens held for one judged claim when the judge does not say.
JUDGE_MAX_OUTPUT_TOKENS = 64
#: Tokens of a chat request's framing around the claim and passages (roles, prompt).
JUDGE_FRAMING_TOKENS = 256


@dataclass(frozen=True, slots=True)
class Judgement:
    """A judge's score of one claim and the model use it cost (``None``: unknown)."""

    score: float
    usage: Usage | None = None


Outcome = float | Judgement


@runtime_checkable
class Judge(Protocol):
    """Scores one claim against the passages: support in [0, 1]."""

    def score(self, claim: str, passages: Sequence[Passage]) -> Outcome | Awaitable[Outcome]:
        """How well ``passages`` support ``claim`` (1 = entailed, 0 = unsupported)."""
        ...


def judged_score(outcome: Outcome) -> tuple[float, Usage | None]:
    """A judge's answer as (score, usage)."""
    if isinstance(outcome, Judgement):
        return float(outcome.score), outcome.usage
    return float(outcome), None


_JUDGES: dict[str, Judge] = {}


def register_judge(name: str, judge: Judge) -> None:
    """Make ``judge`` available to policies as ``judge: <name>``."""
    if name == "none":
        raise ValueError("'none' is reserved: it means no judge")
    if not isinstance(judge, Judge):
        raise TypeError("a judge needs a score(claim, passages) method")
    _JUDGES[name] = judge


def unregister_judge(name: str) -> None:
    """Remove a registered judge (tests, reloads)."""
    _JUDGES.pop(name, None)


def get_judge(name: str) -> Judge | None:
    """The judge registered as ``name``; ``None`` for ``none``."""
    if name == "none":
        return None
    judge = _JUDGES.get(name)
    if judge is None:
        known = ", ".join(sorted(_JUDGES)) or "none registered"
        raise ValueError(
            f"judge '{name}' is not registered ({known}); call"
            " guard.grounding.register_judge before loading the policy, or use judge: none"
        )
    return judge


def unsure(
    assessments: Sequence[Assessment], threshold: float, band: float
) -> list[tuple[int, int]]:
    """(assessment, claim) positions of the claims scoring within ``band`` of
    ``threshold``: the only ones a judge sees."""
    return [
        (a, c)
        for a, found in enumerate(assessments)
        for c, claim in enumerate(found.claims)
        if abs(claim.score - threshold) <= band
    ]


def rescore(
    assessments: Sequence[Assessment],
    positions: Sequence[tuple[int, int]],
    scores: Sequence[float],
) -> list[Assessment]:
    """The assessments with the judge's ``scores`` (clamped to [0, 1]) for the claims at
    ``positions``, answer scores recomputed."""
    claims = [list(found.claims) for found in assessments]
    for (a, c), score in zip(positions, scores, strict=True):
        claims[a][c] = replace(claims[a][c], score=min(max(float(score), 0.0), 1.0))
    return [
        Assessment(answer_score(claims[a]), tuple(claims[a]), found.citations)
        for a, found in enumerate(assessments)
    ]
