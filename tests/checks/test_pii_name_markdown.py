"""Names in markdown (``guard/checks/_pii_name_words.py``, ``_pii_name_runs.py``):
emphasis (``**``, ``__``, ``*``, ``_``) around a name, place or the context before it,
and links (``[Ann Lee](mailto:ann@example.org)``).

A model's reply is often markdown. The recognizer's token rejected a capital after
``*`` or ``_`` (a pointer, ``*args``, an identifier's ``_Name``), so ``**Ann Lee** will
call you`` held no name in the complete reply. Emphasis opens after a space, a line's
start or opening punctuation and closes before a space or punctuation: code keeps
reading as code.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from guard.checks._pii_names import find_names
from tests.streaming._leaks import stream

BOTH = frozenset({"PERSON", "LOCATION"})


def _found(text: str) -> list[tuple[str, str]]:
    return [(e, text[s:t]) for e, s, t, score in find_names(text, BOTH) if score >= 0.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**Ann Lee** will call you", [("PERSON", "Ann Lee")]),
        ("__Ann Lee__ will call you", [("PERSON", "Ann Lee")]),
        ("*Ann Lee* will call you", [("PERSON", "Ann Lee")]),
        ("_Ann Lee_ will call you", [("PERSON", "Ann Lee")]),
        ("***Ann Lee*** will call you", [("PERSON", "Ann Lee")]),
        ("Your contact is **Priya Raman**.", [("PERSON", "Priya Raman")]),
        ("- **Owner:** _Jean-Luc Picard_\n- **Office:** Chicago", [
            ("PERSON", "Jean-Luc Picard"), ("LOCATION", "Chicago")]),
        ("| **Priya Raman** | *Chicago* |", [("PERSON", "Priya Raman"),
                                            ("LOCATION", "Chicago")]),
        ("Dear **Okafor**, thanks.", [("PERSON", "Okafor")]),
        ("**Name:** Xyzzy Quint", [("PERSON", "Xyzzy Quint")]),
        ("She lives in **Usquert** now.", [("LOCATION", "Usquert")]),
        ("**Will** said yes.", [("PERSON", "Will")]),
        ("[Ann Lee](mailto:ann@example.org) wrote", [("PERSON", "Ann Lee")]),
        ("[**Ann Lee**](https://example.org/team/ann) wrote", [("PERSON", "Ann Lee")]),
        ("see [_Priya Raman_][1]", [("PERSON", "Priya Raman")]),
    ],
)  # fmt: skip
def test_a_name_in_emphasis_or_a_link_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "self._Name = value; obj.__Priya = 1",
        "call f(*Args) and g(**Kwargs) with my_Ann_var",
        "a*Ann*b and x_Ann_y stay code",
        "Use __Init__ hooks and _Private names.",
        "**Note:** the build passed. *Warning*: disk is full.",
        "The **Hello World** program and **Hi Team** greeting.",
        "rename Ann_ to Lee_x in the schema",
    ],
)
def test_code_and_emphasised_words_are_no_names(text: str) -> None:
    assert _found(text) == []


def test_strict_redacts_a_bold_name_in_the_complete_reply() -> None:
    guard = Guard("strict", registry=CollectorRegistry())
    redacted = guard.check_output("**Ann Lee** will call you").text
    assert redacted is not None and "Ann" not in redacted and "Lee" not in redacted
    assert redacted.startswith("**") and "** will call you" in redacted


@pytest.mark.parametrize("sizes", [(1,), (3,), (7,), (1, 4, 2)], ids=str)
@pytest.mark.parametrize(
    "text",
    [
        "**Ann Lee** will call you",
        "Call _Priya Raman_ today, or __Ann Lee__.",
        "- **Owner:** *Jean-Luc Picard* in **Chicago**",
    ],
)
def test_a_stream_releases_no_emphasised_name(text: str, sizes: tuple[int, ...]) -> None:
    strict = Guard("strict", registry=CollectorRegistry())
    streamed = stream(strict, text, sizes)
    assert streamed.complete_text != text
    assert streamed.leaked(strict) == []
    assert streamed.released == streamed.complete_text
