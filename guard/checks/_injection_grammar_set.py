"""The grammar's signals and the obfuscation signs as one RE2 set, compiled on first use.

Compiling the ~230 patterns (one set, plus each signal alone for its span) takes
0.4-0.8 s. Importing guard or starting the CLI must not pay that, so it happens once, on
first use, under a lock (two threads asking at once compile once). ``InjectionCheck``
asks for it when it is built (:func:`warm`), so a proxy pays it at start-up, where its
policies are built, and never on a request.

RE2::Set::Match answers ``false`` both for "no match" and for "the DFA ran out of
memory", and the Python binding drops the error (``_re2.cc``, ``Set::Match``), so a
failed search would read as a clean text. Reading RE2 (2026-01, ``re2/dfa.cc``): a DFA
refuses to start unless its budget holds 20 states of the largest size a state can
have (``DFA::DFA``, ``state_budget_ < 20*one_state``); the set's compile runs one
search to prove its DFA starts and fails otherwise (``compile.cc``,
``Compiler::CompileSet``), which the binding raises; and a many-match (set) search that
fills its cache resets it and goes on, it never bails (``InlinedSearchLoop``,
``kind_ != Prog::kManyMatch``). A search needs three states after a reset, so a set
that compiled cannot run out of memory mid-search at any text size: a full cache costs
time, not answers (tests/checks/test_injection_grammar_set.py checks it at the smallest
budget that compiles). Should that ever change, a sentinel pattern that matches every
text (``\\z``) tells: without it in the answer, the search failed, the patterns are then
searched one by one (each RE2 regex falls back to its NFA) and the failure is counted
(:func:`set_failures`) and logged, never read as "no injection".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2

from guard.checks._injection_grammar import SIGNALS
from guard.checks._injection_obfuscation import SIGNS

#: Matches at the end of every text: its absence from a set's answer means the search failed.
SENTINEL = r"\z"
#: Shipped DFA budget. The grammar's ~230 patterns in many scripts outgrow RE2's default
#: 8 MB (the set would not compile); the budget bounds the set's DFA cache, held once
#: per process.
BUDGET = 32 << 20

_log = logging.getLogger("guardwire")


def options(budget: int = BUDGET) -> Any:
    """Case-insensitive RE2 options with ``budget`` bytes of memory, errors not printed."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = budget
    return options


def checked_set(patterns: Sequence[str], what: str, budget: int = BUDGET) -> Any:
    """An RE2 search set of ``patterns`` (answering with their indices) followed by
    :data:`SENTINEL` at index ``len(patterns)``. Raises ``RuntimeError`` naming ``what``
    when a pattern does not compile (the set would shift every later index)."""
    compiled = re2.Set.SearchSet(options(budget))
    for number, pattern in enumerate([*patterns, SENTINEL]):
        if compiled.Add(pattern) != number:
            raise RuntimeError(f"{what} {number} does not compile on RE2")
    compiled.Compile()
    return compiled


@dataclass(frozen=True, slots=True)
class GrammarSet:
    """The compiled grammar: the set over signals then signs, and each signal alone."""

    set: Any
    signals: tuple[Any, ...]


_lock = threading.Lock()
_compiled: GrammarSet | None = None
_signs: tuple[Any, ...] | None = None
_failures = 0


def _compile() -> GrammarSet:
    patterns = [pattern for _, _, pattern in SIGNALS] + [pattern for _, pattern in SIGNS]
    every = checked_set(patterns, "injection signal or obfuscation sign")
    signals = tuple(re2.compile(pattern, options()) for _, _, pattern in SIGNALS)
    return GrammarSet(every, signals)


def grammar_set() -> GrammarSet:
    """The compiled grammar, compiled by the first caller (once, thread-safe)."""
    global _compiled
    found = _compiled
    if found is None:
        with _lock:
            if _compiled is None:
                _compiled = _compile()
            found = _compiled
    return found


def warm() -> None:
    """Compile the grammar now (a proxy's start-up), not on the first request."""
    grammar_set()


def set_failures() -> int:
    """How many set searches this process failed and redid pattern by pattern."""
    return _failures


def matched(subject: str | bytes) -> list[int]:
    """Indices of the signals (``0..len(SIGNALS)-1``) then the signs (from
    ``len(SIGNALS)``) that occur in ``subject``, in one linear pass."""
    found = grammar_set().set.Match(subject) or []
    sentinel = len(SIGNALS) + len(SIGNS)
    if sentinel in found:
        found.remove(sentinel)
        return found
    return _one_by_one(subject)


def _one_by_one(subject: str | bytes) -> list[int]:
    """The set's answer found pattern by pattern, after a failed set search (counted)."""
    global _failures, _signs
    with _lock:
        _failures += 1
        if _signs is None:
            _signs = tuple(re2.compile(pattern, options()) for _, pattern in SIGNS)
        signs = _signs
    # No text in the line: the failure is the news, and text may be secret.
    _log.error("injection grammar set search failed (RE2); searched pattern by pattern")
    patterns = (*grammar_set().signals, *signs)
    return [number for number, pattern in enumerate(patterns) if pattern.search(subject)]
