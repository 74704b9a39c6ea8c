"""``keywords_file:`` — a rule's keyword list kept in text files next to the policy.

A rules entry may say ``{name: deny, keywords_file: denylist.txt}`` (or a list of files):
one term per line, blank lines and lines starting with ``#`` skipped. A relative path is
relative to the policy file the rule is written in (a base policy's rule: the base's
file), or to the working directory for a policy given as data. The terms join the rule's
``keywords``; the files are read when the policy loads (and a hot reload watches them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def anchor_keyword_files(entry: dict[str, Any], directory: Path) -> dict[str, Any]:
    """A check ``entry`` with every relative ``keywords_file`` path of its rules joined
    to ``directory`` (that of the file the entry was written in); ``entry`` itself is
    returned when nothing changes."""
    rules = entry.get("rules")
    if not isinstance(rules, list) or not any(_names_files(r) for r in rules):
        return entry
    return {**entry, "rules": [_anchor(r, directory) if _names_files(r) else r for r in rules]}


def _names_files(rule: object) -> bool:
    return isinstance(rule, dict) and rule.get("keywords_file") is not None


def _anchor(rule: dict[str, Any], directory: Path) -> dict[str, Any]:
    paths = rule["keywords_file"]
    if not isinstance(paths, str | list):
        return rule
    listed = [paths] if isinstance(paths, str) else paths
    joined = [
        str(directory / path) if isinstance(path, str) and not Path(path).is_absolute() else path
        for path in listed
    ]
    return {**rule, "keywords_file": joined[0] if isinstance(paths, str) else joined}


def read_keyword_file(path: str, blank: Callable[[str], bool]) -> list[str]:
    """The terms of one keyword file. Raises ``ValueError`` naming the file (and line)
    when it cannot be read, is not UTF-8, has a term that is ``blank`` once folded
    (invisible characters only) or lists no term."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ValueError(
            f"keywords_file '{path}' does not exist (a relative path is relative to the"
            " policy file)"
        ) from None
    except OSError as exc:
        raise ValueError(f"keywords_file '{path}' cannot be read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"keywords_file '{path}', line {line}: not valid UTF-8; save the file as UTF-8"
        ) from None
    terms: list[str] = []
    for number, written in enumerate(text.splitlines(), start=1):
        term = written.strip()
        if not term or term.startswith("#"):
            continue
        if blank(term):
            raise ValueError(
                f"keywords_file '{path}', line {number}: the term has only invisible or"
                " control characters; remove the line"
            )
        terms.append(term)
    if not terms:
        raise ValueError(f"keywords_file '{path}' lists no term (one term per line)")
    return terms


def with_file_keywords(data: object, blank: Callable[[str], bool]) -> object:
    """A rule's raw data with the terms of its ``keywords_file`` appended to its
    ``keywords`` (malformed values are left for the fields' own validation)."""
    if not isinstance(data, dict) or data.get("keywords_file") is None:
        return data
    paths = data["keywords_file"]
    listed = [paths] if isinstance(paths, str) else paths
    keywords = data.get("keywords") or []
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        return data
    if not isinstance(keywords, list):
        return data
    name = data.get("name", "?")
    if not listed:
        raise ValueError(f"rule '{name}': keywords_file must name at least one file")
    terms = list(keywords)
    try:
        for path in listed:
            terms.extend(read_keyword_file(path, blank))
    except ValueError as exc:
        raise ValueError(f"rule '{name}': {exc}") from None
    return {**data, "keywords": terms}


def keyword_files(entries: list[Any]) -> list[str]:
    """The keyword files the rules of these check entries were read from."""
    files: list[str] = []
    for entry in entries:
        for rule in getattr(entry, "rules", None) or ():
            paths = getattr(rule, "keywords_file", None)
            if paths is not None:
                files.extend([paths] if isinstance(paths, str) else paths)
    return files
