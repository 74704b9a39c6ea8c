"""Readable words for a misspelt key or an unknown check type in a YAML file.

pydantic says "Extra inputs are not permitted": true, but it neither says the key is
unknown nor which key was meant. This walks the validated model along the error's
location to the keys allowed there and suggests the closest one.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

#: A suggestion must be at least this similar (difflib's ratio) to be offered.
_CUTOFF = 0.6
#: Allowed keys are listed when no one is close and there are at most this many.
_MOST_LISTED = 16


def unknown_key_message(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> str:
    """``unknown key 'x': did you mean 'y'? Rename or remove it`` (no trailing stop)."""
    key = str(loc[-1])
    allowed = sorted(_keys_at(model, loc[:-1])) if model is not None else []
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=_CUTOFF)
    if close:
        return f"unknown key '{key}': did you mean '{close[0]}'? Rename or remove it"
    if allowed and len(allowed) <= _MOST_LISTED:
        listed = ", ".join(allowed)
        return f"unknown key '{key}': remove it (keys allowed here: {listed})"
    return f"unknown key '{key}': remove it or correct its spelling"


def unknown_tag_message(field: int | str, context: Mapping[str, Any]) -> str:
    """``unknown check 'rulez': use one of 'rules', 'pii' ... (did you mean 'rules'?)``."""
    written = str(context.get("tag", ""))
    expected = [t.strip().strip("'") for t in str(context.get("expected_tags", "")).split(",")]
    expected = [t for t in expected if t]
    listed = ", ".join(f"'{t}'" for t in expected)
    close = difflib.get_close_matches(written, expected, n=1, cutoff=_CUTOFF)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {field} '{written}': use one of {listed}{hint}"


def _keys_at(model: type[BaseModel], path: tuple[int | str, ...]) -> set[str]:
    """The keys the model allows at ``path`` (a pydantic location without its last
    part). A part may also be a discriminated union's tag, which pydantic inserts into
    locations, so every reading is followed and those that lead nowhere drop out."""
    candidates: list[Any] = [model]
    for part in path:
        following: list[Any] = []
        for annotation in candidates:
            for member in _members(annotation):
                following += _step(member, part)
        candidates = following
    keys: set[str] = set()
    for annotation in candidates:
        for member in _members(annotation):
            if isinstance(member, type) and issubclass(member, BaseModel):
                for name, info in member.model_fields.items():
                    keys.add(info.alias or name)
    return keys


def field_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> FieldInfo | None:
    """The model field a pydantic error's location ends at (``None`` when it ends at no
    field, e.g. a list item): its annotation and constraints."""
    if not loc or not isinstance(loc[-1], str):
        return None
    candidates: list[Any] = [model]
    for part in loc[:-1]:
        candidates = [led for a in candidates for m in _members(a) for led in _step(m, part)]
    for annotation in candidates:
        for member in _members(annotation):
            if isinstance(member, type) and issubclass(member, BaseModel):
                for name, info in member.model_fields.items():
                    if loc[-1] in (name, info.alias):
                        return info
    return None


def is_union_member(model: type[BaseModel], loc: tuple[int | str, ...]) -> bool:
    """True when a location's last part is the tag pydantic adds for one member of a
    field that takes several types (``keywords_file`` → ``str``), not a key."""
    return len(loc) > 1 and field_at(model, loc) is None and field_at(model, loc[:-1]) is not None


def _step(member: Any, part: int | str) -> list[Any]:
    """Where location ``part`` leads from the concrete type ``member``."""
    origin = typing.get_origin(member)
    arguments = typing.get_args(member)
    if isinstance(member, type) and issubclass(member, BaseModel):
        if not isinstance(part, str):
            return []
        led: list[Any] = []
        for name, info in member.model_fields.items():
            if part in (name, info.alias):
                led.append(info.annotation)
            elif part in _literals(info.annotation):
                led.append(member)  # the union's tag: the location stays on this model
        return led
    if isinstance(part, int) and origin in (list, tuple, set, frozenset, Sequence):
        return list(arguments[:1])
    if isinstance(part, str) and origin in (dict, Mapping) and len(arguments) == 2:
        return [arguments[1]]
    return []


def _members(annotation: Any) -> list[Any]:
    """The concrete types an annotation stands for (``Annotated`` and unions opened)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for argument in typing.get_args(annotation) for m in _members(argument)]
    return [annotation]


def _literals(annotation: Any) -> tuple[Any, ...]:
    """The values of a ``Literal`` annotation (empty for other annotations)."""
    members = _members(annotation)
    values: tuple[Any, ...] = ()
    for member in members:
        if typing.get_origin(member) is typing.Literal:
            values += typing.get_args(member)
    return values
