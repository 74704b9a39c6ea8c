"""The grammar's signals and the obfuscation signs as two RE2 sets, compiled on first use.

The patterns that need a non-ASCII character (other scripts) are a set of their own,
skipped on ASCII text; :func:`partition` says why and how. Compiling the ~230 patterns
(the sets, plus each pattern alone: a signal's span, the split's analysis) takes
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
import re
import threading
import time
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
#: Shipped DFA budget, shared by the sets (:func:`partition`). The grammar's ~230 patterns
#: in many scripts outgrow RE2's default 8 MB as one set (it would not compile); split,
#: each set fits in its share. It bounds the sets' DFA caches, held once per process.
BUDGET = 32 << 20
#: Sets per group of :func:`partition`: ASCII-capable patterns (False), other-script
#: patterns (True). Measured (CPU time, 2 KB, load ~11 on 2 cores), one set -> 1+1 -> 2+2:
#: English prose 7.9 -> 8.8 -> 14.7 us, Chinese prose 12.3 -> 22.4 -> 41.6 us; word salad
#: median 15.5 -> 8.6 -> 6.5 ms, dearest 44 -> 33 -> 22.5 ms. Normal text's cost won.
PARTS = {False: 1, True: 1}

#: The probe (:func:`_slow`): a set search of a sample of the text. Normal text costs a
#: set ~1 ns per byte (its DFA states are cached); word salad (bench.injection.word_salad)
#: 5-15 us per byte, a new state on most bytes (~10 ms median, ~30 ms p99 per 2 KB, on
#: the event loop). A set the probe finds slow reads the text pattern by pattern
#: instead: each pattern alone meets few new states. Normal 2 KB pays one search of the
#: ~67-byte sample (~1 us); the answer is the same either way. (Text the process has
#: not seen meets new states too, fewer: there both paths cost about the same, 2,000
#: labelled texts: mean 422 / 433 us, p99 3.4 / 1.7 ms, so a probe that picks the
#: slower-looking path for such a text costs nothing.)
PROBE_BYTES = 16
PROBE_SPOTS = 4
#: A first probe this quick (CPU time) is normal text: no second search. (A sample whose
#: states are cached but not in the CPU's caches takes up to ~13 us on a loaded machine;
#: salad ~50-1,000 us.)
PROBE_QUICK_NS = 50_000
#: A first probe this many times dearer than the second (cached) one met new states.
PROBE_RATIO = 8
#: DFA memory of each pattern searched alone (:func:`matched`'s costly path): salad
#: grows every pattern's cache, so each has a small one (1 MB: +24 MB held after 1,200
#: salads, where 32 MB each kept growing past +76 MB; 512 KB: 1.7x the time).
ALONE_BUDGET = 1 << 20

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
class Part:
    """One RE2 set over some of the patterns: ``numbers`` maps the set's answer (its own
    indices) back to the grammar's; ``non_ascii`` when every pattern in it can only match
    text with a non-ASCII character (the set is then skipped on ASCII text)."""

    set: Any
    numbers: tuple[int, ...]
    non_ascii: bool


@dataclass(frozen=True, slots=True)
class GrammarSet:
    """The compiled grammar: the sets that share the signals and signs, each signal alone
    (to find its span), every pattern alone with a small DFA budget (to search a text
    pattern by pattern), and the prefilter that names the patterns a text may match
    (:mod:`guard.checks._injection_candidates`; without it, the sets search)."""

    parts: tuple[Part, ...]
    signals: tuple[Any, ...]
    alone: tuple[Any, ...]
    candidates: Candidates | None = None
    #: The patterns only text with a non-ASCII character can match (skipped on ASCII text).
    non_ascii: frozenset[int] = frozenset()


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
    unbounded = _WORD_BOUNDARY.sub(r"\1", pattern)
    try:
        low, _ = re2.compile(unbounded, options()).possiblematchrange(1)
    except re2.error:
        return False
    return bool(low[:1] >= b"\x80")


def partition(
    compiled: Sequence[Any], script: Sequence[bool] | None = None
) -> list[tuple[tuple[int, ...], bool]]:
    """The sets the patterns are split into: (pattern numbers, needs non-ASCII text).

    A set's DFA builds a state for every new mix of partial matches it meets. Word salad
    (the grammar's own words among random ones) keeps many patterns' partial matches
    alive at once, so one set of all patterns meets a new mix, and pays for a state
    holding all of them, on almost every byte. Sets of fewer patterns meet fewer mixes,
    and the sets whose patterns the text does not wake stay in states they have cached.
    Rule: the patterns that need a non-ASCII character (other scripts; by RE2's
    PossibleMatchRange, :func:`needs_non_ascii`) apart from the others, since ASCII
    text (most text) can skip them; each group split in :data:`PARTS` sets of about
    equal RE2 program size (largest first into the smallest set), which spreads the
    big patterns (long alternations, bounded gaps: the ones salad keeps alive) apart.
    Each further set costs normal text one more pass (~5 us per 2 KB of ASCII, ~10 us
    per 2 KB of Chinese), which is why there are only two."""
    sizes = [pattern.programsize for pattern in compiled]
    if script is None:  # pattern n needs a non-ASCII character
        script = [needs_non_ascii(pattern.pattern) for pattern in compiled]
    parts: list[tuple[tuple[int, ...], bool]] = []
    for non_ascii in (False, True):
        numbers = [n for n in range(len(compiled)) if script[n] == non_ascii]
        groups: list[list[int]] = [[] for _ in range(PARTS[non_ascii])]
        totals = [0] * PARTS[non_ascii]
        for number in sorted(numbers, key=lambda n: (-sizes[n], n)):
            smallest = totals.index(min(totals))
            groups[smallest].append(number)
            totals[smallest] += sizes[number]
        parts.extend((tuple(sorted(group)), non_ascii) for group in groups if group)
    return parts


def _alone(number: int, pattern: str, budget: int = BUDGET) -> Any:
    try:
        return re2.compile(pattern, options(budget))
    except re2.error as error:
        raise RuntimeError(
            f"injection signal or obfuscation sign {number} does not compile on RE2"
        ) from error


def _compile() -> GrammarSet:
    patterns = [pattern for _, _, pattern in SIGNALS] + [pattern for _, pattern in SIGNS]
    # Each pattern compiled once, by the prefilter, at the small budget: a signal's span
    # is the same at any budget (an RE2 regex out of DFA memory finishes on its NFA), and
    # so is its program size, which the split reads.
    script = [needs_non_ascii(pattern) for pattern in patterns]
    candidates = compile_candidates(patterns, options(ALONE_BUDGET), script)
    alone = candidates.alone
    split = partition(alone, script)
    # The sets share the one budget: salad fills every cache, and the process holds them all.
    budget = BUDGET // len(split)
    parts = tuple(
        Part(checked_set([patterns[n] for n in numbers], "pattern set", budget), numbers, non_ascii)
        for numbers, non_ascii in split
    )
    non_ascii = frozenset(n for numbers, other_script in split if other_script for n in numbers)
    return GrammarSet(parts, alone[: len(SIGNALS)], alone, candidates, non_ascii)


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
    ``len(SIGNALS)``) that occur in ``subject``, ascending: one linear pass per set, or
    pattern by pattern for a set the probe (:data:`PROBE_BYTES`) finds slow."""
    # UTF-8 once: the binding would encode a str again for every set.
    data = subject.encode() if isinstance(subject, str) else subject
    ascii_text = data.isascii()
    compiled = grammar_set()
    if compiled.candidates is not None:
        return _by_candidates(compiled, compiled.candidates, data, ascii_text)
    found: list[int] = []
    for part in compiled.parts:
        if part.non_ascii and ascii_text:
            continue  # none of its patterns can match text without a non-ASCII byte
        if len(data) > PROBE_BYTES * PROBE_SPOTS and _slow(part.set, data):
            found.extend(n for n in part.numbers if _occurs(compiled.alone[n], data))
            continue
        answer = part.set.Match(data) or []
        if len(part.numbers) not in answer:
            return _one_by_one(data)
        found.extend(part.numbers[n] for n in answer if n < len(part.numbers))
    return sorted(found)


def _by_candidates(
    compiled: GrammarSet, candidates: Candidates, data: bytes, ascii_text: bool
) -> list[int]:
    """:func:`matched` through the prefilter: the patterns it names, each searched alone
    (every pattern, should an atom search fail). No probe: the atoms' DFAs stay cheap on
    word salad too (~0.4 ms per 2 KB), so no text needs another path, and what a text
    costs does not depend on a clock or on the machine's load."""
    numbers: Sequence[int] | None = candidates.Match(data, ascii_text)
    if numbers is None:
        note_set_failure("grammar prefilter")
        numbers = range(len(compiled.alone))
    skip = compiled.non_ascii if ascii_text else frozenset()
    alone = compiled.alone
    return [n for n in numbers if n not in skip and _occurs(alone[n], data)]


def _slow(compiled_set: Any, data: bytes) -> bool:
    """Whether the set meets new DFA states on most bytes of ``data``, judged on a sample:
    :data:`PROBE_SPOTS` pieces of :data:`PROBE_BYTES` spread over it (a salad may start
    with words only the other set reads), searched as one text. A quick first search
    settles it. A slower one is weighed against a second search of the same sample, whose
    states are cached by then: the ratio decides, so a slow machine or a profiler does
    not send normal text down the slower path. CPU time: the scheduler's pauses on a
    loaded machine do not count."""
    step = (len(data) - PROBE_BYTES) // (PROBE_SPOTS - 1)
    sample = b" ".join(data[at : at + PROBE_BYTES] for at in range(0, step * PROBE_SPOTS, step))
    clock = time.thread_time_ns
    started = clock()
    compiled_set.Match(sample)
    first = clock() - started
    if first <= PROBE_QUICK_NS:
        return False
    started = clock()
    compiled_set.Match(sample)
    return first > PROBE_RATIO * (clock() - started)


def _occurs(regexp: Any, data: bytes) -> bool:
    return leftmost(regexp, data) != NO_MATCH


def leftmost(regexp: Any, data: bytes, pos: int = 0) -> tuple[int, int]:
    """Byte span of the leftmost match of ``regexp`` (a compiled ``re2`` pattern) in
    ``data`` starting at or after ``pos`` (the bytes before it still count as context for
    ``\\b``), or :data:`NO_MATCH`. It asks the binding's RE2 object directly: the public
    ``search`` builds a generator, a match object and, for ``str``, character offsets on
    every call, which cost more than the search itself on a 2 KB text that matches (an
    attack text asks ~15 times). Checked against ``search`` in the tests."""
    span: tuple[int, int] = regexp._regexp.Match(_UNANCHORED, data, pos, len(data))[0]
    return span


def _one_by_one(data: bytes) -> list[int]:
    """The set's answer found pattern by pattern, after a failed set search (counted)."""
    note_set_failure("grammar")
    return [n for n, regexp in enumerate(grammar_set().alone) if _occurs(regexp, data)]
