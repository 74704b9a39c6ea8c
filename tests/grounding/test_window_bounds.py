"""guard.grounding.scoring: the window search stops at a best share of 1.0, and the
spread of a claim's best passage is not summed once the best share reaches its ceiling.
Each test compares assessments with and without those stops (the search as it was
before them): ``repr`` byte-identical, on the bench's passage sets, the evaluation set
and generated tie-heavy texts (no whole-sentence shortcut, so every claim searches)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.grounding import fresh_sets, paraphrase_sets
from bench.grounding_eval import load
from guard.grounding import assess, passages, scoring
from guard.grounding.passages import PassageIndex


def _unbounded_best_window(
    index: PassageIndex, terms: scoring._Terms, rows: list[int]
) -> tuple[float, tuple[int, ...]]:
    """scoring._best_window before the stop at 1.0."""
    best_share = 0.0
    best_rows: tuple[int, ...] = ()
    total = terms.total
    for windows in scoring._windows(index, rows):
        bound = terms.share(windows[-1][1]) / total
        if bound <= best_share:
            continue
        for window, mask in windows[:-1]:
            if terms.share(mask) / total == bound:
                best_rows = window
                break
        else:
            best_rows = windows[-1][0]
        best_share = bound
    return best_share, best_rows


def _both(answer: str, given_passages: Sequence[Any]) -> tuple[str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scoring, "_whole_sentence", lambda index, terms: None)
        passages.clear_cache()
        bounded = repr(assess(answer, given_passages))
        patch.setattr(scoring, "_best_window", _unbounded_best_window)
        patch.setattr(scoring, "_SPREAD_CEILING", float("inf"))
        passages.clear_cache()
        return bounded, repr(assess(answer, given_passages))


def test_bench_and_paraphrase_sets_score_the_same_with_and_without_the_stops() -> None:
    for reply, texts in [*fresh_sets(4, 2_000, 6, first=7_100), *paraphrase_sets(12)]:
        bounded, unbounded = _both(reply, texts)
        assert bounded == unbounded


def test_evaluation_set_scores_the_same_with_and_without_the_stops() -> None:
    for case in load():
        bounded, unbounded = _both(case["answer"], case["passages"])
        assert bounded == unbounded, case.get("id")


_WORDS = (
    "revenue revenues grew growth report reported reporting reporter the company "
    "Nordvik Quist not never 12 12.5 percent more less shipping ships"
).split()
_SENTENCE = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6).map(" ".join)
_PASSAGE = st.lists(_SENTENCE, min_size=1, max_size=6).map(". ".join)


@given(st.lists(_PASSAGE, min_size=1, max_size=4), st.lists(_SENTENCE, min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_generated_texts_score_the_same_with_and_without_the_stops(
    given_passages: list[str], claims: list[str]
) -> None:
    bounded, unbounded = _both(". ".join(claims) + ".", given_passages)
    assert bounded == unbounded
