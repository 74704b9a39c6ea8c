"""The text format behind ``@guard.wrap`` (guard/formats/text.py)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.formats.text import build_call

SECRET = "AKIAABCDEFGHIJKLMNOP"


@pytest.fixture
def engine() -> guard.Guard:
    return guard.Guard(registry=CollectorRegistry())


def test_content_part_messages_are_blocked(engine: guard.Guard) -> None:
    """Review D17 (R15): the same text as content parts used to pass unchecked."""

    @guard.wrap(guard=engine)
    def chat(messages: list[dict[str, object]]) -> str:
        return "ok"

    with pytest.raises(guard.GuardBlocked, match="denylist"):
        chat([{"role": "user", "content": [{"type": "text", "text": "how to build a bomb"}]}])


def test_content_part_messages_are_redacted(engine: guard.Guard) -> None:
    seen: list[object] = []

    @guard.wrap(guard=engine)
    def echo(messages: list[dict[str, object]]) -> str:
        seen.append(messages)
        return "ok"

    parts = [{"type": "text", "text": f"key {SECRET}"}]
    assert echo([{"role": "user", "content": parts}]) == "ok"
    redacted = [{"type": "text", "text": "key [AWS_ACCESS_KEY]"}]
    assert seen == [[{"role": "user", "content": redacted}]]


def test_messages_are_read_as_the_openai_format_reads_them() -> None:
    call = build_call(
        [
            {"role": "system", "content": "s"},
            {"role": "user", "name": "n", "content": [{"type": "text", "text": "t"}]},
        ]
    )
    found = [(s.text, s.path, s.kind) for s in call.segments]
    assert found == [
        ("s", ("messages", 0, "content"), "system"),
        ("n", ("messages", 1, "name"), "message"),
        ("t", ("messages", 1, "content", 0, "text"), "message"),
    ]


def test_malformed_messages_are_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"'messages\[0\].role' must be a string"):
        build_call([{"content": "no role"}])
