"""A schema failure's message and finding name the failing place by JSON Pointer. A key
the schema does not name is the model's own text (a property under
``additionalProperties`` or ``patternProperties``, an extra key of a pydantic model), and
it went into the error message, the finding's rule and so the audit log: a reply keyed by
a secret quoted the secret. Such keys now show as ``*``; names the schema declares stay.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

import guard

SECRET = "AKIAABCDEFGHIJKLMNOP"
MARKER = "zebracornflake"


class Closed(BaseModel):
    """A pydantic model refusing extra keys."""

    model_config = ConfigDict(extra="forbid")
    a: str


CASES: dict[str, tuple[Any, Any, str]] = {
    "additionalProperties schema": (
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {MARKER: "x"},
        "/*: expected integer",
    ),
    "patternProperties": (
        {"type": "object", "patternProperties": {"^z": {"type": "integer"}}},
        {MARKER: "x"},
        "/*: expected integer",
    ),
    "nested under a declared name": (
        {
            "type": "object",
            "properties": {"a": {"type": "object", "additionalProperties": {"required": ["q"]}}},
        },
        {"a": {MARKER: {}}},
        "/a/*: missing required property 'q'",
    ),
    "array index kept": (
        {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}},
        [{"n": 1}, {"n": MARKER}],
        "/1/n: expected integer",
    ),
    "pydantic extra key": (Closed, {"a": "x", MARKER: 1}, "/*: Extra inputs are not permitted"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_reply_key_in_message_or_rule(case: str, tmp_path: Path) -> None:
    schema, document, shown = CASES[case]
    audit = tmp_path / "audit.jsonl"
    engine = guard.Guard(audit=str(audit))
    decision = engine.check_output(json.dumps(document), schema=schema)
    engine.close()
    assert decision.blocked
    assert shown in decision.message()
    assert MARKER not in decision.message()
    assert all(MARKER not in (f.rule or "") for f in decision.findings)
    assert MARKER not in audit.read_text()


def test_a_secret_as_a_key_is_not_quoted() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    decision = guard.Guard().check_output(json.dumps({SECRET: "x"}), schema=schema)
    assert SECRET not in decision.message()
