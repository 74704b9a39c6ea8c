"""What the scorer learned from the public human-labelled sources (BEGIN, WiCE, FRANK):
faithful answers word things differently from their passages, and a passage's
negation may sit in a clause the answer does not repeat.

Each case failed before the change it names (tests/data/grounding/README.md has the
sources; bench/grounding_eval.py the figures)."""

from __future__ import annotations

from guard.grounding import DEFAULT_THRESHOLD, assess
from guard.grounding.negation import negated_terms
from guard.grounding.text import stem, words


def _claim(answer: str, passage: str) -> tuple[float, tuple[str, ...]]:
    found = assess(answer, [passage])
    assert len(found.claims) == 1
    return found.claims[0].score, found.claims[0].reasons


def test_a_negation_in_a_clause_the_claim_does_not_repeat_is_no_conflict() -> None:
    # BEGIN: the passage negates something else than what the answer states.
    passage = (
        "Winter is the coldest season of the year in polar and temperate zones "
        "(winter does not occur in most of the tropical zone)."
    )
    score, reasons = _claim(
        "Winter is the coldest season of the year in polar and temperate zones.", passage
    )
    assert "negation" not in reasons and score >= DEFAULT_THRESHOLD


def test_a_negation_of_what_the_claim_states_still_conflicts() -> None:
    score, reasons = _claim(
        "The museum is open on Mondays.", "The museum is not open on Mondays or Tuesdays."
    )
    assert "negation" in reasons and score < DEFAULT_THRESHOLD
    score, reasons = _claim(
        "The museum is not open on Mondays.", "The museum is open on Mondays and Tuesdays."
    )
    assert "negation" in reasons and score < DEFAULT_THRESHOLD


def test_an_irregular_past_meets_its_verb() -> None:
    assert stem("fell") == stem("fall") and stem("bought") == stem("buys")
    # The negated verb is found in its past form: the claim denies what the passage says.
    _, reasons = _claim(
        "Net profit did not fall in the third quarter.",
        "In the third quarter, net profit fell to 85 million dollars.",
    )
    assert "negation" in reasons
    score, _ = _claim("Shares rose after the report.", "After the report, shares rise.")
    assert score >= 0.9


def test_conversational_fillers_are_no_evidence_to_find() -> None:
    score, _ = _claim(
        "Yeah, actually the first match was played in 1869.",
        "The first match was played in 1869 between Rutgers and Princeton.",
    )
    assert score == 1.0


def test_what_a_negation_applies_to() -> None:
    # Up to three content words within six words after the negation.
    assert negated_terms(words("it does not occur in most of the tropical zone")) == [
        "occur",
        "tropical",
    ]
    assert negated_terms(words("no, but it has a 92% rating")) == ["rat"]
    assert negated_terms(words("the museum is open")) == []
    # A negation closing its clause denies the clause's subject.
    assert negated_terms(words("water is allowed, but coffee and tea are not")) == [
        "tea",
        "coffe",
    ]


def test_a_negation_closing_its_clause_still_conflicts() -> None:
    passage = "Water is allowed, but coffee and tea are not."
    _, reasons = _claim("Coffee is allowed before the test.", passage)
    assert "negation" in reasons
    _, reasons = _claim("Water is allowed before the test.", passage)
    assert "negation" not in reasons
