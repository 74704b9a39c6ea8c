"""The answer side read faster, with the same results: sentence splitting (the word
before a dot read by one regex match on ASCII lines, the white space after an end by the
end's look-ahead), the refusal/hedge/filler tests in one regex, and the name rule (a
word the call's vocabulary holds answers without its place in the sentence). Each is
compared with the code it replaced, on the evaluation set and generated texts."""

from __future__ import annotations

import re
from bisect import bisect_left

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.grounding import fresh_sets, paraphrase_sets
from bench.grounding_eval import load
from guard.grounding import claims, figures, passages
from guard.grounding.claims import _ABBREVIATIONS, _lines, not_a_claim, split_sentences
from guard.grounding.names import NAME, name_missing, names
from guard.grounding.text import STOPWORDS, latin_as_shown

_OLD_SENTENCE_END = re.compile(r"[.!?](?:[\"'”’)\]]*)(?=\s+[\"'“‘(\[]?[A-Z0-9])")


def _old_ends_abbreviation(text: str, dot: int) -> bool:
    word_start = dot
    while word_start > 0 and (text[word_start - 1].isalpha() or text[word_start - 1] == "."):
        word_start -= 1
    word = text[word_start:dot].lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or "." in word


def _old_split_sentences(answer: str) -> list[tuple[int, int]]:
    """split_sentences before this change."""
    sentences: list[tuple[int, int]] = []
    for start, end, is_row in _lines(answer):
        if is_row:
            sentences.append((start, end))
            continue
        line = answer[start:end]
        cursor = 0
        for match in _OLD_SENTENCE_END.finditer(line):
            if line[match.start()] == "." and _old_ends_abbreviation(line, match.start()):
                continue
            sentences.append((start + cursor, start + match.end()))
            cursor = match.end()
            while cursor < len(line) and line[cursor].isspace():
                cursor += 1
        if cursor < len(line):
            sentences.append((start + cursor, end))
    return sentences


def _old_not_asserting(text: str) -> bool:
    return bool(
        claims._REFUSAL.match(text) or claims._HEDGE.match(text) or claims._FILLER.match(text)
    )


_PIECES = st.sampled_from(
    [
        *"aZ1 .!?\"'”’)]“‘([\n\t\x1c\u00a0\u2003é",
        "e.g.", "U.S.", "Dr.", "approx.", "St.", "Fig.", "No.", "ca.", "É.", "café.",
        "ǅ.", "x.", " The", " 12", "  Next", ". A", "? B", "! C", '." D', " [1]",
        "I'm sorry", "I think", "Sure, here is", "maybe", "the context does not say",
        "Unfortunately", "As an AI", "Hope this helps!", " - ", "| a | b |\n|---|---|\n",
        "```\ncode. X\n```\n", "# Head. X\n", "    indented. Y\n",
    ]
)  # fmt: skip
_ANSWERS = st.lists(_PIECES, max_size=40).map("".join)


def _real_answers() -> list[str]:
    replies = [case["answer"] for case in load()]
    replies += [reply for reply, _ in fresh_sets(4, 2_000, 10, first=7_300)]
    replies += [reply for reply, _ in paraphrase_sets(10)]
    return replies


def test_sentences_of_real_answers_are_split_as_before() -> None:
    for reply in _real_answers():
        assert split_sentences(reply) == _old_split_sentences(reply)


@given(_ANSWERS)
@settings(max_examples=1500, deadline=None)
def test_sentences_of_generated_answers_are_split_as_before(reply: str) -> None:
    assert split_sentences(reply) == _old_split_sentences(reply)


@given(_ANSWERS)
@settings(max_examples=800, deadline=None)
def test_refusals_hedges_and_fillers_are_found_as_by_three_regexes(text: str) -> None:
    stripped = text.strip().strip("*_").strip()
    assert bool(claims._NOT_ASSERTING.match(stripped)) == _old_not_asserting(stripped)


def test_real_sentences_are_claims_as_before() -> None:
    for reply in _real_answers():
        for start, end in split_sentences(reply):
            text = reply[start:end]
            stripped = text.strip().strip("*_").strip()
            assert bool(claims._NOT_ASSERTING.match(stripped)) == _old_not_asserting(stripped)
            assert not_a_claim(text, frozenset()) in (True, False)


