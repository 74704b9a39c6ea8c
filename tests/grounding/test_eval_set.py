"""The evaluation set stays well-formed, and the scorer stays above its floors on it."""

from __future__ import annotations

from bench.grounding_eval import DATA, ORIGINAL, auroc, evaluate, family, load


def test_the_set_has_enough_labelled_cases() -> None:
    cases = load()
    assert len(cases) >= 400
    assert sum(1 for c in cases if c.get("claims")) >= 150
    for case in cases:
        assert case["label"] in (0, 1) and case["passages"] and case["answer"]
        for claim in case.get("claims", ()):
            assert claim["text"] in case["answer"]


def test_auroc_counts_ties_half() -> None:
    assert auroc([0.1, 0.9], [True, False]) == 1.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5


def test_scorer_floors() -> None:
    # Floors a little under the measured figures (bench/grounding_eval.py): a change that
    # costs more than that is a regression to explain. Issue 21's targets were set on
    # the hand-written and WiCE cases; the other sources have floors of their own.
    figures = evaluate(load([DATA / name for name in ORIGINAL]))
    assert figures["answer_auroc"] >= 0.85
    assert figures["claim_auroc"] >= 0.95
    assert figures["claim_recall"] >= 0.88


def test_floors_per_source() -> None:
    by_family: dict[str, list[dict[str, object]]] = {}
    for case in load():
        by_family.setdefault(family(case), []).append(case)
    assert set(by_family) >= {"handwritten", "wice", "begin"}
    assert evaluate(by_family["begin"])["answer_auroc"] >= 0.78
