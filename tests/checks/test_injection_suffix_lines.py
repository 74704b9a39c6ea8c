"""The suffix reader's line scan, done with whole-line searches and running counts, finds
exactly what the chunk-by-chunk scan found (copied below as it was), on bracketed word
salad, suffix-like lines and ordinary text."""

from __future__ import annotations

import itertools
import random
import re
import time

from bench.injection import salad_vocabularies, word_salad
from bench.injection_fresh import fresh_texts
from guard.checks import _injection_obfuscation_suffix as suffix
from guard.checks._injection_obfuscation import Span


def _chunk_by_chunk(line: str, offset: int) -> Span | None:
    """``_line_hit`` before: ``_glued`` and two window sums for every chunk."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]
    if len(spans) < suffix.WINDOW:
        return None
    chunks = [line[start:end] for start, end in spans]
    plain = [suffix._PLAIN.fullmatch(chunk) is not None for chunk in chunks]
    glued = [suffix._glued(chunk) for chunk in chunks]
    for first in range(len(chunks) - suffix.WINDOW + 1):
        last = first + suffix.WINDOW
        if sum(glued[first:last]) < suffix.GLUED_NEEDED:
            continue
        if sum(plain[max(0, first - suffix.PROSE_SPAN) : first]) < suffix.PROSE_BEFORE:
            continue
        if suffix.bracket_faults(" ".join(chunks[first:last])) == 0:
            continue
        start = spans[glued.index(True, first)][0]
        end = spans[len(glued) - 1 - glued[::-1].index(True)][1]
        return offset + start, offset + end, suffix.SUFFIX_SCORE, "suffix"
    return None


_PIECES = (
    "giving**ONE", "similarlyNow", "]( Me", "([x))]", "(hili(['adratkil}]", "tikzPackage))]",
    "describing.\\ +", "revert", "with", '"\\!--Two', "please?", "a)", "(b", "x{y", "}z",
    "WriteHere", "**", "ok", "the", "model", "and", "then", "write", "oppositeley.](",
    "\u00a0", "naïve", "日本", "1)", ":)", ";-]", "[ref]", "(see", "above)",
)  # fmt: skip


def _lines(count: int, seed: int) -> list[str]:
    pick = random.Random(seed)
    lines = []
    for _ in range(count):
        size = pick.randint(5, 80)
        lines.append(" ".join(pick.choice(_PIECES) for _ in range(size)))
    return lines


def test_the_line_scan_finds_what_the_chunk_by_chunk_scan_found() -> None:
    vocabularies = sorted(salad_vocabularies().values())
    texts = _lines(3000, 1)
    texts += [
        word_salad([*words, "(x]", "])", "a)b", "{y)", "aB"], 600, n)
        for n, words in enumerate(vocabularies * 20)
    ]
    texts += list(itertools.islice(fresh_texts(seed=5), 500))
    found = 0
    for text in texts:
        for line in text.split("\n"):
            expected = _chunk_by_chunk(line, 7)
            assert suffix._line_hit(line, 7) == expected, line
            found += expected is not None
    assert found > 300  # the lines do hold suffixes


def test_a_bracketed_salad_line_costs_well_under_the_chunk_by_chunk_scan() -> None:
    """2 KB lines of bracketed salad (the suffix reader's worst case): CPU time against
    the old scan on the same lines (measured 0.70 times; 330 against 470 us per line)."""
    words = [*salad_vocabularies()["core"], "(x]", "])", "a)b", "{y)", "aB"]
    lines = [word_salad(words, 2048, 40_000 + n).replace("\n", " ") for n in range(60)]
    started = time.thread_time()
    for line in lines:
        suffix._line_hit(line, 0)
    new = time.thread_time() - started
    started = time.thread_time()
    for line in lines:
        _chunk_by_chunk(line, 0)
    old = time.thread_time() - started
    print(f"line scan new/old: {new / old:.2f}")
    assert new < 0.85 * old, new / old
