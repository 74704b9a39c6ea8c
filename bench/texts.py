"""Deterministic benchmark texts of given sizes, with or without findings."""

from __future__ import annotations

import random

_WORDS = (
    "the model answers questions about invoices shipping orders refunds accounts "
    "customers weather travel schedules product manuals warranty support tickets "
    "please summarise this document and list the key points with dates and owners"
).split()


def prose(size: int, seed: int = 7) -> str:
    """Clean English-like text of exactly ``size`` characters."""
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)
    return text[:size]
