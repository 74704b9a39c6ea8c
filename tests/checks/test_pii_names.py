"""PERSON and LOCATION without a spaCy model (``guard/checks/_pii_names.py``): context
words, common-word names, sentence starts, possessives, hyphenated and multi-word names,
non-English names, places and addresses; streams hold a name until it is complete; a
name is pseudonymised upstream and restored in the reply through the proxy."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from guard import Guard
from guard.checks._pii_holdback import name_holdback
from guard.checks._pii_names import LONGEST_NAME, find_names
from guard.checks.pii import PiiCheck
from guard.engine import text_call
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

BOTH = frozenset({"PERSON", "LOCATION"})
#: What a default ``check: pii`` reports (threshold 0.5).
THRESHOLD = 0.5


def _found(text: str) -> list[tuple[str, str]]:
    return [(e, text[s:t]) for e, s, t, score in find_names(text, BOTH) if score >= THRESHOLD]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My name is Zorblax Quint.", [("PERSON", "Zorblax Quint")]),  # context: any name
        ("Dear Ann, thanks for the call.", [("PERSON", "Ann")]),
        ("Signed, Priya Raman", [("PERSON", "Priya Raman")]),
        ("Please ask Dr. Okafor about it.", [("PERSON", "Okafor")]),
        ("Mr. Brown will call back.", [("PERSON", "Brown")]),
        ("The ticket was filed by Sarah yesterday.", [("PERSON", "Sarah")]),
        ("President Yeltsin arrived.", [("PERSON", "Yeltsin")]),  # a role, any name
        ("Her colleague Brown is away.", [("PERSON", "Brown")]),  # a role, a known name
    ],
)
def test_context_words_and_titles_make_a_person(text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Will you grant access to the bucket?",
        "May I ask a question?",
        "Grant the role read access.",
        "Bill the customer at the end of the month.",
        "The Rose Garden opens in spring.",
        "Mark the test as flaky.",
        "We deploy with Docker on Linux and write Ruby and Python.",
        "Send the API key to AWS and rotate YARA rules.",
        "AI-generated text is labelled.",
        "The quick brown fox jumps over the lazy dog.",
        "self.Grant = user.Name; call Rose() and Will.run()",
        "Add a function called Parse; the class name is GetUser.",
    ],
)
def test_common_words_are_no_names_without_context(text: str) -> None:
    assert _found(text) == []


def test_common_word_names_count_with_context_or_a_family_name() -> None:
    assert _found("Please ask Will about it.") == [("PERSON", "Will")]
    assert _found("My name is Will.") == [("PERSON", "Will")]
    assert _found("It will rain. Will it?") == []
    assert _found("I met Grant Thornton and Rose Nakamura.") == [
        ("PERSON", "Grant Thornton"),
        ("PERSON", "Rose Nakamura"),
    ]


def test_sentence_start() -> None:
    """A common-word name at a sentence start needs a family name that is no common word;
    a name that is no common word counts there too."""
    assert _found("Will Ferrell starred in it.") == [("PERSON", "Will Ferrell")]
    assert _found("Sarah called about the invoice.") == [("PERSON", "Sarah")]
    assert _found("Bill Brown. Will Smith.") == []  # two common words: context needed


def test_possessives_hyphens_particles_and_initials() -> None:
    assert _found("That is Maria's laptop.") == [("PERSON", "Maria")]
    assert _found("Contact Jean-Luc Picard today.") == [("PERSON", "Jean-Luc Picard")]
    assert _found("Talk to Ludwig van Beethoven.") == []  # not in the given-name list
    assert _found("Mail Maria de la Cruz now.") == [("PERSON", "Maria de la Cruz")]
    assert _found("Ask J. Smith first.") == [("PERSON", "J. Smith")]


def test_non_english_names() -> None:
    assert _found("José García lives in Zürich.") == [
        ("PERSON", "José García"),
        ("LOCATION", "Zürich"),
    ]
    assert _found("Mehmet Yılmaz und Søren Kierkegaard") == [
        ("PERSON", "Mehmet Yılmaz"),
        ("PERSON", "Søren Kierkegaard"),
    ]
    assert _found("Aarav Sharma wrote to Olga Ivanova.") == [
        ("PERSON", "Aarav Sharma"),
        ("PERSON", "Olga Ivanova"),
    ]


def test_places_and_addresses() -> None:
    assert _found("She moved from New York to Rio de Janeiro.") == [
        ("LOCATION", "New York"),
        ("LOCATION", "Rio de Janeiro"),
    ]
    assert _found("Ship it to 12 Oak Street, please.") == [("LOCATION", "12 Oak Street")]
    assert _found("Die Adresse ist Hauptstraße 5 in Berlin.") == [
        ("LOCATION", "Hauptstraße 5"),
        ("LOCATION", "Berlin"),
    ]
    # A city that is a common word only after "in", "from", "near"...
    assert _found("Mobile apps need Reading lists.") == []
    assert _found("They live in Reading.") == [("LOCATION", "Reading")]


def test_the_default_check_redacts_names_and_places(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard("name: t\ninput:\n  - check: pii\n")
    text = "Hi, I'm Priya Raman from Chicago; card 4111 1111 1111 1111."
    decision = guard.check_input(text)
    assert sorted(f.kind for f in decision.findings) == ["CREDIT_CARD", "LOCATION", "PERSON"]
    assert [text[f.start : f.end] for f in decision.findings if f.kind == "PERSON"] == [
        "Priya Raman"
    ]


def test_a_finding_carries_no_value(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard("name: t\ninput:\n  - check: pii\n")
    for finding in guard.check_input("My name is Zorblax Quint.").findings:
        assert "Zorblax" not in repr(finding)


# -- streams -----------------------------------------------------------------------------


def test_a_capitalised_run_is_held_until_it_ends() -> None:
    assert name_holdback("Please ask Dr. Jean") == len("Dr. Jean")
    assert name_holdback("Please ask Dr. Jean ") == len("Dr. Jean ")
    assert name_holdback("Please ask Jean-Luc Picard,") == 0  # the run is over
    assert name_holdback("moved to Rio de ") == len("Rio de ")
    assert name_holdback("ship to 12 Oak ") == len("12 Oak ")
    assert name_holdback("the name is john") == 0
    assert name_holdback("Priya\n") == 0


STREAMED = (
    "Hello team, the ticket from Priya Raman in Chicago was reassigned to Jean-Luc "
    "Picard. Mr. Okafor (12 Oak Street) asked José García to call. Nothing else.\n"
)


@pytest.mark.parametrize("seed", range(6))
def test_a_stream_redacts_names_exactly_as_the_whole_text(
    make_guard: Callable[..., Guard], seed: int
) -> None:
    """Random chunk splits (a name split anywhere, ``Jean-Luc`` | `` Picard``): the
    joined output equals the whole text redacted, and no piece of a name escapes."""
    guard = make_guard("name: t\noutput:\n  - check: pii\n    action: redact\n")
    expected = guard.check_output(STREAMED).text
    assert expected is not None and "Priya" not in expected and "Picard" not in expected
    rng = random.Random(seed)
    session = guard.stream(text_call("q"))
    out, fed = [], 0
    while fed < len(STREAMED):
        piece = STREAMED[fed : fed + rng.choice((1, 2, 3, 5, 8, 13))]
        fed += len(piece)
        out.append(session.feed("t", piece))
    out.append(session.flush("t"))
    assert "".join(out) == expected


# -- end to end: the proxy with the OpenAI SDK ------------------------------------------

POLICY = """\
name: names-e2e
input:
  - check: pii
    action: pseudonymise
