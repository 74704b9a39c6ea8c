"""guard.grounding.passage_text.Targets: a call reads of its passages only the words
that can lead to one of its answer's stems, and finds exactly the rows a full read of
every word finds.

The candidate test rests on one property of :func:`guard.grounding.text.stem`: a
word's stem starts with the word's first three letters. It is checked on every word
of the repository's text data (English, other languages, code, PII fixtures) and on
generated words built from every suffix rule, beyond ASCII too. The irregular verb
forms (``bought`` / ``buy``) are the exception: Targets also looks for words that start
as the forms of its stems do.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.grounding_eval import load
from guard.grounding.assess import as_passages
from guard.grounding.passage_text import PREFIX, PREFIX_MARK, START, PassageText, Targets
from guard.grounding.passages import PassageIndex, rows_of
from guard.grounding.text import (
    _SUFFIXES,
    IRREGULAR,
    content_terms,
    stems_of,
    suffix_stem,
    term,
    words,
)

_DATA = Path(__file__).resolve().parents[1] / "data"


def _corpus_words() -> set[str]:
    found: set[str] = set()
    for path in sorted(_DATA.rglob("*.jsonl")):
        found.update(words(path.read_text(encoding="utf-8")))
    return found


def test_a_stem_starts_with_its_words_first_letters_on_the_repository_text() -> None:
    corpus = _corpus_words()
    assert len(corpus) > 20_000
    assert any(not word.isascii() for word in corpus)
    broken = sorted(
        w for w in corpus if term(w) and term(w)[:START] != w[:START] and w not in IRREGULAR
    )
    assert not broken, broken[:20]


def test_an_irregular_form_leads_to_its_verbs_stem() -> None:
    texts = ["Profit fell in May. Shares rose.", "They bought a house. Nothing else."]
    stems = frozenset(content_terms("profit will fall, shares rise, they buy"))
    assert {"fall", "rise", "buy"} <= stems
    masks, _ = _index_masks(texts, stems)
    assert masks["fall"] == 0b0001 and masks["rise"] == 0b0010 and masks["buy"] == 0b0100
    assert (masks, _) == _full_read(texts, stems)


_LETTERS = st.sampled_from([*"abcdeilmnorstuyz", "é", "ß", "ǅ", "ж", "ı", "ﬁ", "'", "1"])


@given(
    st.lists(_LETTERS, min_size=0, max_size=8).map("".join),
    st.sampled_from([suffix for suffix, _ in _SUFFIXES] + ["", "e", "ee", "y", "ll", "ss"]),
    st.sampled_from(["", "s", "es", "ed", "ing", "ly"]),
)
@settings(max_examples=800, deadline=None)
@example("ab", "ies", "")
@example("abby", "ies", "")
@example("run", "n", "ing")
@example("creat", "e", "")
def test_a_stem_starts_with_its_words_first_letters(base: str, suffix: str, more: str) -> None:
    word = base + suffix + more
    if word in IRREGULAR:
        return
    stem = term(word)
    assert not stem or stem[:START] == word[:START]


def _full_read(texts: list[str], stems: frozenset[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Every word of every row stemmed: the rows of each stem and of each prefix."""
    masks = dict.fromkeys(stems, 0)
    prefixes = {stem[:PREFIX] for stem in stems if len(stem) > PREFIX}
    prefix_masks = dict.fromkeys(prefixes, 0)
    row = 0
    for text in texts:
        for sentence in PassageText(text).sentences:
            for found in map(term, sentence):
                if found in masks:
                    masks[found] |= 1 << row
                if len(found) > PREFIX and found[:PREFIX] in prefix_masks:
                    prefix_masks[found[:PREFIX]] |= 1 << row
            row += 1
    return masks, prefix_masks


def _index_masks(texts: list[str], stems: frozenset[str]) -> tuple[dict[str, int], dict[str, int]]:
    index = PassageIndex([(str(n), text) for n, text in enumerate(texts)])
    index.prepare(stems)
    prefixes = {stem[:PREFIX] for stem in stems if len(stem) > PREFIX}
    return {s: index.mask(s) for s in stems}, {p: index.prefix_mask(p) for p in prefixes}


