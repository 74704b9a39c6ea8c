"""The policy entry of the ``schema`` check (see :mod:`guard.checks.schema`).

Schemas are compiled while the policy loads, so an invalid one is a load error naming
file, line and field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from guard.checks._schema_validators import JsonSchemaValidator, SchemaInvalid
from guard.checks.base import CheckConfig


class SchemaConfig(CheckConfig):
    """Policy entry of the ``schema`` check."""

    check: Literal["schema"]
    #: ``reask`` repeats the call with the problems as feedback (``block`` when the
    #: policy's ``max_reasks`` are used up); ``warn`` only records.
    action: Literal["block", "warn", "reask"] = "block"
    #: Validate against the request's own ``response_format`` and declared tools.
    from_request: bool = False
    #: An inline JSON Schema (draft 2020-12 unless ``$schema`` names draft 7).
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    #: A JSON file holding the schema (relative to the policy file it is written in;
    #: a policy given as data: the working directory).
    schema_file: str | None = None
    repair: tuple[Literal["strip_fences", "extract_json"], ...] = ("strip_fences", "extract_json")
    #: ``additionalProperties: false`` wherever an object schema leaves it unsaid.
    strict: bool = False
    #: Longest reply text parsed; a longer one is ``schema.too_large``.
    max_chars: int = Field(default=8_000_000, ge=1)

    @field_validator("json_schema")
    @classmethod
    def _compiles(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                JsonSchemaValidator(value)
            except SchemaInvalid as exc:
                raise ValueError(f"not a valid JSON Schema: {exc}") from None
        return value

    @field_validator("schema_file")
    @classmethod
    def _file_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                document = read_schema_file(value)
            except SchemaInvalid as exc:
                raise ValueError(str(exc)) from None  # names the path it looked at
            try:
                JsonSchemaValidator(document)
            except SchemaInvalid as exc:
                raise ValueError(f"'{value}' is not a valid JSON Schema: {exc}") from None
        return value

    @model_validator(mode="after")
    def _has_a_schema(self) -> SchemaConfig:
        if self.json_schema is None and self.schema_file is None and not self.from_request:
            raise ValueError("a schema check needs 'schema', 'schema_file' or 'from_request: true'")
        return self


def read_schema_file(path: str) -> Any:
    """The JSON in ``path``; :class:`SchemaInvalid` naming the file when unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaInvalid(f"file '{path}' not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SchemaInvalid(f"file '{path}' is not readable JSON ({type(exc).__name__})") from None


def anchor_schema_file(entry: dict[str, Any], directory: Path) -> dict[str, Any]:
    """A check ``entry`` with a relative ``schema_file`` joined to ``directory`` (that of
    the file the entry was written in), as ``keywords_file`` is; ``entry`` itself is
    returned when nothing changes."""
    path = entry.get("schema_file")
    if not isinstance(path, str) or Path(path).is_absolute():
        return entry
    return {**entry, "schema_file": str(directory / path)}
