"""The C shortcuts of the pii check's stream path answer exactly as the Python loops they
replaced: the token before a position (``rsplit`` for a walk character by character) and
a context phrase anywhere in a text (one regex for a loop of ``in`` tests)."""

from __future__ import annotations

import random

import pytest

from guard.checks._pii_name_context import STRONG_CONTEXT
from guard.checks._pii_names import _STRONG_PHRASE

PIECES = ("a", "Bc", "de", "12", ".", ",", "'", "-", "é", "Ω", "\u200b", "\u00ad")
SPACES = (" ", "  ", "\t", "\n", "\r", "\x0b", "\x1c", "\u3000", "\u00a0", "\u2028", "\u0085")


def _walked_start(text: str, limit: int, position: int) -> int:
    """Where the token ending at ``position`` begins, walked character by character
    (the loop the pii hold-back used)."""
    start = position
    while start > limit and not text[start - 1].isspace():
        start -= 1
    return start


@pytest.mark.parametrize("seed", range(20))
def test_the_token_before_a_position_is_the_one_a_walk_finds(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES + SPACES) for _ in range(rng.randrange(1, 200)))
    for position in range(1, len(text) + 1):
        if text[position - 1].isspace():
            continue  # the walks only ask at the end of a token
        for limit in {0, max(0, position - 7), position - 1}:
            token = text[limit:position].rsplit(None, 1)[-1]
            assert position - len(token) == _walked_start(text, limit, position)


@pytest.mark.parametrize("seed", range(20))
def test_a_context_phrase_is_found_wherever_an_in_test_finds_one(seed: int) -> None:
    rng = random.Random(seed)
    words = [*STRONG_CONTEXT, *(p[:-1] for p in STRONG_CONTEXT), "name", "my", "is", "x"]
    for _ in range(200):
        text = "".join(rng.choice(words) + rng.choice(("", " ", "  ", ":")) for _ in range(4))
        expected = any(phrase in text for phrase in STRONG_CONTEXT)
        assert (_STRONG_PHRASE.search(text) is not None) == expected
