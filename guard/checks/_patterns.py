"""Pattern analysis for the ``rules`` check, done once at policy load.

What streaming needs to know about a rule's matches: the literal prefixes every match
of a regex starts with, whether it opens at a word boundary, how wide a match can be,
and one trie-shaped regex that recognises a tail of text that could still grow into a
required prefix.

Keywords are found by an automaton (:mod:`guard.checks._keyword_automaton`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from guard.checks._keywords import is_word
from guard.checks._regex import compile_regex, fold_pattern, match_width

if TYPE_CHECKING:
    from guard.checks.rules import RuleSpec


def required_prefixes(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which starts every match of ``pattern`` (lower-cased).

    Handles the common shapes (``\\bABC...``, ``(?:AB|CD)...``); ``None`` when no such
    literal can be derived, and the regex then runs on every text.
    """
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    def literals(items: Any) -> tuple[list[str], bool]:
        """Prefixes of ``items`` and whether they cover all of ``items`` (so that what
        follows may be appended)."""
        out = [""]
        for op, argument in items:
            if op is c.AT and out == [""]:
                continue
            if op is c.LITERAL and len(chr(argument).lower()) == 1:
                out = [o + chr(argument).lower() for o in out]
                continue
            if op is c.IN and all(
                item_op is c.LITERAL and len(chr(value).lower()) == 1 for item_op, value in argument
            ):
                # A small character set ([pousr]) widens the prefix set.
                chars = sorted({chr(value).lower() for _, value in argument})
                if len(chars) * len(out) <= 32:
                    out = [o + char for o in out for char in chars]
                    continue
                return out, False
            if op is c.SUBPATTERN or op is c.BRANCH:
                branches = [argument[-1]] if op is c.SUBPATTERN else argument[1]
                options: list[str] = []
                complete = True
                for branch in branches:
                    inner, whole = literals(branch)
                    options.extend(inner)
                    complete = complete and whole
                if "" in options or len(options) * len(out) > 32:
                    return out, False
                out = [o + i for o in out for i in options]
                if complete:
                    continue
            return out, False
        return out, True

    try:
        parsed = _parser.parse(pattern)
    except Exception:
        return None
    found, _ = literals(list(parsed))
    return tuple(found) if all(found) else None


def starts_at_word_boundary(pattern: str) -> bool:
    """True if ``pattern`` opens with ``\\b`` (every match starts at a word boundary)."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    items = list(_parser.parse(pattern))
    return bool(items) and items[0] == (c.AT, c.AT_BOUNDARY)


#: Nesting depth of the prefix trie: the regex compiler recurses once per level (and
#: fails between 100 and 500 levels).
_DEPTH = 32


def _prefixes_pattern(sequences: list[list[str]]) -> str:
    """A regex matching every non-empty prefix of any of ``sequences`` of regex atoms.

    A trie of optional groups (``a(?:b(?:c)?|d)?``): alternatives share their start,
    so the engine tries few of them at each place. Nesting stops at ``_DEPTH`` levels;
    a longer sequence adds one alternative per further block, spelling out the blocks
    before it.
    """
    trie: dict[str, Any] = {}
    options: list[str] = []
    for atoms in sequences:
        node = trie
        for atom in atoms[:_DEPTH]:
            node = node.setdefault(atom, {})
        for begin in range(_DEPTH, len(atoms), _DEPTH):
            block: dict[str, Any] = {}
            node = block
            for atom in atoms[begin : begin + _DEPTH]:
                node = node.setdefault(atom, {})
            options.append("".join(atoms[:begin]) + _trie_pattern(block))
    return "|".join([_trie_pattern(trie), *options])


def _trie_pattern(node: dict[str, Any]) -> str:
    return "|".join(
        atom + (f"(?:{_trie_pattern(child)})?" if child else "") for atom, child in node.items()
    )


#: Hold-back of a regex whose width is unknown, outside progressive streams (policy
#: validation rejects such a rule on the output of a progressive stream).
UNKNOWN_WIDTH = 4096


class CompiledRegex:
    """One regex rule, compiled, with what streaming needs to know about its matches."""

    __slots__ = ("boundary", "capped", "pattern", "prefixes", "rule", "start", "width")

    def __init__(self, rule: RuleSpec) -> None:
        assert rule.regex is not None
        self.rule = rule
        source = fold_pattern(rule.regex)
        self.pattern = compile_regex(source)
        derived = match_width(source)
        #: Most folded characters a match spans: derived from the pattern, or the
        #: rule's ``max_length`` when that is lower or the pattern is unbounded.
        self.width = min(w for w in (derived, rule.max_length, UNKNOWN_WIDTH) if w is not None)
        #: The width is a cap, not a bound: a match can be longer (the stream detects one
        #: that started in released text and applies ``stream.on_holdback_overflow``).
        self.capped = derived is None or derived > self.width
        self.prefixes = required_prefixes(source)
        self.boundary = self.prefixes is not None and starts_at_word_boundary(source)
        #: Where a match can start: a required prefix (after ``\b`` if the regex opens
        #: with one). Matched in folded text, which is lower case: only ``ı`` (dotless
        #: i) matches a lower-case ASCII letter case-insensitively and does not fold to
        #: it, so guard.normalize folds it. ``\b`` is ASCII here, as in RE2.
        self.start: re.Pattern[str] | None = None
        if self.prefixes is not None:
            alternatives = "|".join(re.escape(p) for p in self.prefixes)
            opening = r"\b" if self.boundary else ""
            self.start = re.compile(f"{opening}(?:{alternatives})", re.ASCII)


#: Below this many characters one search of the alternation of all required prefixes
#: beats a ``str.find`` per prefix (default policy, the new text of a delta: 0.3 us
#: against 1.7 us); above it ``str.find`` skips ahead faster (20 KB: 130 us against 360).
SHORT_TEXT = 256

#: Asserted after the first character ``c`` of a prefix (fixed width, so that the
#: alternatives still start with a literal the regex engine can skip on): "the character
#: before ``c`` is not / is an ASCII word character" (RE2's ``\b``), i.e. a leading
#: ``\b`` in front of a word / non-word character.
_NOT_AFTER_ASCII_WORD = r"(?<![0-9A-Za-z_][\s\S])"
_AFTER_ASCII_WORD = r"(?<=[0-9A-Za-z_][\s\S])"


def partial_pattern(prefixed: list[CompiledRegex]) -> re.Pattern[str] | None:
    r"""A regex for a tail that could still grow into a regex's required prefix.

    It matches, up to the end of the text, any non-empty prefix of a required prefix
    (after ``\b`` if the regex opens with one). The alternatives form a trie, so the
    engine tries few of them per place. (Pending keywords: the keyword automaton.)
    """
    sequences: list[list[str]] = []
    for regex in prefixed:
        for prefix in regex.prefixes or ():
            atoms = [re.escape(char) for char in prefix]
            if regex.boundary:
                ascii_word = prefix[0].isascii() and is_word(prefix[0])
                atoms[0] += _NOT_AFTER_ASCII_WORD if ascii_word else _AFTER_ASCII_WORD
            sequences.append(atoms)
    if not sequences:
        return None
    return re.compile(f"(?:{_prefixes_pattern(sequences)})\\Z")
