"""The fine-tuned encoder experiment's scorers (bench/injection_tune_eval.py; issue 22,
measured and not shipped): the cascade may only reorder texts inside the unsure band,
so its cost and its effect stay where the lexical score is unsure."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bench.injection_tune_eval import benign_rank, cascade, scorers

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
logit = st.floats(min_value=-30.0, max_value=30.0, allow_nan=False)


@given(st.lists(st.tuples(unit, logit), min_size=1, max_size=40))
def test_cascade_keeps_sure_scores_and_stays_in_the_band(pairs: list[tuple[float, float]]) -> None:
    lexical = np.array([p[0] for p in pairs])
    tuned = np.array([p[1] for p in pairs])
    out = cascade(lexical, tuned, 0.1, 0.9)
    outside = (lexical < 0.1) | (lexical >= 0.9)
    assert np.array_equal(out[outside], lexical[outside])
    inside = ~outside
    assert np.all((out[inside] >= 0.1) & (out[inside] <= 0.9))


def test_cascade_orders_the_band_by_the_tuned_score() -> None:
    lexical = np.array([0.5, 0.5, 0.95, 0.02])
    tuned = np.array([-3.0, 3.0, -10.0, 10.0])
    out = cascade(lexical, tuned, 0.1, 0.9)
    assert out[1] > out[0]
    # A sure lexical verdict is not overturned by the encoder, either way.
    assert out[2] == 0.95 and out[3] == 0.02


def test_benign_rank_and_every_scorer_share_the_rows() -> None:
    labels = np.array([0, 0, 0, 0, 1])
    lexical = np.array([0.1, 0.2, 0.3, 0.4, 0.35])
    tuned = np.array([-1.0, 0.0, 1.0, 2.0, 5.0])
    assert list(benign_rank(lexical, labels)) == [0.0, 0.25, 0.5, 0.75, 0.75]
    out = scorers(lexical, tuned, labels)
    assert out["rankmax"][4] == 1.0
    assert all(len(values) == 5 for values in out.values())
