"""What a ``schema`` check with ``from_request`` validates against: the request's
``response_format`` and the parameters of each tool it declares (see
:mod:`guard.checks.schema`), compiled once per distinct schema."""

from __future__ import annotations

from guard.checks._schema_config import SchemaConfig
from guard.checks._schema_validators import (
    JsonSchemaValidator,
    SchemaInvalid,
    Validator,
    ValidatorCache,
)
from guard.types import Call

#: Request schemas compiled so far, shared by every schema check of the process.
REQUEST_SCHEMAS = ValidatorCache()
_ANY_OBJECT = JsonSchemaValidator({"type": "object"})


def request_targets(
    call: Call, config: SchemaConfig
) -> tuple[list[Validator], dict[str, JsonSchemaValidator | None]]:
    """Validators of the request's response format, and of each declared tool."""
    if not config.from_request:
        return [], {}
    strict = config.strict
    messages: list[Validator] = []
    wanted = call.response_format or {}
    kind = wanted.get("type")
    if kind == "json_schema":
        spec = wanted.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else wanted.get("schema")
        if schema is None:
            raise SchemaInvalid("response_format json_schema has no 'schema'")
        messages.append(REQUEST_SCHEMAS.get(schema, strict=strict))
    elif kind == "json_object":
        messages.append(_ANY_OBJECT)
    tools: dict[str, JsonSchemaValidator | None] = {}
    for tool in call.tools:
        parameters = tool.get("parameters")
        tools[tool["name"]] = (
            REQUEST_SCHEMAS.get(parameters, strict=strict) if parameters is not None else None
        )
    return messages, tools
