"""Normalisation folds evasions and maps spans back to the original text."""

from __future__ import annotations

import pytest

from guard.normalize import normalize


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
