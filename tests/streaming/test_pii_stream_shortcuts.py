"""The shortcuts of the pii check's stream path answer exactly as the code they stand in
for: the token before a position (``rsplit`` for a walk character by character), a
context phrase anywhere in a text (one regex for a loop of ``in`` tests), and lower-case
prose settled without the general path."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from guard.checks._pii_holdback import holdback, prose_holdback
from guard.checks._pii_name_context import STRONG_CONTEXT
from guard.checks._pii_names import _STRONG_PHRASE
from guard.checks.base import StreamWindow
from guard.checks.pii import PiiCheck
from guard.policy import Policy

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


WORDS = ("the", "quick", "de", "d", "va", "la", "y", "Maria", "Rio", "x" * 70, "", "sk", "42")
POLICIES = (
    "name: t\noutput:\n  - check: pii\n",  # names and places: particles matter
    "name: t\noutput:\n  - check: pii\n    entities: [EMAIL_ADDRESS, URL]\n",
    "name: t\noutput:\n  - check: pii\n    entities: [CREDIT_CARD, US_SSN]\n",  # bounded
)


@pytest.mark.parametrize("policy", POLICIES)
def test_the_lower_case_prose_shortcut_answers_as_the_full_stream_path(policy: str) -> None:
    """``prose_holdback`` settles most deltas of prose; every window it settles gets the
    answer the general path (:meth:`PiiCheck._scan_pending`) gives."""
    guard = Guard(Policy.from_yaml(policy), registry=CollectorRegistry())
    check = guard.output_checks[0]
    assert isinstance(check, PiiCheck)
    rng = random.Random(policy)
    settled = 0
    for _ in range(3000):
        text = "".join(rng.choice(WORDS) + rng.choice((" ", " ", "  ", "", ". ")) for _ in range(6))
        text = text[: rng.randrange(1, len(text) + 1)] if text else "a"
        released = rng.randrange(0, len(text))
        window = StreamWindow(text, released)
        shortcut = prose_holdback(text, released, names=check._names)
        if shortcut is not None:
            settled += 1
            assert shortcut == holdback(text, ner=False, names=check._names)
        assert check.scan_window(window) == check._scan_pending(window)
    assert settled > 100  # the shortcut was exercised
