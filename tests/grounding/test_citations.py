"""guard/grounding/citations.py through ``assess``: which bracketed words are citations.

A word-like id (``[staff]``) is a citation when it names a passage; a bracketed word
that names none (``[sic]``, ``[citation needed]``, ``[TODO]``) and a ``[1]`` in code
are prose, never a wrong citation.
"""

from __future__ import annotations

import pytest

from guard.grounding import assess
from guard.grounding.citations import find_markers
from guard.types import Passage

STAFF = Passage("staff", "The Leeds office has 12 staff members.")
POLICY = Passage("policy-2", "Refunds are allowed within 30 days of purchase.")
DOC_A = Passage("doc_a", "The warehouse is in Leeds.")
NUMBERED = Passage("1", "The Leeds office opened in 2019.")
PASSAGES = [STAFF, POLICY, DOC_A]


def cited(answer: str, passages: list[Passage]) -> list[tuple[str, bool, bool]]:
    return [(c.id, c.exists, c.supports) for c in assess(answer, passages).citations]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("The Leeds office has 12 staff members [staff].", [("staff", True, True)]),
        ("The Leeds office has 12 staff members [Staff].", [("Staff", True, True)]),
        ("Refunds are allowed within 30 days of purchase [policy-2].", [("policy-2", True, True)]),
        ("The warehouse is in Leeds [doc_a].", [("doc_a", True, True)]),
        ("The warehouse is in Leeds [staff].", [("staff", True, False)]),
        (
            "The Leeds office has 12 staff members [staff, doc_a].",
            [("staff", True, True), ("doc_a", True, False)],
        ),
        ("The Leeds office has 12 staff members. [staff]", [("staff", True, True)]),
        (
            "The Leeds office has 12 staff members [staff; 9].",
            [("staff", True, True), ("9", False, False)],
        ),
    ],
)
def test_word_like_ids_that_name_a_passage_are_citations(
    answer: str, expected: list[tuple[str, bool, bool]]
) -> None:
    assert cited(answer, PASSAGES) == expected


@pytest.mark.parametrize(
    "answer",
    [
        "He wrote that it [sic] had 12 staff members.",
        "The Leeds office has 12 staff members [citation needed].",
        "The Leeds office has 12 staff members [TODO].",
        "The Leeds office has 12 staff members [editor] and a warehouse.",
        "Read the count with `offices[1]` and the office has 12 staff members.",
        "Read the count with ``offices[1]`` and the office has 12 staff members.",
        "The office has 12 staff members:\n\n```python\nprint(staff[1])\n```\n",
        "The office has 12 staff members:\n\n~~~\nstaff[1] = 12\n~~~\n",
    ],
)
def test_bracketed_words_and_code_indexes_are_not_wrong_citations(answer: str) -> None:
    assert cited(answer, PASSAGES) == []
    assert cited(answer, [*PASSAGES, NUMBERED]) == []  # also when a passage is numbered 1


def test_a_word_like_id_needs_the_passages_to_be_a_citation() -> None:
    assert find_markers("It has 12 staff members [staff].") == []
    [marker] = find_markers("It has 12 staff members [staff].", ["Staff"])
    assert marker.ids == ("staff",)


def test_numbered_and_separated_ids_still_count_when_unknown() -> None:
    """A marker that looks like an id and names no passage is a wrong citation."""
    assert cited("The warehouse is in Leeds [7].", PASSAGES) == [("7", False, False)]
    assert cited("The warehouse is in Leeds [doc-9].", PASSAGES) == [("doc-9", False, False)]


def test_a_marker_after_an_unclosed_backtick_is_still_read() -> None:
    answer = "The `staff count is 12. The warehouse is in Leeds [doc_a]."
    assert cited(answer, PASSAGES) == [("doc_a", True, True)]


def test_a_backtick_does_not_reach_into_the_next_paragraph() -> None:
    answer = "The `staff count is 12.\n\nThe warehouse is in Leeds [doc_a]. It ships `fast`."
    assert cited(answer, PASSAGES) == [("doc_a", True, True)]
