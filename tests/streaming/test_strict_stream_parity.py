"""The ``strict`` pack streamed in random splits finds and redacts exactly what it finds
and redacts in the complete reply.

The stream path of the pii check skips its detector on deltas where nothing can end
(clean prose, capitalised words that begin no name) and the session keeps only a window
of the reply: both are shortcuts that must never change an answer. The texts mix
sentence starts, names, places, titles, context phrases, pattern entities, secrets and
near misses; the splits run from one character to whole sentences.
"""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry

from guard import Action, Guard
from guard.engine import text_call
from guard.types import Finding

ATOMS = (
    "The", "This", "In", "May", "Will", "Grant", "the", "report", "was", "sent", "to",
    "and", "of", "de", "van", "Dear Priya Raman,", "Dr. Okafor", "José García",
    "in Chicago", "Mr. Brown", "Jean-Luc Picard", "12 Oak Street", "from New York",
    "Maria de la Cruz", "Ann", "my name is John Smith", "signed Ann Lee",
    "maria.lopez@example.org", "4111 1111 1111 1111", "+1 415-555-0132",
    "DE89 3704 0044 0532 0130 00", "536-22-1234", "192.168.10.12",
    "https://intranet.example.com/people/42", "NHS 943 476 5919", "v1.2.3", "2024-05-01",
    "sk-abcdefghij0123456789xyzABC", "AKIAABCDEFGHIJKLMNOP", "e.g.", "Note:", "U.S.",
    "McDonald's", "O'Brien", "API", "NASA", "Paris", "Reading", ".", ",", ";", ":", "!",
    "?", "(", ")", "\n", "\n\n", "-", "42", "3.5",
)  # fmt: skip
SEPARATORS = (" ", " ", " ", " ", "  ", "\n", ". ", ", ")


def _text(rng: random.Random, atoms: int) -> str:
    return "".join(rng.choice(ATOMS) + rng.choice(SEPARATORS) for _ in range(atoms))


def _spans(findings: list[Finding]) -> list[tuple[str, str, int, int]]:
    return sorted((f.check, f.kind, f.start, f.end) for f in findings)


@pytest.fixture(scope="module")
def strict() -> Guard:
    return Guard("strict", registry=CollectorRegistry())


@pytest.mark.parametrize("seed", range(40))
def test_a_strict_stream_redacts_and_finds_exactly_as_the_complete_reply(
    strict: Guard, seed: int
) -> None:
    rng = random.Random(seed)
    text = _text(rng, rng.randrange(20, 120))
    complete = strict.check_output(text)
    expected = complete.text if complete.text is not None else text
    sizes = (1, 2, 3, 5, 8, 8, 8, 13, 21, 40) if seed % 2 else (rng.randrange(1, 60),)
    session = strict.stream(text_call("q"))
    out, fed = [], 0
    while fed < len(text):
        piece = text[fed : fed + rng.choice(sizes)]
        fed += len(piece)
        out.append(session.feed("t", piece))
    out.append(session.flush("t"))
    decision = session.close()
    assert (decision.action is Action.BLOCK) == (complete.action is Action.BLOCK)
    if decision.action is not Action.BLOCK:
        assert "".join(out) == expected
    assert _spans(decision.findings) == _spans(complete.findings)
