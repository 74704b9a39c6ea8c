"""How much of a streamed reply the pii check holds back: only what a pending entity
could still extend, and never more than the longest match the configured recognizers
can produce (``guard/checks/_pii_holdback.py``)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from guard import Guard
from guard.checks._pii_holdback import name_holdback
from guard.checks.pii import PiiCheck
from guard.engine import text_call, text_reply

DEFAULT = "name: t\noutput:\n  - check: pii\n    action: mask\n"
#: Entities whose every pattern has a bounded match (the longest: a card, 20 characters).
NUMBERS = (
    "name: t\noutput:\n  - check: pii\n    action: mask\n"
    "    entities: [CREDIT_CARD, US_SSN, UK_NHS]\n"
)
#: The same with IBANs (the longest: 43 characters).
NUMBERS_AND_IBANS = NUMBERS.replace("UK_NHS]", "UK_NHS, IBAN_CODE]")
SEPARATORS = " \n.-_/·()‐‑‒–—−"
PROSE = (
    "The committee's internationalisation-and-localisation subcommittee met on Tuesday; "
    "counterrevolutionaries notwithstanding, everyone agreed.\nNothing further to add "
    "— déjà vu, naïve café owners, 🎉 and a supercalifragilisticexpialidocious ending. "
)


def _pii(guard: Guard) -> PiiCheck:
    check = guard.output_checks[0]
    assert isinstance(check, PiiCheck)
    return check


def _held_after_each_chunk(guard: Guard, text: str, seed: int) -> list[tuple[str, int]]:
    """(text fed so far, characters not released yet) after each chunk."""
    rng = random.Random(seed)
    session = guard.stream(text_call("q"))
    fed = released = 0
    seen = []
    while fed < len(text):
        piece = text[fed : fed + rng.choice((1, 2, 3, 5, 8, 13))]
        fed += len(piece)
        released += len(session.feed("t", piece))
        seen.append((text[:fed], fed - released))
    session.flush("t")
    return seen


@pytest.mark.parametrize("seed", range(8))
def test_prose_is_held_only_while_a_word_could_begin_an_entity(
    make_guard: Callable[..., Guard], seed: int
) -> None:
    """With e-mail addresses and URLs configured, a word being written could begin one
    (``maria`` + ``@example.org``): it is held, and nothing more — never earlier words,
    and nothing once a space ends it; with PERSON and LOCATION (the default), the
    capitalised words at the end too, until a lower-case word ends them."""
    for text, held in _held_after_each_chunk(make_guard(DEFAULT), PROSE * 3, seed):
        pending = "" if text[-1].isspace() else text.split()[-1]
        assert held <= max(len(pending), name_holdback(text)), (text[-40:], held)
        assert name_holdback(text) <= len(" ".join(text.split(" ")[-2:]))


@pytest.mark.parametrize("seed", range(8))
def test_prose_is_held_no_longer_than_the_longest_entity_configured(
    make_guard: Callable[..., Guard], seed: int
) -> None:
    """Numbers only (the longest match: a card number, 20 characters): a long word being
    written is released beyond its last 20 characters."""
    guard = make_guard(NUMBERS)
    assert _pii(guard)._longest_match == 20
    longest_word = max(len(word) for word in PROSE.split())
    assert longest_word > 30
    held_most = 0
    for text, held in _held_after_each_chunk(guard, PROSE * 3, seed):
        pending = "" if text[-1].isspace() else text.split()[-1]
        assert held <= len(pending), (text[-40:], held)
        # A card is matched on the folded text, where dashes between digit groups go.
        counted = [c for c in text[len(text) - held :] if c not in SEPARATORS]
        assert len(counted) <= 20, (text[-40:], held)
        held_most = max(held_most, len(counted))
    assert held_most == 20


def test_the_longest_match_comes_from_each_configured_pattern(
    make_guard: Callable[..., Guard],
) -> None:
    def longest(body: str) -> int | None:
        return _pii(make_guard(f"name: t\noutput:\n  - check: pii\n{body}"))._longest_match

    assert longest("") is None  # e-mail, URL and phone numbers have no bound
    assert longest("    entities: [US_SSN]\n") == 11
    assert longest("    entities: [IBAN_CODE, US_SSN]\n") == 43
    assert longest("    entities: [EMAIL_ADDRESS, US_SSN]\n") is None
    assert longest("    entities: [PHONE_NUMBER]\n") is None
    custom = "    recognizers: [{entity: TICKET, regex: 'TK-\\d{5}', score: 0.9}]\n"
    assert longest(f"    entities: [TICKET]\n{custom}") == 8


def test_a_card_spread_by_invisible_characters_is_held_whole(
    make_guard: Callable[..., Guard],
) -> None:
    """The cap counts the characters the detector matches on: a card with zero-width
    characters and spaces between its digits spans 60+ characters, and is held until
    it is complete."""
    guard = make_guard(NUMBERS)
    card = "\u200b ".join("4111111111111111")
    text = f"pay with {card} today"
    full = guard.after(text_call("q"), reply := text_reply(text))
    assert [f.kind for f in full.findings] == ["CREDIT_CARD"]
    session = guard.stream(text_call("q"))
    released = [session.feed("t", char) for char in text]
    released.append(session.flush("t"))
    assert "".join(released) == reply.text
    assert reply.text.count("*") == 12  # masked but for the last four digits


#: Entities, near misses, evasions and multibyte text for the numbers-only policy.
ATOMS = (
    "4111", " 1111", "-1111", "4 1 1 1", "4\u200b1\u200b1\u200b1", "DE89 3704 0044 0532 0130 00",
    "536-22-1234", "5 3 6 - 2 2", "NHS ", "943 476 5919", " ", "  ", "\n", "\u00ad", "４",
    "é", "🎉", "x", "word", "supercalifragilistic", ",", "1", "22", "333",
)  # fmt: skip


@pytest.mark.parametrize("seed", range(60))
def test_numbers_only_streams_exactly_as_the_full_text_is_redacted(
    make_guard: Callable[..., Guard], seed: int
) -> None:
    """The capped hold-back changes no redaction: random chunk splits of entities, near
    misses, evasions and multibyte text give the full text's redaction and findings."""
    rng = random.Random(seed)
    guard = make_guard(NUMBERS_AND_IBANS)
    text = "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 60)))
    full = guard.after(text_call("q"), reply := text_reply(text))
    session = guard.stream(text_call("q"))
    released, position = [], 0
    while position < len(text):
        size = rng.choice((1, 1, 2, 3, 5, 8, 13))
        released.append(session.feed("t", text[position : position + size]))
        position += size
    released.append(session.flush("t"))
    assert "".join(released) == reply.text
    decision = session.close()
    assert sorted((f.kind, f.start, f.end) for f in decision.findings) == sorted(
        (f.kind, f.start, f.end) for f in full.findings
    )
