"""guard.grounding.assess: claims, support scores, hard signals, citations."""

from __future__ import annotations

from guard.grounding import assess
from guard.types import Passage

TOWER = Passage(
    "doc-1",
    "The Eiffel Tower was completed in 1889. It is 330 metres tall and was designed by "
    "Gustave Eiffel's company.",
)
PARIS = Passage(
    "doc-2",
    "Paris has a population of about 2.1 million people. The city is the capital of France.",
)
PASSAGES = [TOWER, PARIS]


def test_supported_answer_scores_high_and_names_its_passage() -> None:
    result = assess("The Eiffel Tower was completed in 1889 and is 330 metres tall.", PASSAGES)
    assert result.score >= 0.8
    [claim] = result.claims
    assert claim.passage_id == "doc-1" and claim.reasons == ()


def test_changed_year_is_a_number_mismatch() -> None:
    result = assess("The Eiffel Tower was completed in 1899.", PASSAGES)
    [claim] = result.claims
    assert "number_mismatch" in claim.reasons and claim.score < 0.5


def test_scaled_figures_are_normalised() -> None:
    for figure in ("2,100,000", "2.1 million", "2.1m", "2.1 mn"):
        [claim] = assess(f"Paris has a population of {figure} people.", PASSAGES).claims
        assert claim.reasons == (), figure
        assert claim.score >= 0.8, figure


def test_invented_figure_is_unsupported() -> None:
    answer = "The Eiffel Tower attracts seven million visitors every year."
    [claim] = assess(answer, PASSAGES).claims
    assert "number_mismatch" in claim.reasons and claim.score < 0.5


def test_missing_name_lowers_support() -> None:
    result = assess(
        "The tower was designed by Gustave Eiffel's company. It was paid for by Napoleon.", PASSAGES
    )
    first, second = result.claims
    assert first.score >= 0.8
    assert "name_missing" in second.reasons and second.score < 0.5


def test_negation_mismatch_lowers_support() -> None:
    [claim] = assess("Paris is not the capital of France.", PASSAGES).claims
    assert "negation" in claim.reasons and claim.score < 0.5


def test_spans_point_into_the_answer() -> None:
    answer = "Intro line.\n\n- Paris is the capital of France.\n- It is 330 metres tall."
    for claim in assess(answer, PASSAGES).claims:
        assert answer[claim.start : claim.end] == claim.text


def test_refusals_questions_hedges_fillers_and_code_are_not_claims() -> None:
    answer = (
        "Sure, here is the answer:\n"
        "I don't know who built it.\n"
        "Would you like more details?\n"
        "I think it might be older.\n"
        "The context does not mention the architect.\n"
        "```\nx = 1889 * 2 million\n```\n"
        "    indented_code = 'Napoleon'\n"
        "# Heading about Napoleon\n"
    )
    assert assess(answer, PASSAGES).claims == ()
    assert assess(answer, PASSAGES).score == 1.0


def test_a_hedged_statement_is_a_claim_scored_without_its_hedge() -> None:
    """ "I think X" still asserts X (in dialogue, most hedged turns are unsupported); only
    the opener's words are left out of its score, and a hedge with nothing checkable
    after it ("I guess so.", "Maybe it is older.") is no claim."""
    plain = assess("The Eiffel Tower was completed in 1889.", PASSAGES).claims[0]
    for opener in ("I think", "I believe that", "Perhaps", "Maybe", "It is possible that"):
        [claim] = assess(f"{opener} the Eiffel Tower was completed in 1889.", PASSAGES).claims
        assert claim.score == plain.score and claim.reasons == (), opener
        [wrong] = assess(f"{opener} the Eiffel Tower was completed in 1899.", PASSAGES).claims
        assert "number_mismatch" in wrong.reasons and wrong.score < 0.5, opener
        assert wrong.start == 0  # the claim is the whole sentence, opener included
    for vague in ("I guess so.", "Maybe it is older.", "I'm not sure the tower was red."):
        assert assess(vague, PASSAGES).claims == (), vague


def test_restating_the_question_is_not_a_claim() -> None:
    answer = "You asked about the population of Paris. Paris has 2.1 million people."
    result = assess(answer, PASSAGES, question="What is the population of Paris?")
    assert [c.text for c in result.claims] == ["Paris has 2.1 million people."]


