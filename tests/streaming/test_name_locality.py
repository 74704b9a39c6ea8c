"""The PERSON / LOCATION recognizer reads each run alike whatever else the reply holds.

Its first looks (the gate, the early exits of ``read_names``) answer for the whole
text: a known word anywhere made it read every run, so a run with a hyphenated given
name (``Jean-Luc Picardand``), an opener (``Hi Xyzzy``) or a field name (``name=
Xyzzy``) before it was a name only when another known word was in the reply. A stream
sees only the text near a run and had released it by then (tests/streaming/
test_stream_names.py): each run's answer must depend on the run and its neighbours.
"""

from __future__ import annotations

import random

import pytest

from guard.checks._pii_names import find_names

#: Words that send the recognizer different ways, and the glue between them.
_WORDS = (
    "the report was sent to and of e.g. Will May Grant Tyler Ann Priya Raman Okafor Paris "
    "Jean-Luc Picard Picardand Jean-Zorg Grant-Tyler Xyzzy Zorblax Hi Hello Dear Thanks "
    "Premier Dr. Mr. name= name: name, signed de van la 12 Oak Street Street-to API U.S. "
    "O'Brien McDonald's said told"
).split()
_GLUE = (" ", " ", " ", "", ", ", ". ", "\n", "(", ") ", '"', "-", ";")
#: Known words and context phrases far from the text (after a paragraph break).
_ELSEWHERE = "Ann Lee met Dear Paris in Chicago, name: Zorg.\n\nIt was fine, and so on.\n\n"


@pytest.mark.parametrize("seed", range(4))
def test_a_run_is_read_alike_whatever_else_the_reply_holds(seed: int) -> None:
    """The recognizer's first looks (the gate, the early exits) decide for the whole
    text; they must give each run what reading it gives, or a stream (which sees only
    the text near a run) and the complete reply part ways."""
    rng = random.Random(seed)
    both = frozenset({"PERSON", "LOCATION"})
    for _ in range(300):
        text = "".join(rng.choice(_WORDS) + rng.choice(_GLUE) for _ in range(rng.randrange(1, 9)))
        alone = find_names(text, both)
        shift = len(_ELSEWHERE)
        with_others = [
            (entity, start - shift, end - shift, score)
            for entity, start, end, score in find_names(_ELSEWHERE + text, both)
            if start >= shift
        ]
        assert alone == with_others, text
