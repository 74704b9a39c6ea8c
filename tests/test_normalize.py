"""Normalisation folds evasions and maps spans back to the original text."""

from __future__ import annotations

import random

import pytest

from guard import normalize as normalize_module
from guard.normalize import FoldedText, _fold_char, normalize


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bo\u034fmb", "bomb"),  # combining grapheme joiner (default-ignorable, Mn)
        ("bo\ufe0fmb", "bomb"),  # variation selector
        ("bo\U000e0101mb", "bomb"),  # variation selector supplement
        ("a\u3164b", "a b"),  # Hangul filler: blank, reads as a space
        ("a\u115fb\u1160c\uffa0d", "a b c d"),
        ("a\u2800b", "a b"),  # braille blank
        ("bo\u0301mb", "bomb"),  # combining acute
        ("b\u0336o\u0336m\u0336b\u0336", "bomb"),  # strike-through overlay
        ("\u0130gnore", "ignore"),  # İ: i without the combining dot
        ("\u1d0f\u0299\u026a", "obi"),  # small capitals
        ("\u0585\u0251\u044c", "oab"),  # Armenian oh, Latin alpha, Cyrillic soft sign
        ("caf\u00e9", "cafe"),
        ("cafe\u0301", "cafe"),
        ("\u0432\u043a\u043c", "bkm"),  # Cyrillic ve, ka, em
        ("\u03b2\u03b5\u03ba\u03c7", "bekx"),  # Greek beta, epsilon, kappa, chi
        ("\u0271", "m"),  # m with hook: UTS #39 spells m as "rn"
        ("sk\u2010abc", "sk-abc"),  # hyphen look-alike
        ("\ud55c\uad6d\uc5b4", "\ud55c\uad6d\uc5b4"),  # Hangul syllables stay whole
        ("\U0001d7cf", "1"),  # mathematical bold one: NFKC's 1, not the skeleton's l
    ],
)
def test_unicode_evasions_fold(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_ascii_is_never_remapped_by_the_confusables_table() -> None:
    # UTS #39 maps "I" and "1" to "l" and "m" to "rn": ASCII is only lower-cased.
    text = "".join(map(chr, range(128)))
    assert normalize(text).text == text.lower()
    assert normalize("m\u00e9 I1").text == "me i1"


def test_fold_table_records_its_sources() -> None:
    from guard.normalize import _TABLE_FILE

    header = _TABLE_FILE.read_text(encoding="utf-8").splitlines()[:3]
    assert "confusables" in header[1] and "Version: 13.0.0" in header[1]
    assert "Unicode licence" in header[1]
    assert "Default_Ignorable_Code_Point" in header[2]


def test_marks_after_a_span_map_back_with_it() -> None:
    text = "se\u0301cret\u0301 x"
    folded = normalize(text)
    assert folded.text == "secret x"
    assert text[slice(*folded.span(0, 6))] == "se\u0301cret\u0301"


def test_lone_surrogates_fold_to_a_replacement_character() -> None:
    # RE2 matches UTF-8: a lone surrogate in folded text would make every regex fail.
    folded = normalize("a\ud800b")
    assert folded.text == "a\ufffdb"
    assert folded.span(1, 2) == (1, 2)


def _normalize_per_character(text: str) -> tuple[str, tuple[int, ...] | None]:
    """The definition: each character folded on its own, positions recorded one by one."""
    parts: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        folded = char.lower() if char.isascii() else _fold_char(char)
        parts.append(folded)
        index.extend([position] * len(folded))
    identity = len(index) == len(text) and all(i == p for p, i in enumerate(index))
    return "".join(parts), None if identity else tuple(index)


#: Latin, Cyrillic (with letters the look-alike table grows: "ы"), Devanagari marks, CJK,
#: full-width, mathematical letters, tag characters, zero-width, a lone surrogate.
_ALPHABET = (
    "aZ ,.é\u0301ыйЁ\u0928\u0940\u093f今天ｈＡ𝐀𝐳\U000e0041\u200b\u00ad\ufb01\u0130\u3164\ud800"
)


@pytest.mark.parametrize("seed", range(20))
def test_translate_fold_equals_folding_each_character(seed: int) -> None:
    # normalize folds with str.translate and maps back only characters that do not fold
    # to exactly one: it must equal the per-character definition, index included.
    rng = random.Random(seed)
    for _ in range(200):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 30)))
        folded = normalize(text)
        assert (folded.text, folded.index) == _normalize_per_character(text)


def test_a_full_fold_map_folds_new_characters_without_keeping_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(normalize_module, "_FOLD_MAP_SIZE", 0)
    unseen = "\u2463"  # CIRCLED DIGIT FOUR: no other test folds it
    assert unseen not in normalize_module._KNOWN
    text = f"\u0928\u0940 {unseen} ы \u4e00"
    folded = normalize(text)
    assert (folded.text, folded.index) == _normalize_per_character(text)
    assert unseen not in normalize_module._KNOWN
