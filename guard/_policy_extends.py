"""``extends:``: a policy built on another one (a shipped pack or a file), with overrides.

The base is resolved first (it may extend a third policy), then the child's keys are laid
over it:

- ``input``, ``output`` and ``budgets`` are merged entry by entry, matched by ``name``
  (a check entry without ``name`` is matched by its ``check`` type, as check names are).
  A child entry with a base entry of the same name replaces that entry's keys it sets and
  keeps the others (an entry of another ``check`` type replaces it whole); it stays at
  the base entry's position. ``enabled: false`` removes the base entry. Entries with new
  names are appended.
- ``stream`` is merged key by key; every other key replaces the base's value.

Merging happens on plain data before validation, so the merged policy is validated as
one. Errors still name the file and line the offending value came from, because the
merged document keeps the YAML nodes of where each entry was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from guard._yaml import load_yaml, policy_mapping
from guard.errors import PolicyError

#: Keys whose entries are merged by name.
_LISTS = ("input", "output", "budgets")
#: Keys whose mapping is merged key by key.
_MAPPINGS = ("stream",)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: Bases deeper than this are refused (a chain this long is a mistake, not a design).
MAX_DEPTH = 8


@dataclass
class Resolved:
    """A policy document with its bases applied."""

    data: dict[str, Any]
    #: A node tree mirroring ``data`` whose leaves are the nodes the values came from.
    node: yaml.MappingNode | None
    #: Which file each top-level key, and each entry of the merged lists, came from.
    key_files: dict[str, str] = field(default_factory=dict)
    entry_files: dict[str, list[str]] = field(default_factory=dict)
    #: Every file read, the policy's own first (what a reload watches).
    files: list[str] = field(default_factory=list)

    def file_of(self, loc: tuple[int | str, ...], default: str) -> str:
        """The file the value at a validation error's location was written in."""
        if not loc:
            return default
        key = str(loc[0])
        if key in self.entry_files and len(loc) > 1 and isinstance(loc[1], int):
            files = self.entry_files[key]
            if loc[1] < len(files):
                return files[loc[1]]
        return self.key_files.get(key, default)


def resolve(
    data: dict[str, Any],
    node: yaml.Node | None,
    source: str,
    chain: tuple[str, ...] = (),
) -> Resolved:
    """Apply ``data``'s ``extends`` (recursively); ``data`` itself is not changed."""
    own = _own(data, node, source)
    if "extends" not in data:
        return own
    own.data.pop("extends", None)
    line = _line_of(node, "extends")
    target = data["extends"]
    if not isinstance(target, str) or not target.strip():
        raise PolicyError(
            "'extends' must name a shipped pack (default, strict, rag, agents) or a policy "
            "file path",
            file=source,
            line=line,
            field="extends",
        )
    base_path = locate_base(target.strip(), source, line)
    key = str(base_path.resolve())
    chain = chain or (str(Path(source).resolve()),)
    if key in chain:
        names = " -> ".join(Path(p).name for p in (*chain, key))
        raise PolicyError(
            f"'extends' makes a cycle ({names}): remove one of the links",
            file=source,
            line=line,
            field="extends",
        )
    if len(chain) >= MAX_DEPTH:
        raise PolicyError(
            f"'extends' chains more than {MAX_DEPTH} policies: flatten the chain",
            file=source,
            line=line,
            field="extends",
        )
    base = _load_base(base_path, (*chain, key))
    merged = _merge(base, own, source)
    if "name" not in data:
        # Not the base's name: two different policies under one name would look like
        # replicas running diverging versions of it.
        stem = Path(source).stem
        if not source.startswith("<") and _NAME.fullmatch(stem):
            merged.data["name"] = stem
    return merged


def locate_base(target: str, source: str, line: int | None) -> Path:
    """The file ``extends: target`` names: a path (relative to the policy's own file)
    when it has a directory part or a YAML suffix, otherwise a shipped pack name."""
    from guard.policy import data_path

    looks_like_path = "/" in target or "\\" in target or target.endswith((".yaml", ".yml"))
    if looks_like_path:
        path = Path(target)
        if not path.is_absolute() and not source.startswith("<"):
            path = Path(source).parent / path
        if path.is_file():
            return path
        raise PolicyError(
            f"'extends' names the file {target!r}, which does not exist (paths are relative "
            "to the policy file)",
            file=source,
            line=line,
            field="extends",
        )
    try:
        return data_path("rules", f"{target}.yaml")
    except FileNotFoundError:
        raise PolicyError(
            f"'extends' names no shipped pack {target!r} (default, strict, rag, agents); "
            "write a file path such as './base.yaml' for a file",
            file=source,
            line=line,
            field="extends",
        ) from None


def _load_base(path: Path, chain: tuple[str, ...]) -> Resolved:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise PolicyError("cannot read this base policy file as UTF-8", file=source) from None
    data, node = load_yaml(text, source)
    data = policy_mapping(data, source)
    # A base is validated on its own first, so its errors name its own file and line.
    from guard.policy import Policy

    resolved = resolve(data, node, source, chain)
    Policy.validate_resolved(resolved, source)
    return resolved


