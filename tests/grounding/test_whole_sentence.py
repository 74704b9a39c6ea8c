"""guard.grounding.scoring._whole_sentence: a claim whose first candidate sentence holds
every stem is scored without the candidate search, with the search's exact answer.

Each test compares assessments made with the shortcut and without it (the search run
for every claim): ``repr`` byte-identical, on the bench's passage sets, the evaluation
set and generated texts built to make ties (copied sentences, repeated sentences,
common words in every sentence, prefixes, figures and names)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.grounding import fresh_sets
from bench.grounding_eval import load
from guard.grounding import assess, passages, scoring
from guard.grounding.passages import PassageIndex


@contextmanager
def _search_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The scorer as before the shortcut: every claim goes through the search."""
    with monkeypatch.context() as patch:
        patch.setattr(scoring, "_whole_sentence", lambda index, terms: None)
        yield


def _both(
    monkeypatch: pytest.MonkeyPatch, answer: str, given_passages: Sequence[Any]
) -> tuple[str, str]:
    passages.clear_cache()
    fast = repr(assess(answer, given_passages))
    passages.clear_cache()
    with _search_only(monkeypatch):
        searched = repr(assess(answer, given_passages))
    return fast, searched


def test_bench_sets_score_the_same_with_and_without_the_shortcut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken = calls = 0
    real = scoring._whole_sentence

    def counted(index: PassageIndex, terms: scoring._Terms) -> int | None:
        nonlocal taken, calls
        found = real(index, terms)
        calls += 1
        taken += found is not None
        return found

    monkeypatch.setattr(scoring, "_whole_sentence", counted)
    for count in (4, 20):
        for reply, texts in fresh_sets(count, 2_000, 12, first=7_000):
            fast, searched = _both(monkeypatch, reply, texts)
            assert fast == searched
    # The bench's answers copy most of their sentences: the shortcut must be taken for
    # most claims, or the speed it buys is gone without any test noticing.
    assert taken > calls / 2


def test_evaluation_set_scores_the_same_with_and_without_the_shortcut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for case in load():
        fast, searched = _both(monkeypatch, case["answer"], case["passages"])
        assert fast == searched, case.get("id")


#: Few words, so that sentences repeat, share every word or all but one, and stems meet
#: by prefix (``report`` / ``reporting`` / ``reporter``); figures and names too.
_WORDS = (
    "revenue revenues grew growth report reported reporting reporter the company "
    "Nordvik Quist not never 12 12.5 1.5 million percent more less shipping ships"
).split()
_SENTENCE = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=7).map(" ".join)
_PASSAGE = st.lists(_SENTENCE, min_size=1, max_size=6).map(". ".join)


@given(
    st.lists(_PASSAGE, min_size=1, max_size=5),
    st.lists(st.one_of(_SENTENCE, st.integers(0, 40)), min_size=1, max_size=5),
)
@settings(max_examples=200, deadline=None)
def test_generated_texts_score_the_same_with_and_without_the_shortcut(
    given_passages: list[str], picks: list[str | int]
) -> None:
    # Claims copied from the passages' sentences (picked by number) or made up.
    sentences = [s for p in given_passages for s in p.split(". ")]
    claims = [sentences[p % len(sentences)] if isinstance(p, int) else p for p in picks]
    answer = ". ".join(claims) + "."
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, searched = _both(monkeypatch, answer, given_passages)
    assert fast == searched
