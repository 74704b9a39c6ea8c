"""The schema check on a ~2 KB JSON reply against a 30-property schema (issue 20's
target: median <= 0.1 ms with the cached validator).

Rows: the check alone on a parsed reply (policy schema; request schema through the
content-hash cache), the check on an invalid document (all problems listed), and
``Guard.check_output`` with the check (engine and lifecycle overhead included).
"""

from __future__ import annotations

import json
from typing import Any

from prometheus_client import CollectorRegistry

from bench._runner import Result, measure
from guard import Guard
from guard.checks.base import CheckContext
from guard.checks.schema import SchemaCheck, SchemaConfig
from guard.formats import get as get_format
from guard.policy import Policy
from guard.types import Stage


def schema_30() -> dict[str, Any]:
    """30 properties: strings with length/pattern, bounded ints, enums, arrays of
    objects, a nested object, ``additionalProperties: false``."""
    properties: dict[str, Any] = {}
    for i in range(10):
        properties[f"name_{i}"] = {"type": "string", "minLength": 1, "maxLength": 80}
    for i in range(6):
        properties[f"count_{i}"] = {"type": "integer", "minimum": 0, "maximum": 10_000}
    for i in range(4):
        properties[f"code_{i}"] = {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"}
    for i in range(4):
        properties[f"level_{i}"] = {"enum": ["low", "medium", "high"]}
    for i in range(3):
        properties[f"items_{i}"] = {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "label"],
                "properties": {"id": {"type": "integer"}, "label": {"type": "string"}},
            },
        }
    for i in range(3):
        properties[f"meta_{i}"] = {
            "type": "object",
            "properties": {"owner": {"type": "string"}, "active": {"type": "boolean"}},
        }
    return {
        "type": "object",
        "required": sorted(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def document_2kb() -> dict[str, Any]:
    """A valid document of about 2 KB for :func:`schema_30`."""
    doc: dict[str, Any] = {}
    for i in range(10):
        doc[f"name_{i}"] = f"customer record field number {i}"
    for i in range(6):
        doc[f"count_{i}"] = 100 * i
    for i in range(4):
        doc[f"code_{i}"] = f"ABC-{1000 + i}"
    for i in range(4):
        doc[f"level_{i}"] = "medium"
    for i in range(3):
        doc[f"items_{i}"] = [{"id": k, "label": f"line item {k}"} for k in range(9)]
    for i in range(3):
        doc[f"meta_{i}"] = {"owner": "team-a", "active": True}
    return doc


def run(seconds: float) -> list[Result]:
    schema = schema_30()
    valid = json.dumps(document_2kb())
    broken = dict(document_2kb(), count_0="many", code_1="x", level_2="extreme")
    broken.pop("name_3")
    invalid = json.dumps(broken)
    size = len(valid)
    fmt = get_format("openai.chat")
    response_format = {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}
    request = json.dumps(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "q"}],
            "response_format": response_format,
        }
    ).encode()
    call = fmt.parse_request(request)

    def reply_with(text: str) -> Any:
        body = {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ]
        }
        return fmt.parse_reply(call, json.dumps(body).encode())

    policy_check = SchemaCheck(SchemaConfig.model_validate({"check": "schema", "schema": schema}))
    request_check = SchemaCheck(SchemaConfig(check="schema", from_request=True))
    valid_reply, invalid_reply = reply_with(valid), reply_with(invalid)

    def context(reply: Any) -> CheckContext:
        return CheckContext(Stage.OUTPUT, "bench", reply.segments())

    guard = Guard(
        Policy.from_dict(
            {"stream": {"mode": "buffer"}, "output": [{"check": "schema", "schema": schema}]}
        ),
        registry=CollectorRegistry(),
    )
    bare = Guard(Policy.from_dict({}), registry=CollectorRegistry())
    return [
        measure(
            "schema.check.policy.valid.2KB",
            lambda: policy_check.output(call, valid_reply, context(valid_reply)),
            seconds=seconds,
            bytes=size,
        ),
        measure(
            "schema.check.request.valid.2KB",
            lambda: request_check.output(call, valid_reply, context(valid_reply)),
            seconds=seconds,
            bytes=size,
        ),
        measure(
            "schema.check.policy.invalid.2KB",
            lambda: policy_check.output(call, invalid_reply, context(invalid_reply)),
            seconds=seconds,
            bytes=len(invalid),
        ),
        measure(
            "schema.guard.check_output.valid.2KB",
            lambda: guard.check_output(valid),
            seconds=seconds,
            bytes=size,
        ),
        measure(
            "schema.guard.no_checks.check_output.2KB",
            lambda: bare.check_output(valid),
            seconds=seconds,
            bytes=size,
        ),
    ]
