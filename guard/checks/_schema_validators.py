"""Compiled validators for the schema check: JSON Schema (drafts 2020-12 and 7) and
pydantic models, both reporting :class:`Problem` objects that never quote the document.

JSON Schemas are compiled once with ``jsonschema-rs`` (about 5 µs for a 2 KB document
against a 30-property schema, a hundred times faster than ``jsonschema``), format
checking on. Policy schemas compile when the policy loads; schemas that arrive with
requests (``response_format``, tool parameters) are cached by content hash in a bounded
LRU, so a client sending the same schema on every call compiles it once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

import jsonschema_rs
from pydantic import BaseModel, ValidationError

#: Problems reported per document at most (a 5 MB document may break a rule 100,000 times).
MAX_PROBLEMS = 20
#: Compiled request schemas kept (by content hash).
CACHE_SIZE = 256
#: Deepest schema accepted (``strict`` walks it; a deeper one is refused as invalid).
_MAX_SCHEMA_DEPTH = 128
_DRAFT7 = ("draft-07", "draft-06", "draft-04")


@dataclass(frozen=True, slots=True)
class Problem:
    """One way a document breaks its schema: the validator keyword, where, and a short
    message built from the schema (never from the document's values)."""

    keyword: str
    pointer: str
    message: str


class SchemaInvalid(ValueError):
    """A schema that cannot be compiled; the message says where and why."""


class Validator(Protocol):
    """Anything that lists the problems of a parsed JSON value."""

    def problems(self, value: Any, *, every: bool = True) -> list[Problem]:
        """At most :data:`MAX_PROBLEMS` problems of ``value`` (only the first unless
        ``every``); empty when valid."""
        ...


#: Longest pointer shown: a long path is cut.
MAX_POINTER = 120


def pointer(path: Any, named: frozenset[str] = frozenset()) -> str:
    """A JSON Pointer (RFC 6901) from a list of keys and indices, cut at
    :data:`MAX_POINTER` characters (marked with ``...``). A key the schema does not
    name (``named``) is the document's own text, so it is shown as ``*``."""
    parts = (p if isinstance(p, int) or p in named else "*" for p in path)
    text = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return text if len(text) <= MAX_POINTER else text[: MAX_POINTER - 3] + "..."


def declared_names(schema: Any, depth: int = 0) -> frozenset[str]:
    """Every property name a JSON Schema declares (``properties``, ``required``)."""
    names: set[str] = set()
    if depth > _MAX_SCHEMA_DEPTH:
        return frozenset()
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            names.update(k for k in properties if isinstance(k, str))
        required = schema.get("required")
        if isinstance(required, list):
            names.update(k for k in required if isinstance(k, str))
        for item in schema.values():
            names |= declared_names(item, depth + 1)
    elif isinstance(schema, list):
        for item in schema:
            names |= declared_names(item, depth + 1)
    return frozenset(names)


class JsonSchemaValidator:
    """One compiled JSON Schema."""

    def __init__(self, schema: Any, *, strict: bool = False) -> None:
        if not isinstance(schema, dict | bool):
            raise SchemaInvalid("a schema must be a JSON object (or true/false)")
        if strict and isinstance(schema, dict):
            schema = _closed(schema, 0)
        declared = schema.get("$schema", "") if isinstance(schema, dict) else ""
        draft7 = isinstance(declared, str) and any(d in declared for d in _DRAFT7)
        kind = jsonschema_rs.Draft7Validator if draft7 else jsonschema_rs.Draft202012Validator
        self._named = declared_names(schema)
        try:
            self._compiled = kind(schema, validate_formats=True)
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
            # First line only: the rest of the library's text repeats the schema.
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SchemaInvalid(first[:200]) from None

    def problems(self, value: Any, *, every: bool = True) -> list[Problem]:
        """Problems of ``value`` (a fast ``is_valid`` first: valid documents are common).

        ``iter_errors`` collects every error before yielding the first (a second for a
        5 MB document breaking one rule 100,000 times), so big documents get the first.
        """
        if self._compiled.is_valid(value):
            return []
        if not every:
            try:
                self._compiled.validate(value)
            except jsonschema_rs.ValidationError as error:
                return [_problem(error, self._named)]
            return []
        errors = islice(self._compiled.iter_errors(value), MAX_PROBLEMS)
        return [_problem(e, self._named) for e in errors]


def _problem(error: Any, named: frozenset[str]) -> Problem:
    kind = error.kind
    keyword: str = getattr(kind, "name", "") or "invalid"
    at = pointer(error.instance_path, named)
    if keyword == "required":
        message = f"missing required property '{kind.property}'"
    elif keyword == "type":
        message = "expected " + " or ".join(str(t) for t in kind.types)
    elif keyword == "additionalProperties":
        message = f"{len(kind.unexpected)} property(ies) not allowed here"
    elif keyword == "format":
        message = f"not a valid {kind.format}"
    elif keyword in ("enum", "const"):
        message = "not one of the allowed values"
    else:
        message = f"fails '{keyword}'"
    return Problem(keyword, at, message)


def _closed(schema: dict[str, Any], depth: int) -> dict[str, Any]:
    """``schema`` with ``additionalProperties: false`` wherever objects leave it unsaid."""
    if depth > _MAX_SCHEMA_DEPTH:
        raise SchemaInvalid(f"the schema is nested deeper than {_MAX_SCHEMA_DEPTH} levels")
    out: dict[str, Any] = {}
    for key, item in schema.items():
        if isinstance(item, dict):
            out[key] = _closed(item, depth + 1)
        elif isinstance(item, list):
            out[key] = [_closed(i, depth + 1) if isinstance(i, dict) else i for i in item]
        else:
            out[key] = item
    if ("properties" in out or out.get("type") == "object") and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


#: pydantic's error types by the JSON Schema keyword a dict schema's failure is named
#: by, so a model and its dict schema give the same finding kinds (and metric labels).
_KEYWORD_OF_PYDANTIC_TYPE = {
    "missing": "required",
    "extra_forbidden": "additionalProperties",
    "literal_error": "enum",
    "enum": "enum",
    "string_pattern_mismatch": "pattern",
    "string_too_short": "minLength",
    "string_too_long": "maxLength",
    "too_short": "minItems",
    "too_long": "maxItems",
    "greater_than": "exclusiveMinimum",
    "greater_than_equal": "minimum",
    "less_than": "exclusiveMaximum",
    "less_than_equal": "maximum",
    "multiple_of": "multipleOf",
    "int_from_float": "type",
}


def _keyword_of(pydantic_type: str) -> str:
    """The JSON Schema keyword for a pydantic error type (else the type itself)."""
    if pydantic_type.endswith(("_type", "_parsing")):
        return "type"
    return _KEYWORD_OF_PYDANTIC_TYPE.get(pydantic_type, pydantic_type)


class PydanticValidator:
    """A pydantic model as a validator (its own validators and coercions included)."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        try:
            self._named = declared_names(model.model_json_schema())
        except Exception:  # a model pydantic cannot describe: every key shows as ``*``
            self._named = frozenset()

    def problems(self, value: Any, *, every: bool = True) -> list[Problem]:
        """Problems of ``value`` per pydantic; messages are pydantic's (no input echoed)."""
        try:
            self.model.model_validate(value)
        except ValidationError as exc:
            return [
                Problem(
                    _keyword_of(str(e["type"])), pointer(e["loc"], self._named), str(e["msg"])[:200]
                )
                for e in exc.errors(include_url=False, include_input=False)[:MAX_PROBLEMS]
            ]
        return []


class ValidatorCache:
    """Compiled request schemas by content hash, least recently used dropped first."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[str, JsonSchemaValidator | SchemaInvalid] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, schema: Any, *, strict: bool) -> JsonSchemaValidator:
        """The compiled ``schema``; raises :class:`SchemaInvalid` (also cached)."""
        try:
            text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            raise SchemaInvalid("the schema is not plain JSON") from None
        key = hashlib.sha256(f"{int(strict)}{text}".encode()).hexdigest()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
        if found is None:
            try:
                found = JsonSchemaValidator(schema, strict=strict)
            except SchemaInvalid as exc:
                found = exc
            with self._lock:
                self._entries[key] = found
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        if isinstance(found, SchemaInvalid):
            raise found
        return found

    def __len__(self) -> int:
        return len(self._entries)