_WORD = st.sampled_from(
    [
        "growth", "grows", "growing", "grew", "rated", "rating", "rates", "ratio",
        "creation", "created", "creates", "studies", "studied", "study", "stopped",
        "stop", "national", "nation", "nationalization", "Nordvik", "Nordvik's", "isn't",
        "not", "the", "of", "5", "km", "million", "année", "années", "straße", "ǅemal",
        "runner", "running", "run", "ab", "x", "organizations", "organize", "happily",
        "happiness", "happy", "mystery", "mysteries", "ﬁnal", "finals",
    ]
)  # fmt: skip
_SENTENCE = st.lists(_WORD, min_size=1, max_size=8).map(" ".join).map(lambda s: s + ".")
_PASSAGE = st.lists(_SENTENCE, min_size=1, max_size=5).map(" ".join)


@given(st.lists(_PASSAGE, min_size=1, max_size=4), st.lists(_WORD, min_size=1, max_size=10))
@settings(max_examples=200, deadline=None)
def test_rows_found_from_the_answer_match_a_full_read(texts: list[str], answer: list[str]) -> None:
    stems = frozenset(content_terms(" ".join(answer)))
    assert _index_masks(texts, stems) == _full_read(texts, stems)


def test_rows_found_from_the_answer_match_a_full_read_on_the_evaluation_set() -> None:
    for case in load():
        texts = [text for _, text in as_passages(case["passages"])]
        stems = frozenset(content_terms(case["answer"]))
        assert _index_masks(texts, stems) == _full_read(texts, stems), case["id"]


def test_a_word_that_starts_as_no_target_is_never_stemmed() -> None:
    targets = Targets(frozenset({"grow", "nation"}), frozenset({"natio"}))
    targets.learn({"growth", "grows", "national", "zebra", "the", "nationalize"})
    assert targets.hits == {
        "grows": "grow",
        "national": PREFIX_MARK + "natio",
        "nationalize": PREFIX_MARK + "natio",
    }
    assert "zebra" not in targets.hits
    assert rows_of(0b10110) == [1, 2, 4]
    assert re.fullmatch(r"\x00", PREFIX_MARK)


@given(st.sets(st.integers(min_value=0, max_value=900), max_size=200))
@settings(max_examples=200, deadline=None)
def test_rows_of_reads_every_set_bit_in_order(rows: set[int]) -> None:
    mask = sum(1 << row for row in rows)
    assert rows_of(mask) == sorted(rows)


def _stem_trying_every_suffix(word: str) -> str:
    """:func:`guard.grounding.text.stem` as it was: every suffix tried in order."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + replacement
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            if base.endswith("e") and len(base) > 4:
                base = base[:-1]
            return base
    if word.endswith("e") and len(word) > 4:
        return word[:-1]
    return word


@given(st.text(alphabet="aeilnorstdgyzmuc'", max_size=12))
@settings(max_examples=2000, deadline=None)
def test_stem_tries_only_suffixes_ending_as_the_word_with_the_same_result(word: str) -> None:
    assert suffix_stem(word) == _stem_trying_every_suffix(word)


def test_stem_by_last_letter_matches_every_suffix_on_the_corpus() -> None:
    for word in _corpus_words():
        assert suffix_stem(word) == _stem_trying_every_suffix(word)


def test_words_learnt_in_two_parts_lead_where_they_lead_learnt_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first learn's words are kept as given (no copy): a later learn sorts only
    # the words it has not seen, and the hits are those of one learn over all of them.
    stemmed: list[str] = []

    def counting(words: list[str]) -> list[str]:
        stemmed.extend(words)
        return stems_of(words)

    monkeypatch.setattr("guard.grounding.passage_text.stems_of", counting)
    targets = Targets(frozenset({"grow", "nation"}), frozenset({"natio"}))
    first = frozenset({"growth", "grows", "zebra"})
    targets.learn(first)
    targets.learn(first | {"national", "nationalize", "the"})
    assert targets.hits == {
        "grows": "grow",
        "national": PREFIX_MARK + "natio",
        "nationalize": PREFIX_MARK + "natio",
    }
    assert sorted(stemmed) == ["grows", "growth", "national", "nationalize"]