def _old_names(text: str) -> list[str]:
    """scoring._names before this change."""
    found: list[str] = []
    text = latin_as_shown(text)
    for match in NAME.finditer(text):
        word = match.group(1)
        before = text[: match.start()].rstrip(" *_\"'“‘(")
        at_start = not before or before[-1] in ".!?:\n|•-"
        lowered = word.lower().replace("’", "'")
        if lowered.endswith("'s"):
            lowered = lowered[:-2]
        if lowered in STOPWORDS or (at_start and not word.isupper()) or len(lowered) < 2:
            continue
        found.append(lowered)
    return found


def _old_rule(index: passages.PassageIndex, text: str, only: int | None) -> bool:
    assert names(text) == _old_names(text)
    return any(not index.mentions(name, only) for name in _old_names(text))


def test_a_missing_name_is_found_as_before_on_real_answers() -> None:
    for case in load():
        index = passages.PassageIndex(
            [
                (str(n), t if isinstance(t, str) else t["text"])
                for n, t in enumerate(case["passages"])
            ]
        )
        index.prepare(frozenset())
        for start, end in split_sentences(case["answer"]):
            text = case["answer"][start:end]
            for only in (None, *range(len(case["passages"]))):
                assert name_missing(index, text, only) == _old_rule(index, text, only)


_NAME_PIECES = st.sampled_from(
    [
        "Oslo", "oslo", "NATO", "Acme’s", "Acme's", "The", "the", "X", "Bergen", "Quist",
        "Zed", " ", ". ", "? ", ": ", "\n", "| ", "• ", "- ", '"', "(", "*", "_", "’", "'",
        "Оslo", "Ｏｓｌｏ", "x",
    ]
)  # fmt: skip
_NAME_TEXTS = st.lists(_NAME_PIECES, max_size=14).map("".join)


@given(st.lists(_NAME_TEXTS, min_size=1, max_size=3), _NAME_TEXTS)
@settings(max_examples=400, deadline=None)
def test_a_missing_name_is_found_as_before_on_generated_texts(texts: list[str], claim: str) -> None:
    index = passages.PassageIndex([(str(n), text) for n, text in enumerate(texts)])
    index.prepare(frozenset())
    for only in (None, *range(len(texts))):
        assert name_missing(index, claim, only) == _old_rule(index, claim, only)


def _old_matches(found: list[tuple[float, float, bool]], value: float, tolerance: float) -> bool:
    """figures._Values.matches before the rounded figures were kept apart."""
    found = sorted(found)
    values = [v for v, _, _ in found]
    tolerances = [t for _, t, _ in found]
    rounded = [r for _, _, r in found]
    reach = max((t for t, _, r in found if r), default=0.0)
    exact = max(tolerance, 1e-9 * max(abs(value), 1.0))
    low = bisect_left(values, value - max(exact, reach))
    for position in range(low, len(values)):
        other = values[position]
        if other > value + max(exact, reach):
            break
        gap = abs(value - other)
        if gap <= exact:
            return True
        if rounded[position] and gap <= tolerances[position]:
            return True
    return False


_VALUE = st.one_of(
    st.integers(0, 3_000).map(float),
    st.sampled_from([1.5e6, 1.512e6, 2.5e9, 12.5, 0.1, 0.3, 1e-12, 1e300, 1.7e308, 0.0]),
    st.floats(allow_nan=False, allow_infinity=True, width=64),
)
_TOLERANCE = st.sampled_from([0.0, 0.5, 0.05, 5.0, 50_000.0, 250_000.0, 5e8, 1e300])


@given(st.lists(st.tuples(_VALUE, _TOLERANCE), max_size=12), _VALUE, _TOLERANCE)
@settings(max_examples=3000, deadline=None)
def test_a_figure_matches_a_pool_as_before(
    pool: list[tuple[float, float]], value: float, tolerance: float
) -> None:
    found = [(v, t, t > 0.5) for v, t in pool]
    rounded = [(v, t) for v, t, r in found if r]
    new = figures._Values([v for v, _, _ in found], rounded)
    assert new.matches(value, tolerance) == _old_matches(found, value, tolerance)
