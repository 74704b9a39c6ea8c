"""Phone numbers: ``phonenumbers`` runs only where its answer can matter, once per
candidate and call — with exactly the findings of parsing every candidate."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from guard import Guard
from guard.checks import _pii_phones, _pii_recognizers
from guard.checks.pii import PiiCheck
from guard.engine import text_call

PII = "name: t\ninput:\n  - check: pii\n"


@pytest.fixture
def check(make_guard: Callable[..., Guard]) -> PiiCheck:
    found = make_guard(PII).input_checks[0]
    assert isinstance(found, PiiCheck)
    return found


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The snippets handed to ``phonenumbers``."""
    calls: list[str] = []
    original = _pii_recognizers.phone_matches

    def counting(snippet: str, region: str, leniency: object) -> tuple[tuple[int, int], ...]:
        calls.append(snippet)
        return original(snippet, region, leniency)

    monkeypatch.setattr(_pii_phones, "phone_matches", counting)
    yield calls


def _order_numbers(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(f"order {rng.randrange(10**9, 10**10)} shipped on time." for _ in range(count))


def test_bare_digits_without_a_context_word_are_not_parsed(
    check: PiiCheck, parsed: list[str]
) -> None:
    """Ten bare digits are reported as a phone number only after a context word: order
    numbers in a log cost no parsing (they used to cost ~3 parses each)."""
    assert check.scan(_order_numbers(50, 1)) == []
    assert parsed == []


def test_bare_digits_after_a_context_word_are_still_found(
    check: PiiCheck, parsed: list[str]
) -> None:
    findings = check.scan("order 4155550132 shipped. Call me at 4155550132 tomorrow.")
    assert [(f.kind, f.start) for f in findings] == [("PHONE_NUMBER", 37)]
    assert parsed


@pytest.mark.parametrize("seed", range(6))
def test_the_shortcuts_find_what_parsing_every_candidate_finds(
    check: PiiCheck, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Random digit runs with context words at random distances (across the 80
    characters ``has_context`` reads, cut words included) against the unshortcut scan."""
    rng = random.Random(seed)
    words = ["phone", "telephone", "cell", "mobile", "call", "order", "ref", "id", "the"]
    pieces = []
    for _ in range(60):
        pieces.append(" ".join(rng.choice(words) for _ in range(rng.randint(0, 4))))
        pieces.append("x" * rng.randint(0, 70))
        if rng.random() < 0.5:
            pieces.append(f"{rng.randrange(201, 990)}555{rng.randrange(10_000):04d}")
        else:
            pieces.append(str(rng.randrange(10**6, 10**12)).rjust(rng.randint(7, 12), "0"))
    text = " ".join(pieces)
    fast = [(f.kind, f.start, f.end) for f in check.scan(text)]
    monkeypatch.setattr(_pii_phones, "may_have_context", lambda *_: True)
    assert [(f.kind, f.start, f.end) for f in check.scan(text)] == fast
    assert any(kind == "PHONE_NUMBER" for kind, _, _ in fast)


def test_no_phone_number_is_kept_after_the_call() -> None:
    """Parse results are not cached across calls: a cache keyed by the candidate would
    keep callers' phone numbers in memory."""
    assert not hasattr(_pii_recognizers.phone_matches, "cache_info")


def test_a_number_repeated_in_one_text_is_parsed_once_per_call(
    check: PiiCheck, parsed: list[str]
) -> None:
    """Within one call a repeated candidate is parsed once (its answer is the call's);
    the next call parses it again: nothing is kept between calls."""
    text = "call +1 415-555-0132 now. Again: call +1 415-555-0132 now."
    first = [(f.kind, f.start, f.end) for f in check.scan(text)]
    assert [kind for kind, _, _ in first] == ["PHONE_NUMBER", "PHONE_NUMBER"]
    assert parsed == ["+1 415-555-0132"]
    assert [(f.kind, f.start, f.end) for f in check.scan(text)] == first
    assert parsed == ["+1 415-555-0132"] * 2


def test_a_stream_parses_each_candidate_once_not_once_per_delta(
    make_guard: Callable[..., Guard], parsed: list[str]
) -> None:
    """Each delta rescans the stream's window; the window's answers (kept with the
    stream, gone with it) spare re-parsing the numbers of the last delta's window."""
    guard = make_guard("name: t\noutput:\n  - check: pii\n")
    text = "call +1 415-555-0132 now, or later today " * 3
    for _ in range(2):  # a second stream parses again: nothing kept between streams
        session = guard.stream(text_call("q"))
        released = [session.feed("t", text[i : i + 3]) for i in range(0, len(text), 3)]
        released.append(session.flush("t"))
        assert "".join(released) == text.replace("+1 415-555-0132", "<PHONE_NUMBER>")
    assert parsed.count("+1 415-555-0132") == 2
