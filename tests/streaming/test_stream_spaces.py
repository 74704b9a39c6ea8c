"""Entities written with the spaces the pii check reads as spaces (no-break, narrow
no-break as French writes numbers, thin, ideographic...) are held whole in a stream.

The check matches on a folded view in which those characters are spaces, so
``4111\\u202f1111\\u202f1111\\u202f1111`` is a card and ``Ann\\u00a0Lee`` a name in the
complete reply; the hold-back walks read them as line breaks and released the first
groups before the last arrived.
"""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry

import guard.normalize as normalize_module
from guard import Guard
from guard.checks._pii_holdback_names import AS_SPACE, MAX_HOLD, SpaceMarks
from guard.checks.base import StreamWindow
from guard.normalize import normalize
from tests.streaming._leaks import stream

CASES = (
    "card 4111\u00a01111\u00a01111\u00a01111 ok",
    "carte 4111\u202f1111\u202f1111\u202f1111 ok",
    "card 4111\u20021111\u20021111\u20021111 ok",
    "call +1\u00a0415\u00a0555\u00a00132 now",
    "appelez le +33\u202f1\u202f23\u202f45\u202f67\u202f89 demain",
    "IBAN DE89\u20093704\u20090044\u20090532\u20090130\u200900 x",
    "Ann\u00a0Lee said",
    "Ann\u3000Lee x",
    "José García\u00a0U.S.?This",
    "Rio de Janeiro\u00a0Instold.",
    "ship to 12\u00a0Oak\u00a0Street today",
)


@pytest.fixture(scope="module")
def strict() -> Guard:
    return Guard("strict", registry=CollectorRegistry())


@pytest.mark.parametrize("sizes", [(1,), (2,), (3,), (5,), (2, 7, 1)], ids=str)
@pytest.mark.parametrize("text", CASES)
def test_an_entity_with_unicode_spaces_is_held_whole(
    strict: Guard, text: str, sizes: tuple[int, ...]
) -> None:
    streamed = stream(strict, text, sizes)
    assert streamed.complete_findings, "the complete reply redacts it"
    assert streamed.leaked(strict) == []
    assert not streamed.overflowed()
    assert streamed.released == streamed.complete_text


def test_the_characters_read_as_spaces_are_those_the_check_folds_to_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Folding every character would fill the fold cache (other tests read it): work on
    # copies that are dropped afterwards.
    monkeypatch.setattr(normalize_module, "_KNOWN", set(normalize_module._KNOWN))
    monkeypatch.setattr(normalize_module, "_FOLD_MAP", dict(normalize_module._FOLD_MAP))
    folded = {chr(c) for c in range(0x80, 0x10000) if normalize(f"a{chr(c)}b").text == "a b"}
    assert folded == set(AS_SPACE)


@pytest.mark.parametrize("seed", range(5))
def test_a_streams_space_marks_say_what_a_search_of_the_texts_end_says(seed: int) -> None:
    # A stream window grows by deltas and drops released text from its start; the marks
    # search the new characters only, and must answer as a search of the last
    # characters does, also as a space leaves the reach (MAX_HOLD + 1) or is dropped.
    rng = random.Random(seed)
    letters = "abcé東—“ " + AS_SPACE[:3] + AS_SPACE[-3:]
    window = StreamWindow()
    marks = SpaceMarks.of_stream(window)
    for _ in range(600):
        if rng.random() < 0.8:
            window.text += "".join(rng.choice(letters) for _ in range(rng.randint(1, 40)))
        else:
            window.forget(rng.randint(0, len(window.text)))  # released text dropped
        if rng.random() < 0.7:  # not asked on every delta
            expected = any(char in AS_SPACE for char in window.text[-MAX_HOLD - 1 :])
            assert marks.near_end(window.text) is expected, window.text[-MAX_HOLD - 1 :]
