"""Normalisation folds evasions and maps spans back to the original text."""

from __future__ import annotations

import random

import pytest

from guard.normalize import FoldedText, normalize


def test_ascii_is_lowercased_without_index() -> None:
    folded = normalize("Hello WORLD")
    assert folded.text == "hello world" and folded.index is None
    assert folded.span(0, 5) == (0, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ｈｅｌｌｏ", "hello"),
        ("he\u200bllo", "hello"),
        ("h\u0435llo", "hello"),  # Cyrillic e
        ("ＡＢＣ１２３", "abc123"),
        ("ﬁle", "file"),
    ],
)
def test_evasions_fold(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_spans_map_back_over_dropped_and_expanded_characters() -> None:
    text = "a \u200bﬁle b"
    folded = normalize(text)
    start = folded.text.index("file")
    original = folded.span(start, start + 4)
    assert text[original[0] : original[1]] == "ﬁle"


def test_dotless_i_folds_to_i() -> None:
    # A case-insensitive regex matches "ı" as "i" (guard.checks.rules relies on this).
    assert normalize("AKıA").text == "akia"


@pytest.mark.parametrize("seed", range(20))
def test_folded_text_grown_and_cut_equals_normalize(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["a", "B", " ", "ﬁ", "\u200b", "Ｋ", "é", "ı", "\u0435", "🎉", "\u00ad"]
    original = ""
    folded = FoldedText()
    for _ in range(30):
        piece = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        original += piece
        folded.append(piece)
        if rng.random() < 0.3:
            count = rng.randint(0, len(original))
            original = original[count:]
            folded.drop(count)
        expected = normalize(original)
        assert (folded.text, folded.original_length) == (expected.text, len(original))
        assert (folded.index is None) == (expected.index is None)
        for start in range(len(folded.text) + 1):
            for end in (start, min(start + 1, len(folded.text)), len(folded.text)):
                assert folded.span(start, end) == expected.span(start, end)
        for position in range(len(original) + 1):
            assert folded.position(position) == expected.position(position)
