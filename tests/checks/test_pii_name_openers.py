"""An opener (``Hi``, ``Hello``, ``Dear``, ``Hey``, ``Thanks``) before a capitalised word
(``guard/checks/_pii_name_runs.py``): a name follows only when that word is a known
given or family name or no common English word (``pii_names/words.txt``).

Since the recognizer reads each run alike whatever else the reply holds, an opener made
any capitalised word after it a PERSON: ``strict`` redacted ``World`` in ``print("Hello
World")`` and ``Team`` in ``Hi Team, the build passed.`` The labelled set
``tests/data/pii/openers.jsonl`` (made by ``generate_openers.py``) holds such hard
negatives, hand-written positives and faker-101's names after openers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from guard.checks._pii_names import find_names
from tests.data.pii import generate_openers

BOTH = frozenset({"PERSON", "LOCATION"})
DATA = Path(__file__).parents[1] / "data" / "pii"
_ROWS = [json.loads(line) for line in (DATA / "openers.jsonl").read_text("utf-8").splitlines()]
#: faker-101's names after openers that the recognizer finds no name in, whatever the
#: opener: an initial (``A. Pedersoli``), a family name read as a legal form (``Sá`` as
#: ``SA``), a given name that is a big city (``Salvador``).
_MISSED = {"A. Pedersoli", "Ian Sá", "Salvador"}


def _found(text: str) -> list[tuple[str, str]]:
    return [(e, text[s:t]) for e, s, t, score in find_names(text, BOTH) if score >= 0.5]


def _labels(row: dict[str, object]) -> list[tuple[str, str]]:
    text = str(row["text"])
    entities = row["entities"]
    assert isinstance(entities, list)
    return [(e["type"], text[e["start"] : e["end"]]) for e in entities]


@pytest.mark.parametrize("text", generate_openers.NEGATIVES)
def test_a_common_word_after_an_opener_is_no_name(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize("text", generate_openers.POSITIVES)
def test_a_name_after_an_opener_is_a_person(text: str) -> None:
    plain = text.replace("[", "").replace("]", "")
    name = text[text.index("[") + 1 : text.index("]")]
    assert _found(plain) == [("PERSON", name)]


def test_faker_names_after_openers_are_found() -> None:
    rows = _ROWS[len(generate_openers.NEGATIVES) + len(generate_openers.POSITIVES) :]
    assert len(rows) == generate_openers.FAKER_NAMES
    missed = {_labels(row)[0][1] for row in rows if _found(str(row["text"])) != _labels(row)}
    assert missed == _MISSED


@pytest.mark.parametrize(
    "text",
    ["Hi Will, the build passed.", "Hello Kitty!", "Thanks Grant.", "Premier League table"],
)
def test_a_common_word_name_alone_after_an_opener_is_no_person(text: str) -> None:
    """A given or family name that is a common word (marked ``*`` in the lists) counts as
    the common word after an opener: ``Hi Will`` reads as ``Hi Team`` does."""
    assert _found(text) == []


def test_a_lower_case_opener_before_the_run_reads_alike() -> None:
    """The opener as the word before the run (``dear`` in lower case, or cut off by a
    line break) follows the same rule as one inside it."""
    assert _found("oh dear Customer support is closed") == []
    assert _found("my dear Okafor, welcome") == [("PERSON", "Okafor")]
    assert _found("DEAR Customer, hello") == []


def test_strict_keeps_hello_world_and_redacts_the_name_beside_it() -> None:
    guard = Guard("strict", registry=CollectorRegistry())
    reply = 'Hi Team, print("Hello World") runs. Hi Maria, see you.'
    redacted = guard.check_output(reply).text
    assert redacted is not None
    assert 'Hi Team, print("Hello World") runs.' in redacted
    assert "Maria" not in redacted


def test_the_set_is_made_by_its_script() -> None:
    written = [json.dumps(row, ensure_ascii=False) for row in generate_openers.rows()]
    assert "\n".join(written) + "\n" == (DATA / "openers.jsonl").read_text("utf-8")
