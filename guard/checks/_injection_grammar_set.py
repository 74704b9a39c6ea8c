"""The grammar's signals and the obfuscation signs, compiled on first use, and which of
them occur in a text.

A text is read through RE2's prefilter (:mod:`guard.checks._injection_candidates`):
the patterns whose required words occur, each then searched alone. Compiling the ~230
patterns (once each, by the prefilter) takes ~0.3 s. Importing guard or starting the CLI
must not pay that, so it happens once, on first use, under a lock (two threads asking at
once compile once). ``InjectionCheck`` asks for it when it is built (:func:`warm`), so a
proxy pays it at start-up, where its policies are built, and never on a request.

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
budget that compiles). Should that ever change, a sentinel tells: :data:`SENTINEL` in
the sets :func:`checked_set` builds (the discourse cues'), a sentinel atom in the
prefilter's. Without it in the answer, the search failed, the patterns are then
searched one by one (each RE2 regex falls back to its NFA) and the failure is counted
(:func:`set_failures`) and logged, never read as "no injection".
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2
from re2 import _re2

from guard.checks._injection_candidates import Candidates, compile_candidates
from guard.checks._injection_grammar import SIGNALS
from guard.checks._injection_obfuscation import SIGNS

#: Matches at the end of every text: its absence from a set's answer means the search failed.
SENTINEL = r"\z"
#: Default DFA budget of :func:`options` (a regex searched once per text, a set).
BUDGET = 32 << 20
#: DFA memory of each grammar pattern: a text the process never saw grows the caches
#: of the patterns it names, word salad most, so each has a small one (1 MB; 512 KB:
#: 1.7x the time). What they hold in all is measured in bench/README.md (injection).
ALONE_BUDGET = 1 << 20
#: DFA memory of the set of the patterns without atoms (:class:`GrammarSet`).
ALWAYS_BUDGET = 8 << 20
#: DFA memory per RE2 instruction of a big pattern (:func:`alone_budget`).
BYTES_PER_INSTRUCTION = 1 << 10

_log = logging.getLogger("guardwire")
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
#: What :func:`leftmost` answers when there is no match.
NO_MATCH = (-1, -1)
#: ``\b`` or ``\B`` (not an escaped backslash followed by ``b``).
_WORD_BOUNDARY = re.compile(r"(?<!\\)((?:\\\\)*)\\[bB]")


def options(budget: int = BUDGET, *, case_sensitive: bool = False) -> Any:
    """RE2 options (case-insensitive unless asked) with ``budget`` bytes of memory,
    errors not printed."""
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False
    options.max_mem = budget
    return options


def checked_set(
    patterns: Sequence[str], what: str, budget: int = BUDGET, *, case_sensitive: bool = False
) -> Any:
    """An RE2 search set of ``patterns`` (answering with their indices) followed by
    :data:`SENTINEL` at index ``len(patterns)``. Raises ``RuntimeError`` naming ``what``
    when a pattern does not compile (the set would shift every later index)."""
    compiled = re2.Set.SearchSet(options(budget, case_sensitive=case_sensitive))
    for number, pattern in enumerate([*patterns, SENTINEL]):
        if compiled.Add(pattern) != number:
            raise RuntimeError(f"{what} {number} does not compile on RE2")
    compiled.Compile()
    return compiled


@dataclass(frozen=True, slots=True)
class GrammarSet:
    """The compiled grammar: each signal (to find its span), every pattern (signals then
    signs, at :data:`ALONE_BUDGET`), the prefilter that names the patterns a text may
    match, and the patterns only text with a non-ASCII character can match (skipped on
    ASCII text)."""

    signals: tuple[Any, ...]
    alone: tuple[Any, ...]
    candidates: Candidates
    non_ascii: frozenset[int]
    #: The patterns without atoms (always candidates), and one RE2 set of them: one pass
    #: of a small set costs less than a search of each (~4 us per 2 KB each).
    always: tuple[int, ...]
    always_set: Any
    #: Candidates not searched alone, on ASCII text (``non_ascii`` and ``always``) and on
    #: other text (``always``).
    skip_ascii: frozenset[int]
    skip_other: frozenset[int]


_lock = threading.Lock()
_compiled: GrammarSet | None = None
_failures = 0


def needs_non_ascii(pattern: str) -> bool:
    """Whether every match of ``pattern`` starts with a non-ASCII byte.

    RE2's PossibleMatchRange bounds every match ``s`` at the start of a text:
    ``low <= s``. A ``low`` whose first byte is 0x80 or more puts every such match's
    first byte there (an empty match would make ``low`` empty). Mid-text, only the word
    boundaries read differently (``\\b`` after a letter...); without them a pattern only
    matches more, so its range, taken with them removed, bounds every match anywhere:
    then ASCII text cannot match. No range known: assume it can."""
    return _facts(pattern)[0]


def _facts(pattern: str) -> tuple[bool, int]:
    """:func:`needs_non_ascii` and the RE2 program size of ``pattern`` (its word
    boundaries removed: about the same size), from one compile."""
    unbounded = _WORD_BOUNDARY.sub(r"\1", pattern)
    try:
        compiled = re2.compile(unbounded, options())
    except re2.error:
        return False, 0
    low, _ = compiled.possiblematchrange(1)
    return bool(low[:1] >= b"\x80"), compiled.programsize


def alone_budget(size: int) -> int:
    """DFA memory of a pattern of ``size`` RE2 instructions: :data:`ALONE_BUDGET`, more
    for the big ones (a DFA state holds up to ``size`` instructions, and a budget that
    holds too few states makes RE2 give up its DFA for the slow NFA: the English
    override pattern, ~3,800 instructions, took 90 us per 2 KB at 1 MB, ~5 at 4 MB)."""
    return max(ALONE_BUDGET, size * BYTES_PER_INSTRUCTION)


def _compile() -> GrammarSet:
    patterns = [pattern for _, _, pattern in SIGNALS] + [pattern for _, pattern in SIGNS]
    facts = [_facts(pattern) for pattern in patterns]
    # Each pattern compiled once, by the prefilter, at a budget for its size; it finds
    # signal spans too (a span is the same at any budget: RE2 out of DFA memory finishes
    # on its NFA, slowly).
    budgets = [options(alone_budget(size)) for _, size in facts]
    candidates = compile_candidates(patterns, budgets, [other for other, _ in facts])
    alone = candidates.alone
    non_ascii = frozenset(n for n, (other, _) in enumerate(facts) if other)
    always = tuple(candidates.Match(b"") or ())
    always_set = checked_set([patterns[n] for n in always], "pattern set", ALWAYS_BUDGET)
    return GrammarSet(
        alone[: len(SIGNALS)],
        alone,
        candidates,
        non_ascii,
        always,
        always_set,
        non_ascii | frozenset(always),
        frozenset(always),
    )


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
    """Compile the grammar and the discourse cues now (a proxy's start-up), not on the
    first request."""
    # Imported here: the cues build their sets with this module's checked_set.
    from guard.checks._injection_cues import cue_sets

    grammar_set()
    cue_sets()


def set_failures() -> int:
    """How many set searches this process failed and redid pattern by pattern (the
    grammar's and the discourse cues')."""
    return _failures


def note_set_failure(what: str) -> None:
    """Count and log a failed set search (``what``: whose set), redone pattern by pattern."""
    global _failures
    with _lock:
        _failures += 1
    # No text in the line: the failure is the news, and text may be secret.
    _log.error("injection %s set search failed (RE2); searched pattern by pattern", what)


def matched(subject: str | bytes) -> list[int]:
    """Indices of the signals (``0..len(SIGNALS)-1``) then the signs (from
    ``len(SIGNALS)``) that occur in ``subject``, ascending: the patterns the prefilter
    names, each searched alone (every pattern, should an atom search fail), and one set
    of those without atoms. No probe picks a path by timing: what a text costs does not
    depend on the machine's load."""
    return [number for number, _ in matched_spans(subject)]


def matched_spans(subject: str | bytes) -> list[tuple[int, tuple[int, int] | None]]:
    """:func:`matched` with the byte span of each pattern's leftmost match where the
    search found it (a signal's span: :func:`leftmost` of ``signals[n]``), None where
    only a set answered: a caller that wants the span need not search again."""
    # UTF-8 once: the binding would encode a str again for every filter.
    data = subject.encode() if isinstance(subject, str) else subject
    ascii_text = data.isascii()
    compiled = grammar_set()
    named = compiled.candidates.Match(data, ascii_text)
    always = compiled.always
    answer = compiled.always_set.Match(data) or []
    searched: Sequence[int]
    skip: frozenset[int]
    if named is None or len(always) not in answer:
        note_set_failure("grammar prefilter")
        searched, answer, skip = range(len(compiled.alone)), [], frozenset()
    else:
        searched = named
        skip = compiled.skip_ascii if ascii_text else compiled.skip_other
    found: list[tuple[int, tuple[int, int] | None]] = [
        (always[n], None) for n in answer if n < len(always)
    ]
    alone = compiled.alone
    for number in searched:
        if number not in skip:
            span = leftmost(alone[number], data)
            if span != NO_MATCH:
                found.append((number, span))
    found.sort(key=lambda item: item[0])
    return found


def leftmost(regexp: Any, data: bytes, pos: int = 0) -> tuple[int, int]:
    """Byte span of the leftmost match of ``regexp`` (a compiled ``re2`` pattern) in
    ``data`` starting at or after ``pos`` (the bytes before it still count as context for
    ``\\b``), or :data:`NO_MATCH`. It asks the binding's RE2 object directly: the public
    ``search`` builds a generator, a match object and, for ``str``, character offsets on
    every call, which cost more than the search itself on a 2 KB text that matches (an
    attack text asks ~15 times). Checked against ``search`` in the tests."""
    span: tuple[int, int] = regexp._regexp.Match(_UNANCHORED, data, pos, len(data))[0]
    return span
