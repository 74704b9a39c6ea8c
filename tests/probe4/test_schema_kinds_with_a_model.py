"""A schema check given a pydantic model named its findings by pydantic's error types
(``schema.missing``, ``schema.int_parsing``, ``schema.extra_forbidden``), where the same
schema as a dict gives JSON Schema's keywords (``schema.required``, ``schema.type``,
``schema.additionalProperties``), as the README documents. Alerts on
``guardwire_schema_failures_total{kind}`` and ``expect.kinds`` in policy tests then
depended on how the schema was written. A model's findings now use the keywords.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

import guard


class Answer(BaseModel):
    """Every kind of failure below, as a pydantic model."""

    model_config = ConfigDict(extra="forbid")
    answer: str
    score: int = 0
    grade: Literal["a", "b"] = "a"
    code: str = Field(default="x", pattern="^x+$", max_length=3)
    tags: list[str] = Field(default_factory=list, max_length=2)
    share: float = Field(default=0.5, ge=0, le=1)


DICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["answer"],
    "properties": {
        "answer": {"type": "string"},
        "score": {"type": "integer"},
        "grade": {"enum": ["a", "b"]},
        "code": {"type": "string", "pattern": "^x+$", "maxLength": 3},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "share": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
DOCUMENTS = {
    "required": {},
    "type": {"answer": "a", "score": "high"},
    "enum": {"answer": "a", "grade": "c"},
    "pattern": {"answer": "a", "code": "y"},
    "maxLength": {"answer": "a", "code": "xxxx"},
    "maxItems": {"answer": "a", "tags": ["a", "b", "c"]},
    "minimum": {"answer": "a", "share": -1},
    "maximum": {"answer": "a", "share": 2},
    "additionalProperties": {"answer": "a", "other": 1},
}


@pytest.mark.parametrize("keyword", sorted(DOCUMENTS))
def test_a_model_and_its_dict_schema_name_failures_alike(keyword: str) -> None:
    engine = guard.Guard()
    text = json.dumps(DOCUMENTS[keyword])
    from_model = [f.kind for f in engine.check_output(text, schema=Answer).findings]
    from_dict = [f.kind for f in engine.check_output(text, schema=DICT_SCHEMA).findings]
    assert from_model == from_dict == [f"schema.{keyword}"]
