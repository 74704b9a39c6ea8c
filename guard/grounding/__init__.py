"""Grounding: is every claim of an answer supported by the passages it was given?

``assess(answer, passages)`` is pure and offline — no model, no I/O: claims are the
answer's asserting sentences (:mod:`.claims`), each scored by lexical evidence and hard
consistency signals (:mod:`.scoring`), citation markers resolved and checked
(:mod:`.citations`). The ``grounding`` check (:mod:`guard.checks.grounding`) runs it on
replies.
"""

from guard.grounding.assess import (
    DEFAULT_THRESHOLD,
    Assessment,
    Citation,
    Claim,
    PassageLike,
    answer_score,
    as_passages,
    assess,
)
from guard.grounding.judge import (
    Judge,
    Judgement,
    get_judge,
    register_judge,
    unregister_judge,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "Assessment",
    "Citation",
    "Claim",
    "Judge",
    "Judgement",
    "PassageLike",
    "answer_score",
    "as_passages",
    "assess",
    "get_judge",
    "register_judge",
    "unregister_judge",
]
