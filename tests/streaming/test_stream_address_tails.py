"""A street address followed by a unit, postcode, city or region (``12 Oak Street, Suite
5``, ``221 Baker Street, London NW1 6XE``) is one LOCATION in the complete reply; a
``strict`` stream used to release the separator after the street (``,``, ``.``, a line
break) before the rest came, then found the longer address over released text and ended
with ``holdback_overflow`` — at the delta sizes real upstreams send (8, 16 characters).
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from tests.streaming._leaks import stream

REPLIES = (
    "Ship it to 12 Oak Street, Suite 5 by Monday.",
    "Ship it to 12 Oak Street, Apt 5 by Monday.",
    "Ship it to 12 Oak Street,\nApt 5 please.",
    "Ship to 12 Oak Street, Flat 4 today.",
    "Send it to 221 Baker Street, London NW1 6XE tomorrow.",
    "Visit Hauptstraße 5, 4111 Berlin soon.",
    "Ship it to 12 Oak Street. Thanks!",
    "Our office: 42B Elm Rd.\n# Paris is where we meet.",
)


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard("strict", registry=CollectorRegistry())


@pytest.mark.parametrize("reply", REPLIES)
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 16])
def test_an_address_and_its_tail_are_held_together(guard: Guard, reply: str, size: int) -> None:
    streamed = stream(guard, reply, [size])
    assert not streamed.leaked(guard), streamed.released
    assert not streamed.overflowed(), streamed.released
    assert streamed.released == streamed.complete_text