def test_abbreviations_decimals_and_quotes_do_not_split_claims() -> None:
    answer = 'Dr. Smith said "the tower is 330 metres tall." The U.S. embassy is 2.5 km away.'
    texts = [c.text for c in assess(answer, PASSAGES).claims]
    assert texts == [
        'Dr. Smith said "the tower is 330 metres tall."',
        "The U.S. embassy is 2.5 km away.",
    ]


def test_table_rows_are_claims_and_the_header_is_not() -> None:
    answer = "| City | Population |\n|---|---|\n| Paris | 2.1 million |\n| Paris | 9 million |"
    claims = assess(answer, PASSAGES).claims
    assert [c.text for c in claims] == ["| Paris | 2.1 million |", "| Paris | 9 million |"]
    assert claims[0].score >= 0.5 > claims[1].score


def test_citations_resolve_and_are_checked() -> None:
    answer = (
        "The Eiffel Tower was completed in 1889 [1]. "
        "Paris has 2.1 million people [doc-1]. "
        "The city is the capital of France 【2】. "
        "It is 330 metres tall [7]."
    )
    cites = {(c.id, c.exists, c.supports) for c in assess(answer, PASSAGES).citations}
    assert cites == {
        ("1", True, True),
        ("doc-1", True, False),
        ("2", True, True),
        ("7", False, False),
    }


def test_marker_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    answer = "Paris is the capital of France. [2] The tower was completed in 1889. [1]"
    result = assess(answer, PASSAGES)
    assert [c.cited for c in result.claims] == [("2",), ("1",)]
    assert all(c.supports for c in result.citations)


def test_markdown_links_are_not_citations() -> None:
    assert assess("See [the docs](https://example.com) for Paris.", PASSAGES).citations == ()


def test_strings_and_dicts_are_passages_numbered_from_one() -> None:
    result = assess(
        "The Eiffel Tower was completed in 1889 [1].",
        [TOWER.text, {"id": "b", "text": PARIS.text}],
    )
    assert result.claims[0].passage_id == "1"
    assert result.citations[0].supports


def test_deterministic() -> None:
    answer = "The Eiffel Tower was completed in 1899. Paris has 2.1 million people."
    assert assess(answer, PASSAGES) == assess(answer, PASSAGES)


def test_no_passages_means_nothing_is_supported() -> None:
    [claim] = assess("The Eiffel Tower was completed in 1889.", []).claims
    assert claim.score < 0.5 and claim.passage_id is None


UNITS = [Passage("t", "The trail is 5 km long and climbs 8% over 1,500,000 steps.")]


def test_units_and_formats_are_normalised() -> None:
    # The examples: scale words, percent spellings, unit spellings and
    # conversions within a dimension all match; the words themselves are no evidence.
    for answer in (
        "The trail is 5 kilometres long.",
        "The trail is 5 kilometers long.",
        "The trail is 5,000 m long.",
        "The trail is 5000 metres long.",
        "The trail climbs 8 percent.",
        "The trail climbs 8 per cent.",
        "The trail climbs over 1.5 million steps.",
    ):
        [claim] = assess(answer, UNITS).claims
        assert claim.reasons == () and claim.score >= 0.8, answer


def test_a_unit_of_another_dimension_or_another_length_is_a_mismatch() -> None:
    for answer in (
        "The trail is 5 miles long.",
        "The trail is 5 kg long.",
        "The trail is 5,500 m long.",
        "The trail climbs 9 percent.",
    ):
        [claim] = assess(answer, UNITS).claims
        assert "number_mismatch" in claim.reasons and claim.score < 0.5, answer


def test_five_m_is_five_metres_and_five_m_attached_is_five_million() -> None:
    passages = [Passage("p", "The budget is $5M and the wall is 5 m high.")]
    assert assess("The budget is 5 million dollars.", passages).claims[0].reasons == ()
    assert assess("The wall is 500 cm high.", passages).claims[0].reasons == ()
    assert "number_mismatch" in assess("The wall is 5 km high.", passages).claims[0].reasons
