"""A ``strict`` stream never releases in clear what the complete reply redacts.

Seeded random replies put names, places, addresses, e-mail addresses, phone numbers,
card numbers and IBANs (some with invisible characters inside) at the start, the end,
glued to punctuation and to words, inside markdown (bold, links, code, headings, lists,
tables), next to unicode text and with unicode spaces inside, and a number glued by ``_``,
``-``, ``.`` or ``/`` to an e-mail address, a URL or a name (``(415) 555-0132_maria@x.io``:
each may lose to the other until the token is complete), and stream them in deltas of 1
to 60 characters. The invariant (tests/streaming/_leaks.py): every character the
complete reply redacts is redacted by the stream or never released; a stream may redact
more. Ending with ``holdback_overflow`` where the complete reply is returned redacted is
a defect too, so it is asserted as well.
"""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from tests.streaming._leaks import stream

ENTITIES = (
    "Jean-Luc Picard", "Priya Raman", "José García", "Dr. Okafor", "Maria de la Cruz",
    "Ann Lee", "Will", "Ann", "O'Brien", "Mr. Brown", "Zoë Šťastná", "Björn Ørsted",
    "Ludwig van Beethoven", "Tyler", "Grant", "May", "Xyzzy", "Paris", "New York",
    "Rio de Janeiro", "12 Oak Street", "42B Elm Rd", "Hauptstraße 5",
    "maria.lopez@example.org", "j@x.io", "ann.lee+news@mail.example.co.uk",
    "+1 415-555-0132", "(415) 555-0132", "+44 20 7946 0958", "4111 1111 1111 1111",
    "4111-1111-1111-1111", "5500005555555559", "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432", "536-22-1234", "192.168.10.12",
    "https://intranet.example.com/people/42", "sk-abcdefghij0123456789xyzABC",
    "AKIAABCDEFGHIJKLMNOP", "4111\u200b1111\u200b1111\u200b1111", "maria\u00ad.lopez@example.org",
    "4111\u202f1111\u202f1111\u202f1111", "Ann\u00a0Lee", "+33\u00a01\u00a023\u00a045\u00a067\u00a089",
    "12 Oak Street, Suite 5", "221 Baker Street, London NW1 6XE", "Hauptstraße 5, 10115 Berlin",
    "42B Elm Rd,\nApt 7",
)  # fmt: skip
#: Numbers (phone, card, IBAN) and what :func:`_entity` glues to them.
NUMBERS = (
    "(415) 555-0132", "+1 415-555-0132", "+44 20 7946 0958", "4111 1111 1111 1111",
    "4111-1111-1111-1111", "5500005555555559", "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432", "536-22-1234",
)  # fmt: skip
GLUED_TO = (
    "maria.lopez@example.org", "j@x.io", "https://intranet.example.com/people/42",
    "www.example.com", "Ann Lee", "Priya Raman", "Paris",
)  # fmt: skip
FILLERS = (
    "the", "report", "was", "sent", "to", "and", "said", "told", "e.g.", "i.e.", "Note:",
    "The", "This", "In", "API", "NASA", "my name is", "Dear", "Hi", "signed", "name=",
    "name:", "from", "in", "de", "van", "U.S.", "McDonald's", "42", "3.5", "v1.2.3",
    "2024-05-01", "東京で会議", "🎉", "déjà vu", "naïve", "ÉCOLE", "#", "-", "|",
)  # fmt: skip
WRAPS = (
    ("", ""), ("", ""), ("", ""), ("", ""), ("**", "**"), ("_", "_"), ("`", "`"),
    ("(", ")"), ('"', '"'), ("“", "”"), ("[", "](https://x.io)"), ("# ", "\n"),
    ("- ", "\n"), ("| ", " |"), ("<", ">"),
)  # fmt: skip
GLUE = (
    " ", " ", " ", " ", "", "  ", "\n", "\n\n", ". ", ", ", ",", ".", ";", ":", "!", "?",
    "-", "s", "and", " and ", "\t", "\u00a0",
)  # fmt: skip


def _entity(rng: random.Random) -> str:
    """An entity, or (one in eight) a number glued to an e-mail, a URL or a name, in
    either order."""
    if rng.random() < 0.875:
        return rng.choice(ENTITIES)
    glued = (rng.choice(NUMBERS), rng.choice("_-./"), rng.choice(GLUED_TO))
    return "".join(glued if rng.random() < 0.5 else glued[::-1])


def _reply(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randrange(1, 16)):
        if rng.random() < 0.5:
            before, after = rng.choice(WRAPS)
            parts.append(before + _entity(rng) + after)
        else:
            parts.append(rng.choice(FILLERS))
        parts.append(rng.choice(GLUE))
    if rng.random() < 0.3:
        parts.pop()  # ends on an entity or word, with nothing after it
    return "".join(parts)


@pytest.fixture(scope="module")
def strict() -> Guard:
    return Guard("strict", registry=CollectorRegistry())


@pytest.mark.parametrize("seed", range(10))
def test_a_strict_stream_never_releases_what_the_complete_reply_redacts(
    strict: Guard, seed: int
) -> None:
    rng = random.Random(seed)
    for _ in range(20):
        text = _reply(rng)
        most = rng.choice((1, 2, 3, 5, 8, 20, 60))
        sizes = [rng.randint(1, most) for _ in range(len(text))]
        streamed = stream(strict, text, sizes)
        leaked = "".join(char for _, char in streamed.leaked(strict))
        assert not leaked, (text, sizes[:20], leaked)
        assert not streamed.overflowed(), (text, sizes[:20])


@pytest.mark.parametrize(
    "text",
    [
        # The e-mail (``555-0132_maria...``) beats the phone until ``_`` ends it: the
        # phone's first group must not have been released meanwhile.
        "_(415) 555-0132_maria.lopez@example.org_ ",
        "(415) 555-0132_maria.lopez@example.org_ and more",
        "DE89 3704 0044 0532 0130 00_j@x.io_ ",
        "+44 20 7946 0958-https://intranet.example.com/people/42_ ",
        "4111 1111 1111 1111/www.example.com_ ",
        "(415) 555-0132.Ann Lee_ ",
        # A group glued after a URL (``...com/(415)``) ends a token: the number it
        # begins goes on after the space.
        "Ann Lee).www.example.com/(415) 555-0132",
    ],
)
def test_a_number_glued_to_an_email_url_or_name_is_held_until_its_token_ends(
    strict: Guard, text: str
) -> None:
    streamed = stream(strict, text, [1] * len(text))
    assert not "".join(char for _, char in streamed.leaked(strict)), text
    assert not streamed.overflowed(), text