def _own(data: dict[str, Any], node: yaml.Node | None, source: str) -> Resolved:
    files = {key: source for key in data}
    entries = {key: [source] * len(data[key]) for key in _LISTS if isinstance(data.get(key), list)}
    mapping = node if isinstance(node, yaml.MappingNode) else None
    return Resolved(dict(data), mapping, files, entries, [source])


def _merge(base: Resolved, child: Resolved, source: str) -> Resolved:
    data = dict(base.data)
    nodes = _children(base.node)
    child_nodes = _children(child.node)
    key_files = dict(base.key_files)
    entry_files = {key: list(files) for key, files in base.entry_files.items()}
    for key, value in child.data.items():
        if key in _LISTS and isinstance(value, list) and isinstance(data.get(key), list):
            merged, merged_nodes, files = _merge_entries(
                key,
                data[key],
                _items(nodes.get(key)),
                entry_files.get(key, []),
                value,
                _items(child_nodes.get(key)),
                source,
            )
            data[key] = merged
            nodes[key] = _synthetic(yaml.SequenceNode, merged_nodes, child_nodes.get(key))
            entry_files[key] = files
        elif key in _MAPPINGS and isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
            nodes[key] = child_nodes.get(key) or nodes.get(key)
        else:
            data[key] = value
            nodes[key] = child_nodes.get(key)
            entry_files.pop(key, None)
            if key in _LISTS and isinstance(value, list):
                entry_files[key] = [source] * len(value)
        key_files[key] = source
    root = _synthetic(
        yaml.MappingNode,
        [(yaml.ScalarNode("tag:yaml.org,2002:str", k), n) for k, n in nodes.items() if n],
        child.node or base.node,
    )
    return Resolved(data, root, key_files, entry_files, [*child.files, *base.files])


def _merge_entries(
    stage: str,
    base: list[Any],
    base_nodes: list[yaml.Node | None],
    base_files: list[str],
    overrides: list[Any],
    override_nodes: list[yaml.Node | None],
    source: str,
) -> tuple[list[Any], list[yaml.Node], list[str]]:
    entries: list[Any] = list(base)
    nodes: list[yaml.Node | None] = _padded(base_nodes, len(base))
    files: list[str] = _padded_files(base_files, len(base), source)
    removed: set[int] = set()
    for entry, node in zip(overrides, _padded(override_nodes, len(overrides)), strict=True):
        if not isinstance(entry, dict):
            entries.append(entry)  # validation names what is wrong with it
            nodes.append(node)
            files.append(source)
            continue
        entry = dict(entry)
        enabled = entry.pop("enabled", True)
        name = _entry_name(entry)
        index = next(
            (i for i, e in enumerate(entries) if i not in removed and _entry_name(e) == name),
            None,
        )
        line = node.start_mark.line + 1 if node is not None else None
        if enabled is not True and enabled is not False:
            raise PolicyError(
                "'enabled' must be true or false", file=source, line=line, field=f"{stage}.enabled"
            )
        if index is None:
            if not enabled:
                raise PolicyError(
                    f"'enabled: false' on {stage} entry {name!r}, but the base policy has no "
                    f"{stage} entry of that name: check the spelling",
                    file=source,
                    line=line,
                    field=stage,
                )
            entries.append(entry)
            nodes.append(node)
            files.append(source)
        elif not enabled:
            removed.add(index)
        else:
            previous = entries[index]
            same_type = isinstance(previous, dict) and previous.get("check") == entry.get(
                "check", previous.get("check")
            )
            entries[index] = {**previous, **entry} if same_type else entry
            nodes[index] = node
            files[index] = source
    kept = [i for i in range(len(entries)) if i not in removed]
    empty = _synthetic(yaml.MappingNode, [], None)
    return (
        [entries[i] for i in kept],
        [nodes[i] or empty for i in kept],
        [files[i] for i in kept],
    )


def _synthetic(kind: Any, value: list[Any], like: yaml.Node | None) -> Any:
    """A node of the merged document; its line is that of ``like`` (where it was written)."""
    tag = "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"
    mark = like.start_mark if like is not None else yaml.Mark("<merged>", 0, 0, 0, None, 0)
    return kind(tag, value, start_mark=mark, end_mark=mark)


def _entry_name(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    name = entry.get("name") or entry.get("check")
    return str(name) if name is not None else None


def _children(node: yaml.Node | None) -> dict[str, yaml.Node | None]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(getattr(k, "value", "")): v for k, v in node.value}


def _items(node: yaml.Node | None) -> list[yaml.Node | None]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _padded(nodes: list[yaml.Node | None], length: int) -> list[yaml.Node | None]:
    return (nodes + [None] * length)[:length]


def _padded_files(files: list[str], length: int, default: str) -> list[str]:
    return (files + [default] * length)[:length]


def _line_of(node: yaml.Node | None, key: str) -> int | None:
    value = _children(node).get(key)
    if value is not None:
        return value.start_mark.line + 1
    return node.start_mark.line + 1 if node is not None else None
