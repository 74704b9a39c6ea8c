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
    as_passages,
    assess,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "Assessment",
    "Citation",
    "Claim",
    "PassageLike",
    "as_passages",
    "assess",
]
