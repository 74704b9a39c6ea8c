"""Differential test: every streaming fast path of the rules check against a rescan.

The reference is ``RulesCheck.scan`` on the whole text (what ``Guard.after`` does for a
complete reply). The subject is a :class:`~guard.streaming.StreamSession` fed random
chunkings, which goes through ``RulesCheck.scan_window``: new text only, the required
prefix gate, the partial-keyword trie, folded hold-back. Texts mix keywords, prefixed
and unprefixed regex matches and near misses, padded with zero-width characters,
combining marks, controls and look-alikes. Released chunks joined must equal the
redacted full text, and the stream must block exactly when the complete text blocks.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard import Action, Guard
from guard.checks.rules import RulesCheck
from guard.engine import text_call
from guard.streaming import apply_edits
from guard.types import Segment

POLICY = """\
name: differential
output:
  - check: rules
    name: out
    rules:
      - {name: stop, action: block, keywords: [self destruct sequence, launch now]}
      - {name: word, action: redact, replacement: "[W]", keywords: [classified, top secret plan]}
      - {name: loose, action: redact, replacement: "[L]", whole_word: false, keywords: [zork]}
      - {name: note, action: warn, keywords: [ignore previous instructions]}
      - {name: key, action: redact, replacement: "[KEY]", regex: '\\bsk-[a-z0-9]{8,24}'}
      - {name: gh, action: redact, replacement: "[GH]", regex: 'gh[pousr]_[a-z0-9]{6}\\b'}
      - {name: id, action: redact, replacement: "[ID]", regex: '[0-9]{3}-[0-9]{2}-[0-9]{4}'}
      - {name: host, action: redact, replacement: "[HOST]", max_length: 40,
         regex: '\\b[a-z0-9-]{1,20}\\.corp\\.example\\b'}
      - {name: ref, action: redact, replacement: "[REF]", max_length: 30, regex: 'ref#[0-9]+'}
"""

ATOMS = [
    "self destruct sequence", "self  destruct\nsequence", "self destruct", "destruct sequence",
    "launch now", "launch nowhere", "classified", "declassified", "classifieds",
    "top secret plan", "top secret", "zork", "zorkmid", "ignore previous instructions",
    "ignore previous", "sk-abc12345", "sk-abcdefghij0123456789xyz", "ask-abc12345", "sk-",
    "ghp_abc123", "ghp_abc1234", "gh", "123-45-6789", "123-45-678", "db1.corp.example",
    "x.corp.exampler", ".corp.example", "ref#123456", "ref#", "ref#12 34", "the", "a",
    "plan", "now", ".", ",", "\n",
]  # fmt: skip
#: Mostly invisible characters folding drops (so that padded matches still match, and
#: span far more original than folded characters); marks and NUL now and then.
PADDING = ["\u200b"] * 4 + ["\u00ad", "\u034f", "\ufe0f", "\u200d", "\u2060", "\u0301", "\x00"]
SPACES = [" ", "  ", "\t", "\u3000", "\u00a0", "\u2800", " " * 40]
LOOKALIKES = {"o": "\u043e", "a": "\u0430", "e": "\u0435", "s": "\u0455", "i": "\u0456"}


#: Format characters only: invisible, dropped by folding, never break a match.
INVISIBLE = ["\u200b", "\u00ad", "\u2060", "\u200d"]


def padded(atom: str, rng: random.Random, rate: float, padding: list[str] = PADDING) -> str:
    out = []
    for char in atom:
        if char in LOOKALIKES and rng.random() < rate / 2:
            char = LOOKALIKES[char]
        out.append(char.upper() if rng.random() < rate / 4 else char)
        if rng.random() < rate:
            out.append(rng.choice(padding) * rng.randint(1, 3))
    return "".join(out)


def build_text(rng: random.Random, atoms: int, rate: float) -> str:
    parts = []
    for _ in range(atoms):
        parts.append(padded(rng.choice(ATOMS), rng, rate))
        parts.append(rng.choice(SPACES) if rng.random() < 0.8 else "")
    return "".join(parts)


def chunkings(text: str, rng: random.Random) -> list[str]:
    out, position = [], 0
    while position < len(text):
        size = rng.choice([1, 2, 3, 5, 8, 13, 40])
        out.append(text[position : position + size])
        position += size
    return out


def rescan(guard: Guard, text: str) -> tuple[str, Action]:
    """The reference: RulesCheck.scan on the whole text, its redactions applied."""
    check = guard.output_checks[0]
    assert isinstance(check, RulesCheck)
    verdict = check.check_segments([Segment(text)])
    return apply_edits(text, list(verdict.edits)), verdict.action


def compare(guard: Guard, text: str, rng: random.Random) -> None:
    redacted, action = rescan(guard, text)
    session = guard.stream(text_call("q"))
    released = []
    for piece in chunkings(text, rng):
        released.append(session.feed("t", piece))
        if session.blocked is not None:
            break
    released.append(session.flush("t"))
    streamed = session.close()
    joined = "".join(released)
    assert (streamed.action is Action.BLOCK) == (action is Action.BLOCK), ascii(text)
    if action is Action.BLOCK:
        # Only text before the blocking match went out, redacted as in the whole text.
        assert redacted.startswith(joined), ascii(text)
    else:
        assert joined == redacted, ascii(text)
        assert streamed.action is action, ascii(text)


@pytest.fixture(scope="module")
def guard() -> Guard:
    from prometheus_client import CollectorRegistry

    from guard import Policy

    return Guard(Policy.from_yaml(POLICY), registry=CollectorRegistry())


@pytest.mark.parametrize("seed", range(120))
def test_stream_equals_rescan_on_random_texts(guard: Guard, seed: int) -> None:
    rng = random.Random(seed)
    text = build_text(rng, atoms=rng.randint(1, 12), rate=rng.choice([0.0, 0.1, 0.4, 1.0]))
    for _ in range(3):
        compare(guard, text, rng)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,  # deterministic: no example database on disk
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    atoms=st.lists(st.sampled_from(ATOMS), min_size=1, max_size=8),
    fillers=st.lists(st.sampled_from(SPACES + PADDING + [""]), min_size=8, max_size=8),
    seed=st.integers(0, 2**16),
    rate=st.sampled_from([0.0, 0.2, 1.0]),
)
def test_stream_equals_rescan_hypothesis(
    guard: Guard, atoms: list[str], fillers: list[str], seed: int, rate: float
) -> None:
    rng = random.Random(seed)
    text = "".join(
        padded(atom, rng, rate) + fillers[i % len(fillers)] for i, atom in enumerate(atoms)
    )
    compare(guard, text, rng)


def test_default_policy_stream_equals_rescan(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard()
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    for _ in range(60):
        key = "".join(rng.choice(alphabet) for _ in range(rng.randint(20, 150)))
        secrets = [
            "sk-" + key,
            "AKIAABCDEFGHIJKLMNOP",
            "ghp_" + (key * 3)[:36],
            "-----BEGIN PRIVATE KEY-----",
        ]
        # Heavy padding (R4): a match spans up to 4x its folded width.
        rate = rng.choice([0.0, 0.3, 1.0])
        secret = padded(rng.choice(secrets), rng, rate, INVISIBLE)
        parts = [secret if rng.random() < 0.5 else "word"]
        parts += [rng.choice(["", " ", "\u200b", " and "]) for _ in range(2)]
        text = "".join(parts * rng.randint(1, 3))
        compare(guard, text, rng)
