"""The grammar's RE2 set: compiled once on first use, never failing open when RE2 does."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import re2

from guard.checks import _injection_grammar_set as grammar_set
from guard.checks._injection_grammar import SIGNALS
from guard.checks._injection_grammar_set import checked_set, options

_WORDS = (
    "ignore previous all instructions disregard system prompt you are now dan forget"
    " rules the your above jailbreak reveal no longer apply do not"
).split()
_LETTERS = "abcdefghijklmnopqrstuvwxyz ,.:;'\"-_*()[]\n"


def _word_salad(size: int, seed: int) -> bytes:
    """The grammar's own words among random short tokens: every position starts or
    continues partial matches of many patterns at once, so the set's DFA meets new
    states on almost every byte (the worst case for its state cache)."""
    pick = random.Random(seed)
    words: list[str] = []
    while sum(map(len, words)) + len(words) < size:
        if pick.random() < 0.5:
            words.append(pick.choice(_WORDS))
        else:
            words.append("".join(pick.choice(_LETTERS) for _ in range(pick.randint(1, 6))))
    return " ".join(words)[:size].encode()


def _smallest_budget(patterns: list[str]) -> tuple[int, Any]:
    """The smallest power-of-two budget (from 256 KB) the set compiles with, and the set."""
    budget = 1 << 18
    while True:
        try:
            return budget, checked_set(patterns, "signal", budget)
        except re2.error:
            budget *= 2


def _seconds(search: Any, text: bytes) -> float:
    started = time.perf_counter()
    search.Match(text)
    return time.perf_counter() - started


def test_a_set_with_a_full_dfa_cache_still_answers_every_match() -> None:
    """RE2 answers "no match" when a set search runs out of DFA memory. A set that
    compiled cannot: at the smallest budget it compiles with, a text that keeps filling
    and resetting its DFA cache gets the same answer as each pattern searched alone
    (RE2 regexes fall back to their NFA) and the sentinel that proves the search ran."""
    patterns = [pattern for _, _, pattern in SIGNALS[:80]]
    budget, tight = _smallest_budget(patterns)
    roomy = checked_set(patterns, "signal", 1 << 30)
    alone = [re2.compile(pattern, options()) for pattern in patterns]
    sentinel = len(patterns)
    for seed in (1, 2):
        text = _word_salad(40_000, seed)
        expected = sorted(n for n, pattern in enumerate(alone) if pattern.search(text))
        assert len(expected) >= 3  # the salad does match
        assert sorted(tight.Match(text)) == [*expected, sentinel]
        assert sorted(roomy.Match(text)) == [*expected, sentinel]
    # The tight cache did overflow (else this test proves nothing): a second search of
    # the same text finds few states left from the first, where the roomy cache has them
    # all (about 0.08 s against 0.001 s on a quiet machine).
    roomy_again = min(_seconds(roomy, text) for _ in range(3))
    tight_again = max(_seconds(tight, text) for _ in range(2))
    assert tight_again > 3 * roomy_again, (budget, tight_again, roomy_again)


def test_compiling_happens_once_when_threads_ask_at_the_same_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiles: list[int] = []
    real = grammar_set._compile

    def slow_compile() -> grammar_set.GrammarSet:
        compiles.append(1)
        time.sleep(0.05)  # widen the race: the others arrive while this one compiles
        return real()

    monkeypatch.setattr(grammar_set, "_compiled", None)
    monkeypatch.setattr(grammar_set, "_compile", slow_compile)
    got: list[grammar_set.GrammarSet] = []
    threads = [
        threading.Thread(target=lambda: got.append(grammar_set.grammar_set())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert compiles == [1]
    assert len(got) == 8 and all(found is got[0] for found in got)


_IMPORT_THEN_BUILD = """
from guard.checks import _injection_cues as cues
from guard.checks import _injection_grammar_set as grammar_set
from guard.checks._injection_model import shipped_model
import guard, guard.cli, guard.checks.injection
assert grammar_set._compiled is None, "importing compiled the grammar"
assert cues._compiled is None, "importing compiled the cues"
assert shipped_model.cache_info().currsize == 0, "importing read the model"
from guard.checks.injection import InjectionCheck, InjectionConfig
InjectionCheck(InjectionConfig(check="injection"))
assert grammar_set._compiled is not None, "building the check left the grammar to a request"
assert cues._compiled is not None, "building the check left the cues to a request"
assert shipped_model.cache_info().currsize == 1, "building the check left the model to a request"
"""


def test_importing_guard_compiles_nothing_and_building_the_check_compiles_all() -> None:
    """Import (CLI start) pays no compile; building the check (a proxy's start-up) pays
    it all, so no request does. A fresh interpreter: this process compiled long ago."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_THEN_BUILD], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
