"""Word salad, the grammar's worst case: same answers as one set, bounded cost.

Salad (bench.injection.word_salad) is the grammar's own words, every language's, among
random short tokens: it keeps many partial matches alive at once, so an RE2 set's DFA
builds a new state on most bytes. As one set of all ~230 patterns that cost ~1,500 times
prose per byte (CPU time); split in two sets, ~670 times; through the prefilter
(guard.checks._injection_candidates), see the cost test below.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.injection import salad_vocabularies, word_salad
from bench.texts import prose
from guard.checks._injection_grammar import SIGNALS
from guard.checks._injection_grammar_set import (
    checked_set,
    matched,
    needs_non_ascii,
)
from guard.checks._injection_obfuscation import SIGNS
from guard.checks._regex import re2_subject
from guard.normalize import normalize

_PATTERNS = [pattern for _, _, pattern in SIGNALS] + [pattern for _, pattern in SIGNS]
_DATA = Path(__file__).parents[1] / "data" / "injection"


def _cpu_seconds(search: Callable[[str | bytes], object], subject: str | bytes) -> float:
    """CPU time, not wall time: other processes on a loaded machine do not count."""
    started = time.thread_time()
    search(subject)
    return time.thread_time() - started


def _salads(size: int, first_seed: int) -> list[str | bytes]:
    vocabularies = sorted(salad_vocabularies().items())
    return [
        re2_subject(word_salad(words, size, first_seed + number))
        for number, (_, words) in enumerate(vocabularies)
    ]


def hash_of(text: str) -> int:
    """A stable sample key (``hash`` of a str changes with every interpreter)."""
    return zlib.crc32(text.encode())


def test_salad_is_made_of_every_languages_words() -> None:
    vocabularies = salad_vocabularies()
    assert len(vocabularies) >= 20
    assert {"core", "chinese", "japanese", "korean", "russian", "arabic", "hindi"} <= set(
        vocabularies
    )
    assert all(len(words) >= 5 for words in vocabularies.values())
    assert sum(not isinstance(salad, bytes) for salad in _salads(500, 1)) >= 10  # other scripts


def test_only_patterns_no_ascii_text_can_match_are_skipped_on_ascii_text() -> None:
    """RE2's match range is taken at a text's start, where a word boundary reads
    differently than after a letter: a branch it hides there must not hide an ASCII
    match elsewhere ("a," matches ``\\b,``, "ax" matches ``\\Bx``)."""
    assert needs_non_ascii("(?-i:日本|中国)")
    assert needs_non_ascii("(?-i:(?:игнорируй|забудь) инструкции)")
    assert not needs_non_ascii("(?:ignore|忽略)")
    assert not needs_non_ascii(r"(?:\b,|日本)")
    assert not needs_non_ascii(r"(?:\Bx|日本)")
    assert not needs_non_ascii("(?-i:日本)?")  # matches the empty string


def test_the_sets_answer_as_one_set_of_all_patterns() -> None:
    """The split changes no answer: a salad in every language and a sample of the
    injection data sets' texts, folded as
    the check folds them. (All of them, and the whole detector: `python -m
    bench.injection_eval` printed the same bytes before and after the split.)"""
    one = checked_set(_PATTERNS, "pattern", 1 << 30)
    subjects = [*_salads(2048, 200)]
    for path in sorted(_DATA.glob("**/*.jsonl")):
        for line in path.read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            text = json.loads(line).get("text")
            # A quarter of the texts with other scripts (the sets ASCII text skips), a
            # 32nd of the rest: each is a first search for the one set (~1 ms).
            if isinstance(text, str) and hash_of(text) % (32 if text.isascii() else 4) == 0:
                subjects.append(re2_subject(normalize(text).text))
    assert len(subjects) > 700
    sentinel = len(_PATTERNS)
    for subject in subjects:
        expected = sorted(n for n in one.Match(subject) or [] if n != sentinel)
        assert matched(subject) == expected


def test_word_salad_costs_a_bounded_multiple_of_prose_per_byte() -> None:
    """Salad in every language (new texts: nothing cached from an earlier search) costs
    at most 80 times prose per byte. One set of all patterns cost 1,400-1,550 times on
    a loaded 2-core machine (CPU time); the two sets, 650-680 times; the two sets with
    salad read pattern by pattern (a timing probe), 270-300 times; the prefilter ~15."""
    clean = prose(2048).encode()
    matched(clean)
    prose_per_byte = min(_cpu_seconds(matched, clean) for _ in range(50)) / len(clean)
    # Other salads first: RE2 builds its automata's states on the first texts it reads,
    # a cost paid once per process (run alone, without this, the ratio read ~100; after
    # the file's other tests, ~40).
    for salad in _salads(2048, 5_000):
        matched(salad)
    salads = _salads(2048, 7_000)
    salad_seconds = sum(_cpu_seconds(matched, salad) for salad in salads)
    salad_bytes = sum(len(salad.encode() if isinstance(salad, str) else salad) for salad in salads)
    ratio = salad_seconds / salad_bytes / prose_per_byte
    print(f"salad/prose cost per byte: {ratio:.0f}")
    assert ratio < 80, ratio


def test_salad_is_read_without_a_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prefilter's atom searches stay cheap on salad in every script, so no probe
    times a text to pick its path: what a text costs does not depend on the machine's
    load (the old probe, on a loaded machine, sent ordinary text down the ~2 ms path)."""

    def no_clock() -> int:
        raise AssertionError("the grammar read the clock")

    monkeypatch.setattr(time, "thread_time_ns", no_clock)
    monkeypatch.setattr(time, "perf_counter_ns", no_clock)
    for salad in _salads(2048, 11_000):
        matched(salad)
