"""Speed work on the scorer must not change what it says: every assessment of the
evaluation set and of the bench texts is compared with a snapshot taken before it.

The snapshot (``assessments.json`` beside this file) holds one short digest per case of
the whole :class:`~guard.grounding.Assessment` (scores, spans, passage ids, reasons,
citations), so a failure names the cases that moved. A deliberate change of results
regenerates it: ``python -m tests.grounding.test_snapshot`` (say why in the commit).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.grounding import answer, passage
from bench.grounding_eval import load
from guard.grounding import Assessment, assess, passages

SNAPSHOT = Path(__file__).with_name("assessments.json")


def _cases() -> Iterator[tuple[str, str, list[Any], str | None]]:
    """(name, answer, passages, question) of every snapshot case."""
    for case in load():
        yield case["id"], case["answer"], case["passages"], None
    # The bench's synthetic texts: many passages, figures and names in every sentence.
    for name, count in (("8KB", 4), ("20x2KB", 20)):
        texts = [passage(2_000, seed) for seed in range(count)]
        for seed in range(3, 11):
            yield f"bench-{name}-{seed}", answer(texts, 1_000, seed), texts, None
    # A question, citations and passages as dicts and in a different order.
    for case in load()[::7]:
        given = [
            {"id": f"doc-{n}", "text": p if isinstance(p, str) else p["text"]}
            for n, p in enumerate(case["passages"], start=1)
        ]
        cited = " ".join(
            f"{s} [doc-{n % 3 + 1}]." for n, s in enumerate(case["answer"].split(". "))
        )
        question = case["answer"].split(".")[0] + "?"
        yield f"{case['id']}-cited", cited, given[::-1], question


def _digest(result: Assessment) -> str:
    record = json.dumps(dataclasses.asdict(result), sort_keys=True)
    return hashlib.sha256(record.encode()).hexdigest()[:16]


def current(*, fresh: bool) -> dict[str, str]:
    """Digest per case, every passage first seen (``fresh``) or all caches warm."""
    out: dict[str, str] = {}
    for name, text, given, question in _cases():
        if fresh:
            passages.clear_cache()
        out[name] = _digest(assess(text, given, question=question))
    return out


def test_assessments_match_the_snapshot_at_first_sight() -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    found = current(fresh=True)
    moved = sorted(name for name in expected if found.get(name) != expected[name])
    assert not moved, f"{len(moved)} assessments changed: {moved[:20]}"
    assert found.keys() == expected.keys()


def test_assessments_match_the_snapshot_with_warm_caches() -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    current(fresh=False)  # every passage read and every index cached
    found = current(fresh=False)
    moved = sorted(name for name in expected if found.get(name) != expected[name])
    assert not moved, f"{len(moved)} assessments changed: {moved[:20]}"


if __name__ == "__main__":
    digests = current(fresh=True)
    SNAPSHOT.write_text(json.dumps(digests, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(digests)} digests to {SNAPSHOT}", file=sys.stderr)
