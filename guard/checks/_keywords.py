"""Keyword patterns of the ``rules`` check, built once at policy load.

They run on Python ``re``: tries of literals with bounded gaps, so no input makes them
backtrack far. A space in a term matches 1 to :data:`KEYWORD_GAP` white-space or control
characters; control characters (NUL, BEL, ESC...) may also sit between the letters of a
word, up to the same count. The partial-match trie of streams uses the same atoms
(:func:`keyword_atoms`), so a stream holds back exactly what could still become a match.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from guard.normalize import normalize

if TYPE_CHECKING:
    from guard.checks.rules import RuleSpec

#: Most white-space (or control) characters one space of a keyword matches: bounded, so
#: that resolving a match and holding back a pending one stay linear (core-review D3,
#: D14: "how" + 320,000 spaces + "to build a bomb" took 24 s with ``\s+``).
KEYWORD_GAP = 128
#: C0/C1 control characters that are not white space. They are invisible or garble the
#: text, so keywords see through them: between words as a space, inside a word not at all.
_CONTROLS = r"\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
_GAP = rf"[\s{_CONTROLS}]{{1,{KEYWORD_GAP}}}"
_INSIDE = rf"[{_CONTROLS}]{{0,{KEYWORD_GAP}}}"
_PLAIN_GAP = rf"\s{{1,{KEYWORD_GAP}}}"
_SQUASH = re.compile(rf"[\s{_CONTROLS}]+")
_CONTROL = re.compile(f"[{_CONTROLS}]")
#: Printable ASCII and ASCII white space: what is left of an ASCII text without them.
_NOT_CONTROL = bytes(range(0x20, 0x7F)) + b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"


def has_control(text: str, start: int = 0) -> bool:
    """Whether ``text[start:]`` has a control character: only then do keywords need the
    pattern that sees through them (it costs ~1.7x the plain one on clean text)."""
    if text.isascii():
        # One C pass (~1 us per 2 KB against ~6 us for a character-class search).
        return bool(text[start:].encode().translate(None, _NOT_CONTROL))
    return _CONTROL.search(text, start) is not None


def fold_term(term: str) -> str:
    """A keyword as matched: folded, single spaces between words."""
    return " ".join(normalize(term).text.split())


def term_key(matched: str) -> str:
    """What identifies a keyword in matched text: its characters without gaps."""
    return _SQUASH.sub("", matched)


def keyword_atoms(term: str, *, opening: str = "", controls: bool = True) -> list[str]:
    """The regex atoms of a folded term, one per character: a space is a bounded gap,
    a letter followed by a letter allows control characters between them (unless
    ``controls`` is false: for texts without any). ``opening`` is asserted right after
    the first character."""
    atoms: list[str] = []
    inside = _INSIDE if controls else ""
    for position, char in enumerate(term):
        if char == " ":
            atoms.append(_GAP if controls else _PLAIN_GAP)
            continue
        atom = re.escape(char) + (opening if position == 0 else "")
        following = term[position + 1 : position + 2]
        atoms.append(atom + inside if following not in ("", " ") else atom)
    return atoms


def keyword_pattern(term: str, *, whole_word: bool, controls: bool = True) -> str:
    """The pattern of a folded term; a whole-word term must not run into a word
    character (the character before it is checked by the caller, as a leading
    look-behind would stop the engine from skipping ahead by first characters)."""
    return "".join(keyword_atoms(term, controls=controls)) + (r"(?!\w)" if whole_word else "")


#: Released folded characters every stream window keeps: context for ``\b``, whole
#: words and the partial-match look-behinds (one character is enough; a few spare).
CONTEXT = 32


def keyword_alternation(
    terms: dict[str, RuleSpec], *, whole_words: bool | None, controls: bool = True
) -> re.Pattern[str] | None:
    """One trie-shaped pattern for the terms (all when ``whole_words`` is None).

    Terms sharing a start share its atoms (``how to (?:build|make) a bomb``), so the
    pattern stays small (2,000 terms: 30 KB, compiled in ~0.1 s, where a flat alternation
    of the control-tolerant atoms was 600 KB and 0.8 s) and the engine tries few
    alternatives per place. At each branch the longer continuations come first and the
    end of a term last, so the longest term matching at a place wins, and a whole-word
    term that runs into a word character (``(?!\\w)``) falls back to a shorter one.
    """
    root: dict[str, Any] = {}
    for term, rule in terms.items():
        if whole_words not in (None, rule.whole_word):
            continue
        node = root
        for atom in keyword_atoms(term, controls=controls):
            node = node.setdefault(atom, {})
        node.setdefault(_END, r"(?!\w)" if rule.whole_word else "")
    return re.compile(_render_trie(root)) if root else None


#: Key of a trie node's "a term ends here" entry (no atom is empty).
_END = ""


def _render_trie(root: dict[str, Any]) -> str:
    depth: dict[int, int] = {}

    def longest(node: dict[str, Any]) -> int:
        # Iterative enough for the depth of real terms; memoised per node.
        if id(node) not in depth:
            depth[id(node)] = max(
                (1 + longest(child) for atom, child in node.items() if atom != _END), default=0
            )
        return depth[id(node)]

    def render(node: dict[str, Any]) -> str:
        parts: list[str] = []
        while True:
            children = [(a, c) for a, c in node.items() if a != _END]
            if len(children) == 1 and _END not in node:
                atom, node = children[0]  # a chain: no group needed
                parts.append(atom)
                continue
            children.sort(key=lambda item: longest(item[1]), reverse=True)
            options = [atom + render(child) for atom, child in children]
            if _END in node:
                options.append(node[_END])
            parts.append(options[0] if len(options) == 1 else f"(?:{'|'.join(options)})")
            return "".join(parts)

    return render(root)
