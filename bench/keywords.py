"""Keyword lists at scale: the rules check with 100, 10,000 and 50,000 terms on 2 KB of
prose, their load times (policy validation and the keyword automaton, not the making of
the term lists), and the ``strict`` pack on 2 KB (issue 22: 10,000 terms cost < 1.5x
100; strict <= 1 ms).

Terms are two- and three-word phrases from a syllable generator; a tenth of them start
with a word of the text (``invoices ...``), so the scan meets partial matches as real
denylists do. The two sizes alternate in rounds (ABAB) so a loaded machine slows both
alike; a row's ``ratio`` is its median over the 100-term one.
"""

from __future__ import annotations

import random
import statistics
import time

from prometheus_client import CollectorRegistry

from bench._runner import Result, measure
from bench.texts import _WORDS, prose
from guard import Guard, Policy

_SYLLABLES = "ka lo mi ra tu ve zo pe ni sa do gu fe ha ji".split()


def terms(count: int, seed: int = 11) -> list[str]:
    """``count`` distinct phrases; every tenth starts with a word of the bench prose."""
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        words = [
            "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
            for _ in range(rng.randint(2, 3))
        ]
        if len(found) % 10 == 0:
            words[0] = rng.choice(_WORDS)
        found.add(" ".join(words))
    return sorted(found)


def keyword_guard(count: int, listed: list[str] | None = None) -> Guard:
    """A guard whose input check denies ``listed`` (default: ``terms(count)``)."""
    policy = Policy.from_dict(
        {
            "name": f"keywords-{count}",
            "input": [
                {
                    "check": "rules",
                    "rules": [
                        {"name": "deny", "keywords": listed or terms(count), "action": "block"}
                    ],
                }
            ],
        }
    )
    return Guard(policy, registry=CollectorRegistry())


#: Term-list sizes measured, the first being the ratios' baseline.
SIZES = (100, 10_000, 50_000)
_calls = iter(range(10**12))


def _fresh(texts: list[str]) -> str:
    """A text never checked before (the findings cache would answer a repeated one)."""
    number = next(_calls)
    return f"{texts[number % len(texts)]} {number:09d}"


def _round(guard: Guard, texts: list[str], calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        text = _fresh(texts)
        started = time.perf_counter()
        guard.check_input(text)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(seconds: float) -> list[Result]:
    text = prose(2_000)
    texts = [prose(2_000 - 10, seed=n) for n in range(50)]
    results = []
    built: dict[int, Guard] = {}
    for count in SIZES:
        listed = terms(count)
        started = time.perf_counter()
        built[count] = keyword_guard(count, listed)
        load_ms = (time.perf_counter() - started) * 1000
        assert not built[count].check_input(text).blocked
        results.append(Result(f"keywords.load.{count}", 1, load_ms, load_ms, load_ms))
    samples: dict[int, list[float]] = {count: [] for count in SIZES}
    deadline = time.perf_counter() + 2 * seconds
    while time.perf_counter() < deadline:
        for count, guard in built.items():
            samples[count].extend(_round(guard, texts, 50))
    medians = {count: statistics.median(values) for count, values in samples.items()}
    for count, values in samples.items():
        ordered = sorted(values)
        results.append(
            Result(
                f"keywords.input.{count}terms.2000B",
                len(values),
                medians[count],
                ordered[int(0.99 * (len(ordered) - 1))],
                statistics.fmean(values),
                {"ratio": round(medians[count] / medians[100], 2)},
            )
        )
    strict = Guard("strict", registry=CollectorRegistry())
    results.append(
        measure(
            "engine.strict.input.2000B", lambda: strict.check_input(_fresh(texts)), seconds=seconds
        )
    )
    return results
