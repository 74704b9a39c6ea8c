"""YAML loading that remembers line numbers, so errors can name file, line and field."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from guard._yaml_keys import is_union_member, unknown_key_message, unknown_tag_message
from guard._yaml_types import value_message
from guard.errors import PolicyError


class FieldValueError(ValueError):
    """A validator's ``ValueError`` that knows which field it is about: ``loc`` (keys and
    indices below the validated model) lets the error name that field's file and line."""

    def __init__(self, message: str, loc: tuple[int | str, ...]) -> None:
        super().__init__(message)
        self.loc = loc


def error_loc(error: Any) -> tuple[int | str, ...]:
    """A pydantic error's location, extended by a :class:`FieldValueError`'s own."""
    raised = (error.get("ctx") or {}).get("error")
    return tuple(error["loc"]) + (raised.loc if isinstance(raised, FieldValueError) else ())


def load_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text into plain data plus its node tree (for line look-ups)."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "malformed YAML"
        raise PolicyError(f"YAML syntax error: {problem}", file=source, line=line) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"YAML error: {type(exc).__name__}", file=source) from None
    _refuse_repeated_keys(node, source)
    return data, node


def policy_mapping(data: Any, source: str) -> dict[str, Any]:
    """The top level of a policy document, which must be a mapping. An empty document
    (nothing, only comments, or ``null``) is refused: loaded as "no checks", a file
    emptied by accident would let every call through unchecked without a word."""
    if data is None:
        raise PolicyError(
            "the file is empty (or holds only comments or null), so it would check nothing: "
            "write the policy's checks, or 'input: []' to ask for no checks on purpose",
            file=source,
        )
    if not isinstance(data, dict):
        raise PolicyError("the top level must be a mapping of policy fields", file=source, line=1)
    return data


def _refuse_repeated_keys(root: yaml.Node | None, source: str) -> None:
    """A key written twice in one mapping is an error: YAML keeps the last value without
    a word, so a second ``input:`` would silently drop every check of the first."""
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    line = key.start_mark.line + 1
                    if key.value in seen:
                        message = (
                            f"'{key.value}' is written twice (lines {seen[key.value]} and "
                            f"{line}) in one mapping; keep one"
                        )
                        raise PolicyError(message, file=source, line=line)
                    seen[key.value] = line
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def follow(node: yaml.Node | None, loc: tuple[int | str, ...]) -> tuple[int | None, str]:
    """Follow a pydantic error location through the node tree.

    Returns the line of the deepest node reached and the dotted field name. Location
    parts that are not keys of the document (pydantic adds the tag of a discriminated
    union, e.g. ``rules`` in ``input.0.rules.rules``) are skipped, except a last part
    that names a missing field.
    """
    line = node.start_mark.line + 1 if node is not None else None
    kept: list[int | str] = []
    for number, part in enumerate(loc):
        child: yaml.Node | None = None
        key: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            key, child = next(
                ((k, v) for k, v in node.value if getattr(k, "value", None) == part), (None, None)
            )
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            if number == len(loc) - 1 and isinstance(part, str):
                kept.append(part)
            continue
        node = child
        kept.append(part)
        # The field named last is shown at its key (a block value starts a line later).
        line = (key if key is not None and number == len(loc) - 1 else node).start_mark.line + 1
    name = ""
    for part in kept:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return line, name


def first_error(exc: ValidationError) -> Any:
    """The error to report: a misspelt key before the "Field required" it also causes
    (the key it was meant to be), else pydantic's first."""
    errors = exc.errors(include_url=False, include_input=False)
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    missing = {tuple(e["loc"][:-1]) for e in errors if e["type"] == "missing"}
    for error in unknown:
        if tuple(error["loc"][:-1]) in missing:
            return error
    return errors[0]


def policy_error(
    exc: ValidationError,
    source: str,
    node: yaml.Node | None,
    model: type[BaseModel] | None = None,
) -> PolicyError:
    """Turn a pydantic error into a one-paragraph :class:`PolicyError`. With the
    validated ``model``, a misspelt key is told the key it most likely meant."""
    errors = exc.errors(include_url=False, include_input=False)
    first = first_error(exc)
    loc = error_loc(first)
    message = str(first["msg"]).removeprefix("Value error, ")
    # The same error with what was written: only its kind (or a number) reaches the text.
    written = exc.errors(include_url=False)
    index = errors.index(first)
    siblings = [
        e
        for i, e in enumerate(written)
        if i != index and len(e["loc"]) == len(loc) and tuple(e["loc"][:-1]) == loc[:-1]
    ]
    if model is None or not is_union_member(model, loc):
        siblings = []
    worded = (
        None
        if first["type"] == "extra_forbidden"
        else value_message(model, written[index], siblings)
    )
    if worded is not None:
        loc, message = worded
        errors = errors[len(siblings) :]  # a union's members failed as one error
    elif first["type"] == "extra_forbidden":
        message = unknown_key_message(model, loc)
    elif first["type"] == "union_tag_invalid":
        # With several check types the entry is a union told apart by ``check``: name
        # that field, what was written and the values it may take.
        context = first.get("ctx") or {}
        loc += (str(context.get("discriminator", "'check'")).strip("'"),)
        message = unknown_tag_message(loc[-1], context)
    line, field = follow(node, loc)
    more = f" ({len(errors) - 1} more error(s) after this one)" if len(errors) > 1 else ""
    return PolicyError(f"{message}{more}.", file=source, line=line, field=field or None)
