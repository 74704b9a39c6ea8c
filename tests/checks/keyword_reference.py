"""The regex keyword matcher the automaton replaced, kept as the tests' reference.

A trie-shaped Python ``re`` alternation of the terms' atoms (a space matches 1 to
KEYWORD_GAP white-space or control characters; control characters may sit inside a
word), as guard/checks/_keywords.py built it up to the keyword automaton. Exact but
slow to compile (10,000 terms: 35-57 s), so only small term lists run through it.
"""

from __future__ import annotations

import re
from typing import Any

from guard.checks._keywords import KEYWORD_GAP, is_word
from guard.checks._patterns import _prefixes_pattern

_CONTROLS = r"\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
_GAP = rf"[\s{_CONTROLS}]{{1,{KEYWORD_GAP}}}"
_INSIDE = rf"[{_CONTROLS}]{{0,{KEYWORD_GAP}}}"
_NOT_AFTER_WORD = r"(?<!\w[\s\S])"
_END = ""


def atoms(term: str, opening: str = "") -> list[str]:
    out: list[str] = []
    for position, char in enumerate(term):
        if char == " ":
            out.append(_GAP)
            continue
        atom = re.escape(char) + (opening if position == 0 else "")
        following = term[position + 1 : position + 2]
        out.append(atom + _INSIDE if following not in ("", " ") else atom)
    return out


def alternation(terms: dict[str, bool], *, loose_only: bool) -> re.Pattern[str] | None:
    """``terms``: folded term -> whole word."""
    root: dict[str, Any] = {}
    for term, whole in terms.items():
        if loose_only and whole:
            continue
        node = root
        for atom in atoms(term):
            node = node.setdefault(atom, {})
        node.setdefault(_END, r"(?!\w)" if whole else "")
    return re.compile(_render(root)) if root else None


def _render(root: dict[str, Any]) -> str:
    def longest(node: dict[str, Any]) -> int:
        return max((1 + longest(c) for a, c in node.items() if a != _END), default=0)

    def render(node: dict[str, Any]) -> str:
        children = sorted(
            ((a, c) for a, c in node.items() if a != _END),
            key=lambda item: longest(item[1]),
            reverse=True,
        )
        options = [atom + render(child) for atom, child in children]
        if _END in node:
            options.append(node[_END])
        return options[0] if len(options) == 1 else f"(?:{'|'.join(options)})"

    return render(root)


class ReferenceMatcher:
    """Matches and pending tails as the regex implementation found them."""

    def __init__(self, terms: dict[str, bool]) -> None:
        self.terms = terms
        self.keys = {re.sub(rf"[\s{_CONTROLS}]+", "", t): t for t in terms}
        self.all = alternation(terms, loose_only=False)
        self.loose = alternation(terms, loose_only=True)
        sequences = [atoms(t, _NOT_AFTER_WORD if whole else "") for t, whole in terms.items()]
        self.partial = re.compile(f"(?:{_prefixes_pattern(sequences)})\\Z")

    def term_of(self, matched: str) -> str:
        return self.keys[re.sub(rf"[\s{_CONTROLS}]+", "", matched)]

    def find(self, text: str) -> list[tuple[int, int, str]]:
        assert self.all is not None
        found: list[tuple[int, int, str]] = []
        position = 0
        while (match := self.all.search(text, position)) is not None:
            begin = match.start()
            if self.terms[self.term_of(match.group())] and begin > 0 and is_word(text[begin - 1]):
                match = self.loose.match(text, begin) if self.loose is not None else None
                if match is None:
                    position = begin + 1
                    continue
            found.append((match.start(), match.end(), self.term_of(match.group())))
            position = match.end()
        return found

    def pending(self, text: str) -> int | None:
        found = self.partial.search(text)
        return None if found is None else found.start()
