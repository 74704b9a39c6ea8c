"""guard.grounding.figures: the figure regex reads what the one with an alternation of
every unit spelling read, in ASCII and in other text."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from guard.grounding import assess
from guard.grounding.figures import (
    _ASCII_NUMBER,
    NUMBER,
    Figure,
    FigurePool,
    _figure,
    figures,
)
from guard.grounding.passage_text import PassageText
from guard.grounding.plain_figures import (
    DIGIT_LETTER,
    NOT_PLAIN,
    integer_hints,
    plain_figures,
    plain_integers,
)
from guard.grounding.text import words
from guard.grounding.units import NUMBER_WORDS, UNIT_SPELLINGS

_UNIT_ALTERNATION = "|".join(
    re.escape(spelling).replace(r"\ ", r"\s") for spelling in sorted(UNIT_SPELLINGS, key=len)[::-1]
)
#: The figure regex before units were read as any word and then looked up.
_OLD_NUMBER = re.compile(
    r"(\d(?<![\w.]\d)\d{0,2}(?:[,\u202f\u00a0 ]\d{3})+|\d(?<![\w.]\d)\d*)(?:\.(\d+))?"
    r"(?:(\s[mb])\b|\s?(thousand|million|billion|trillion|mn|bn|tn|mio|k|m|b)\b)?"
    rf"(?:\s?({_UNIT_ALTERNATION})(?!\w))?",
    re.IGNORECASE,
)
_PIECES = [
    *"12 3.5,%mMkKbB_x-\n\t\u00a0é٣",
    "per cent", "per centimetre", "Percent", "km", "kms", "KM", "miles", "metres2",
    "million", "bn", " m", " b", "000", "kilograms", "lbs", "apples",
]  # fmt: skip


def _old_figures(text: str) -> list[Figure]:
    found: list[Figure] = []
    for whole, decimals, spaced, scale, unit in _OLD_NUMBER.findall(text):
        value, tolerance = _figure(whole, decimals, scale, bool(spaced))
        if spaced[1:].lower() == "m" and not unit:
            unit = "metre"
        written = UNIT_SPELLINGS[" ".join(unit.lower().split())] if unit else ""
        found.append((value, tolerance, written))
    return found


@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
@settings(max_examples=1500, deadline=None)
def test_figures_are_those_the_unit_alternation_found(text: str) -> None:
    assert figures(text, ()) == _old_figures(text)


def test_a_word_after_a_figure_is_a_unit_only_when_it_spells_one() -> None:
    assert figures("5 km and 5 kms and 5,000 m long and 8 per cent", ()) == [
        (5.0, 0.5, "km"),
        (5.0, 0.5, ""),
        (5000.0, 0.5, "m"),
        (8.0, 0.5, "percent"),
    ]


#: The figure regex before its case flag was scoped to the words after the digits and
#: the scale words were guarded by a look-ahead (and before ASCII text got ASCII classes).
_UNSCOPED_NUMBER = re.compile(
    r"(\d(?<![\w.]\d)\d{0,2}(?:[,\u202f\u00a0 ]\d{3})+|\d(?<![\w.]\d)\d*)(?:\.(\d+))?"
    r"(?:(\s[mb])\b|\s?(thousand|million|billion|trillion|mn|bn|tn|mio|k|m|b)\b)?"
    r"(?:\s?(per\scent|[^\W\d_]+|%)(?!\w))?",
    re.IGNORECASE,
)
_CASED_PIECES = [
    *"12 3.5,%mMkKbBtT_x-\n\t\r\x0b\x0c\x1c\x1f\u00a0\u2028é٣\u212aſ",
    "thousand", "THOUSAND", "Million", "mn", "BN", "tn", "mio", " M", " b", "000",
    "per cent", "per\x1ccent", "km", "Kelvin", "trillion", "bnx", "k9",
]  # fmt: skip


@given(st.lists(st.sampled_from(_CASED_PIECES), max_size=30).map("".join))
@settings(max_examples=2000, deadline=None)
def test_scoped_case_and_ascii_classes_find_the_same_figures(text: str) -> None:
    expected = _UNSCOPED_NUMBER.findall(text)
    assert NUMBER.findall(text) == expected
    ascii_text = text.encode("ascii", "ignore").decode()
    assert _ASCII_NUMBER.findall(ascii_text) == _UNSCOPED_NUMBER.findall(ascii_text)


_PASSAGE_PIECES = [
    *"0123456789 .,%_-'\n",
    "450", "449", "0,450", "0 449", "449.5", "450.4", "1,450", "10000", "0.45", "45", "0.5", "4500",
    " thousand", " Million", "k", "K ", "bn", " m", " b", "mn ", "5k", "3BN", "4th",
    " km", " miles", " per cent", "Seven ", "twenty ", "dozen ", "hundred ", "apples ",
]  # fmt: skip


@given(
    st.lists(st.sampled_from(_PASSAGE_PIECES), max_size=25).map("".join),
    st.one_of(
        st.integers(min_value=0, max_value=999),
        st.sampled_from([0, 1, 4, 5, 7, 12, 44, 45, 100, 449, 450, 451, 480, 500, 999]),
    ),
)
@settings(max_examples=3000, deadline=None)
@example("0.45 thousand", 450)
@example("0.5k", 480)
@example("0 449.7", 450)
@example("4th", 4)
@example("0,4500", 450)
@example("0 4491", 450)
def test_a_passage_ruled_out_for_an_integer_holds_no_figure_matching_it(
    text: str, value: int
) -> None:
    # A claim's plain integer is looked for elsewhere only in passages whose words
    # allow it: a passage ruled out must really hold no matching figure.
    if not PassageText(text).may_hold_integer(value):
        assert not FigurePool(figures(text)).matches(float(value), 0.5, "")


def test_invented_integers_rule_out_passages_without_reading_them() -> None:
    hints = integer_hints("Revenue rose 12 percent to 450 units in 2023.", words("x"))
    assert hints is not None  # (words of another text: only what the words say counts)
    assert integer_hints("It cost 5k.", words("it cost 5k")) is None
    assert integer_hints("Six million.", words("six million")) is None
    assert integer_hints("Prix 5 €", words("prix 5 €")) is None
    text = "Revenue rose 12 percent to 450 units in 2023, seven times."
    assert integer_hints(text, words(text)) == frozenset({12, 450, 2023, 202, 7})


_PLAIN_PIECES = [
    *"0123456789 .,%_-'\n\t\x1c\u00a0",
    "450", "12345", "10000", "0450", "a", "Zed ", " containers ", " km", " M", " k",
    " thousand", " per cent", "seven ", "dozen ", "5th", "x9",
]  # fmt: skip


@given(st.lists(st.sampled_from(_PLAIN_PIECES), max_size=30).map("".join))
@settings(max_examples=3000, deadline=None)
@example("rose 450 containers.")
@example("1 m")
@example("Sold 12345 and 10000 units, seven times.")
def test_plain_figures_are_the_figures_the_regex_reads(text: str) -> None:
    # A passage's figures are read by byte translation when each is a bare run of
    # digits: exactly the figures the regex reads, whenever that path answers.
    vocabulary = frozenset(words(text))
    plain = plain_figures(text, vocabulary)
    if plain is not None:
        assert plain == figures(text, vocabulary)


@given(
    st.lists(st.sampled_from(_PLAIN_PIECES), max_size=30).map("".join),
    st.one_of(
        st.integers(min_value=0, max_value=999),
        st.sampled_from([0, 5, 7, 12, 45, 100, 450, 999]),
    ),
)
@settings(max_examples=800, deadline=None)
@example("Sold 12345 and 10000 units, seven times.", 7)
@example("00005 units", 5)
@example("10000 units", 999)
def test_plain_integers_match_a_small_integer_as_the_figure_pool_does(
    text: str, value: int
) -> None:
    # A claim's plain small integer is decided against a plain passage by one set
    # lookup instead of the passage's sorted figures: the same answer.
    vocabulary = frozenset(words(text))
    plain = plain_integers(text, vocabulary)
    if plain is not None:
        pool = FigurePool(figures(text, vocabulary))
        assert (value in plain) == pool.matches(float(value), 0.5, "")
        assert PassageText(text).holds_figure(float(value), 0.5, "") == (value in plain)


@given(
    st.lists(st.sampled_from(_PASSAGE_PIECES), max_size=25).map("".join),
    st.one_of(
        st.integers(min_value=0, max_value=999),
        st.sampled_from([0, 1, 4, 5, 7, 12, 44, 45, 100, 449, 450, 451, 480, 500, 999]),
    ),
)
@settings(max_examples=800, deadline=None)
@example("0.45 thousand", 450)
@example("0.5k", 480)
@example("0 449.7", 450)
@example("4th", 4)
@example("0,4500", 450)
@example("eleven 10.6", 11)
def test_a_passage_ruled_out_by_substrings_holds_no_figure_matching_it(
    text: str, value: int
) -> None:
    # A claim's integer missing from its best passage is looked for in every passage:
    # most are ruled out by two substring searches, which must never rule out a match.
    if PassageText(text).rules_out_integer(value):
        assert not FigurePool(figures(text)).matches(float(value), 0.5, "")
        assert not PassageText(text).may_hold_integer(value)


@given(st.binary(max_size=12).map(lambda data: bytes(b"0a., #"[byte % 6] for byte in data)))
@settings(max_examples=500, deadline=None)
def test_shape_regexes_find_what_the_substring_searches_found(shapes: bytes) -> None:
    five = (b"0a", b"a0", b".0", b",0", b"0 0")
    assert (NOT_PLAIN.search(shapes) is not None) == any(pair in shapes for pair in five)
    assert (DIGIT_LETTER.search(shapes) is not None) == (b"0a" in shapes)


def test_a_claims_number_words_are_read_in_its_order_whatever_the_hash_seed() -> None:
    # Their order was a set's, which follows the process's string hashes: a claim with
    # one number word elsewhere and one nowhere listed its two reasons either way round.
    for text in ("five then three and nine", "nine then three and five"):
        expected = [float(NUMBER_WORDS[w]) for w in text.split() if w in NUMBER_WORDS]
        assert [value for value, _, _ in figures(text, words(text))] == expected
    claim = "It took five years to make the film and three years to write it."
    found = assess(claim, ["It took years to make the film and years to write it.", "Five dogs."])
    assert found.claims[0].reasons == ("number_elsewhere", "number_mismatch")
