"""Readable words for a value of the wrong type or out of range in a YAML file.

pydantic says "Input should be a valid number, unable to parse string as a number". This
says ``'threshold' must be a number between 0 and 1, got text``: the key, the type the
field takes (with its bounds, read from the model) and the kind of value written. A
written string is never quoted (a policy or config may hold a key where a number was
meant); a number is, when a number was expected.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from guard._yaml_keys import field_at

#: What a field of each pydantic type error takes.
_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_RANGES = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")
_NUMBERS = ("a whole number", "a number", "a finite number")


def value_message(
    model: type[BaseModel] | None, error: Any, siblings: Sequence[Any]
) -> tuple[tuple[int | str, ...], str] | None:
    """The location and message (no trailing stop) for a wrong type, an out-of-range
    number or a value not among a field's choices; ``None`` for other errors.
    ``siblings`` are the other errors at the same field: a field that takes one of
    several types (``text or a list``) fails once per type, under a tag pydantic adds
    to the location."""
    kind, loc = error["type"], tuple(error["loc"])
    if kind in _EXPECTED and siblings:
        union = [error, *siblings]
        if all(e["type"] in _EXPECTED for e in union):
            loc = loc[:-1]  # the union member's tag is no key of the document
            expected = " or ".join(dict.fromkeys(_EXPECTED[e["type"]] for e in union))
            return loc, f"{_key(loc)} must be {expected}, got {_found(error.get('input'))}"
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
        if expected in _NUMBERS:
            expected = _number(model, loc, expected, error)
        return loc, f"{_key(loc)} must be {expected}, got {_found(error.get('input'), expected)}"
    if kind in _RANGES:
        expected = _number(model, loc, "a number", error)
        return loc, f"{_key(loc)} must be {expected}, got {_found(error.get('input'), expected)}"
    if kind in ("literal_error", "enum"):
        return loc, _choice(loc, error)
    return None


def _key(loc: tuple[int | str, ...]) -> str:
    """The key a location ends at, quoted (``'threshold'``, ``'input[0]'``)."""
    tail: list[str] = []
    for part in reversed(loc):
        if isinstance(part, int):
            tail.insert(0, f"[{part}]")
            continue
        tail.insert(0, part)
        break
    return "'" + "".join(tail) + "'"


def _found(value: Any, expected: str = "") -> str:
    """What was written, by kind; a number is shown where a number was expected."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        # A boolean is no number (pydantic's lax mode would read true as 1): say which.
        return (
            f"a boolean ({str(value).lower()})" if expected.startswith(_NUMBERS) else "true/false"
        )
    if isinstance(value, int | float):
        text = _number_text(value)
        return text if expected.startswith(_NUMBERS) and len(text) <= 24 else "a number"
    if isinstance(value, str):
        return "text" if value.strip() else "empty text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a value of another kind"


def _number(
    model: type[BaseModel] | None, loc: tuple[int | str, ...], kind: str, error: Any
) -> str:
    """``a number between 0 and 1``: the field's bounds from the model (else from the
    error), and ``whole`` when the field takes integers only."""
    bounds: dict[str, Any] = {}
    info = field_at(model, loc) if model is not None else None
    if info is not None:
        for item in info.metadata:
            for name in ("ge", "gt", "le", "lt"):
                if getattr(item, name, None) is not None:
                    bounds[name] = getattr(item, name)
        if _takes_integers_only(info.annotation):
            kind = "a whole number"
    else:
        bounds = {
            k: v for k, v in (error.get("ctx") or {}).items() if k in ("ge", "gt", "le", "lt")
        }
    low = (
        ("ge", bounds["ge"]) if "ge" in bounds else ("gt", bounds["gt"]) if "gt" in bounds else None
    )
    high = (
        ("le", bounds["le"]) if "le" in bounds else ("lt", bounds["lt"]) if "lt" in bounds else None
    )
    if low and high and low[0] == "ge" and high[0] == "le":
        return f"{kind} between {_number_text(low[1])} and {_number_text(high[1])}"
    words = []
    if low:
        bound = _number_text(low[1])
        words.append(f"{bound} or more" if low[0] == "ge" else f"above {bound}")
    if high:
        bound = _number_text(high[1])
        words.append(f"{bound} or less" if high[0] == "le" else f"below {bound}")
    return f"{kind} {' and '.join(words)}" if words else kind


def _number_text(value: float) -> str:
    """``1048576``, ``0.5``, ``1e+30``: short, never cut to a rounded value."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g") if isinstance(value, float) else str(value)


def _takes_integers_only(annotation: Any) -> bool:
    members = typing.get_args(annotation) or (annotation,)
    numeric = [m for m in members if m in (int, float)]
    return numeric == [int]


def _choice(loc: tuple[int | str, ...], error: Any) -> str:
    """``'mode' must be 'enforce' or 'shadow'`` and the closest choice, never the value
    written (it may be anything, a secret included)."""
    expected = str((error.get("ctx") or {}).get("expected", "")).strip()
    message = f"{_key(loc)} must be {expected}" if expected else f"{_key(loc)} has no allowed value"
    written = error.get("input")
    if not isinstance(written, str):
        return f"{message}, got {_found(written)}"
    choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",")]
    close = difflib.get_close_matches(written, [c for c in choices if c], n=1, cutoff=0.6)
    return f"{message} (did you mean '{close[0]}'?)" if close else message