output:
  - check: pii
    action: redact
    entities: [EMAIL_ADDRESS]
"""


@pytest.mark.parametrize("stream", [False, True])
def test_a_name_is_pseudonymised_upstream_and_restored_in_the_reply(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    stream: bool,
) -> None:
    policy = tmp_path / "names.yaml"
    policy.write_text(POLICY)
    server = start_proxy(upstream=fake_upstream.url, policy=str(policy))
    client = openai.OpenAI(
        base_url=server.url + "/v1", api_key="k", max_retries=0, http_client=httpx2.Client()
    )
    fake_upstream.enqueue(
        Script(text="Dear <PERSON_1>, your parcel left <LOCATION_1>.", chunk_size=5)
    )
    prompt = "My name is Priya Raman and I live in Chicago. Where is my parcel?"
    messages: Any = [{"role": "user", "content": prompt}]
    if stream:
        chunks = client.chat.completions.create(model="m", messages=messages, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        result = client.chat.completions.create(model="m", messages=messages)
        text = result.choices[0].message.content or ""
    sent = fake_upstream.requests[-1].body.decode()
    assert "Priya" not in sent and "Raman" not in sent and "Chicago" not in sent
    assert "<PERSON_1>" in sent and "<LOCATION_1>" in sent
    assert text == "Dear Priya Raman, your parcel left Chicago."


def test_a_stream_holds_a_name_no_longer_than_a_name_is(make_guard: Callable[..., Guard]) -> None:
    """PERSON / LOCATION bound the hold-back (64 characters, white space not counted;
    at most six capitalised words), where e-mail addresses or phone numbers leave it
    unbounded."""
    guard = make_guard("name: t\noutput:\n  - check: pii\n    entities: [PERSON, US_SSN]\n")
    check = guard.output_checks[0]
    assert isinstance(check, PiiCheck)
    assert check._longest_match == LONGEST_NAME
    title_case = "Notes " + " ".join(["Abcdefghijklmnop"] * 12) + " "
    held = check.holdback(title_case)
    assert 0 < held <= len(" ".join(["Abcdefghijklmnop"] * 6)) + 1
    assert check.holdback("see you soon ") == 0
