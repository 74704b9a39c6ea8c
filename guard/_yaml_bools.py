"""A boolean written where a number is expected, found before pydantic reads it.

pydantic's lax mode reads ``true`` as 1 and ``false`` as 0 for an integer or number
field: ``max_reasks: true`` loaded as one reask, ``threshold: false`` as 0.0 (every
finding above it). :func:`bool_as_number` walks a document along a model's annotations
(nested models, lists, mappings, a union of check entries told apart by their tag) and
finds the first boolean at a field that takes numbers but not booleans, for every model
at once (no field needs its own validator).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from guard._yaml import follow
from guard._yaml_keys import _members
from guard._yaml_types import value_message
from guard.errors import PolicyError

Loc = tuple[int | str, ...]


def bool_error(
    model: type[BaseModel], data: Any, file_of: Callable[[Loc], str], node: Any
) -> PolicyError | None:
    """The :class:`PolicyError` of the first boolean ``model`` would read as a number
    (``'max_reasks' must be a whole number between 0 and 5, got a boolean (true)``),
    with the file and line it was written at; ``None`` when there is none."""
    found = bool_as_number(model, data)
    if found is None:
        return None
    loc, kind = found
    worded = value_message(model, {"type": kind, "loc": loc, "input": _at(data, loc)}, [])
    assert worded is not None  # a number type always has words
    line, field = follow(node, loc)
    return PolicyError(f"{worded[1]}.", file=file_of(loc), line=line, field=field or None)


def _at(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def bool_as_number(model: type[BaseModel], data: Any) -> tuple[Loc, str] | None:
    """The location of the first boolean in ``data`` that ``model`` would read as a
    number, and the pydantic error type it stands for (``int_type``, ``float_type``)."""
    return _walk(model, data, ())


def _walk(annotation: Any, value: Any, loc: Loc) -> tuple[Loc, str] | None:
    members = _members(annotation)
    if isinstance(value, bool):
        if bool in members or Any in members or object in members:
            return None
        if int in members and float not in members:
            return loc, "int_type"
        return (loc, "float_type") if int in members or float in members else None
    if isinstance(value, dict):
        for member in _models(members, value):
            found = _fields(member, value, loc)
            if found is not None:
                return found
        for member in members:
            if typing.get_origin(member) in (dict, Mapping):
                arguments = typing.get_args(member)
                for key, item in value.items():
                    found = _walk(arguments[1] if len(arguments) == 2 else Any, item, (*loc, key))
                    if found is not None:
                        return found
        return None
    if isinstance(value, list):
        for member in members:
            if typing.get_origin(member) in (list, tuple, set, frozenset, Sequence):
                arguments = typing.get_args(member)
                for i, item in enumerate(value):
                    found = _walk(arguments[0] if arguments else Any, item, (*loc, i))
                    if found is not None:
                        return found
    return None


def _models(members: list[Any], value: dict[Any, Any]) -> list[type[BaseModel]]:
    """The models among ``members`` that may read ``value``: those whose tag field
    (``check: pii``) matches, when one does."""
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(models) < 2:
        return models
    tagged = [m for m in models if _tag_matches(m, value)]
    return tagged or models


def _tag_matches(model: type[BaseModel], value: dict[Any, Any]) -> bool:
    """Whether ``value`` names ``model`` by a tag: a field of one literal value."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if (
            typing.get_origin(annotation) is typing.Literal
            and len(typing.get_args(annotation)) == 1
        ):
            key = info.alias or name
            if key in value and value[key] == typing.get_args(annotation)[0]:
                return True
    return False


def _fields(model: type[BaseModel], value: dict[Any, Any], loc: Loc) -> tuple[Loc, str] | None:
    fields = {info.alias or name: info for name, info in model.model_fields.items()}
    fields.update({name: info for name, info in model.model_fields.items()})
    for key, item in value.items():
        info = fields.get(key)
        if info is not None:
            found = _walk(info.annotation, item, (*loc, key))
            if found is not None:
                return found
    return None
