"""Names and places in a ``strict`` stream are found as in the complete reply.

A stream releases a capitalised run only once nothing after it can change what the
recognizer makes of it, and the recognizer's answer for a run depends only on the run
and the text near it (a later word elsewhere in the reply must not turn an earlier run
into a name, or a stream would already have released it). Each case is streamed in
several splits; nothing the complete reply redacts may be released in clear, and the
stream must not end with ``holdback_overflow`` where the complete reply is redacted.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from tests.streaming._leaks import stream

SPLITS = ((1,), (2,), (3,), (5,), (7,), (1, 4, 2), (13,), (1000,))

CASES = {
    # A name followed by a word without a space (issue: the complete reply redacted it
    # when any other known word was in the reply, the stream never).
    "glued word": "Captain Jean-Luc Picardand the crew met Ann Lee.",
    "glued word alone": "Ask Jean-Luc Picardand the others.",
    "glued word before a place": "Ask Jean-Luc Picardand the others in Paris.",
    "hyphenated given name": "The winner, Grant-Tyler, thanked Ann.",
    # ``e.g. `` then a name: ``Jean-Luc `` was released before ``Picard``.
    "after e.g.": "e.g. Jean-Luc Picard was here.",
    # Opening punctuation before a name: ``(Ann `` was released before ``Lee``.
    "parenthesis": "U.S., (Ann Lee).",
    "parenthesis in prose": "the report was (Priya Raman)  ",
    "quotes": 'She wrote "Priya Raman" twice.',
    "backticks": "`New York` is big",
    "link text": "[Ann Lee](https://x.io) wrote",
    "heading": "# Maria de la Cruz\nwas here",
    # Context after the run: ``said`` makes ``Will`` a person.
    "said after": "e.g. Jean-Luc Picard was here. Will said yes.",
    "told after": "Then Grant told them.",
    # Context before the run that the recognizer reads only with a known word elsewhere.
    "opener": "Hi Xyzzy, see you in Paris.",
    "opener alone": "Hello Xyzzy, see you soon.",
    "field name": "name= Xyzzy from Paris",
    "field name alone": "name= Xyzzy, age= 42",
    # Street addresses allow any spaces and tabs between their words.
    "address with a wide gap": "x 42B Elm Rd  Dr. Okafor, U.S.",
    "German address with a tab": "at Hauptstraße\t5 today",
    "German address glued": "API  **Hauptstraße 5** report",
    # An address glued to a curly quote was one only when a clean ``Street`` followed.
    "address in curly quotes": "x “12 Oak Street”!<12 Oak Street>! y",
    "address in curly quotes alone": "x “12 Oak Street”! y",
}


@pytest.fixture(scope="module")
def strict() -> Guard:
    return Guard("strict", registry=CollectorRegistry())


@pytest.mark.parametrize("sizes", SPLITS, ids=str)
@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_a_stream_releases_nothing_the_complete_reply_redacts(
    strict: Guard, text: str, sizes: tuple[int, ...]
) -> None:
    streamed = stream(strict, text, sizes)
    assert streamed.leaked(strict) == []
    assert not streamed.overflowed()
    assert streamed.released == streamed.complete_text


def test_a_glued_name_is_a_person_wherever_it_stands(strict: Guard) -> None:
    """The recognizer reads a hyphenated given name's head (``jean`` of ``Jean-Luc``)
    whether or not the reply holds another known word."""
    for text in ("Jean-Luc Picardand", "Ask Jean-Luc Picardand the others in Paris."):
        found = [text[f.start : f.end] for f in strict.check_output(text).findings]
        assert "Jean-Luc Picardand" in found
