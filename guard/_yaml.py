"""YAML loading that remembers line numbers, so errors can name file, line and field."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from guard.errors import PolicyError


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
    return data, node


def _follow(node: yaml.Node | None, loc: tuple[int | str, ...]) -> tuple[int | None, str]:
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
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            if number == len(loc) - 1 and isinstance(part, str):
                kept.append(part)
            continue
        node = child
        kept.append(part)
        line = node.start_mark.line + 1
    name = ""
    for part in kept:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return line, name


def policy_error(exc: ValidationError, source: str, node: yaml.Node | None) -> PolicyError:
    """Turn a pydantic error into a one-paragraph :class:`PolicyError`."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    loc = tuple(first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "union_tag_invalid":
        # With several check types the entry is a union told apart by ``check``: name
        # that field and the values it may take, as for a single type.
        context = first.get("ctx") or {}
        loc += (str(context.get("discriminator", "'check'")).strip("'"),)
        expected = str(context.get("expected_tags", "")).replace("', '", "' or '")
        message = f"Input should be {expected}"
    line, field = _follow(node, loc)
    more = f" ({len(errors) - 1} more error(s) after this one)" if len(errors) > 1 else ""
    return PolicyError(f"{message}{more}.", file=source, line=line, field=field or None)
