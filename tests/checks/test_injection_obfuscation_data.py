"""The obfuscation and suffix signals on the labelled set (tests/data/injection).

The new signals stand on their own in the score (an ``encoded`` hit of theirs is never
outweighed by the word model), so their false positives are counted here on **every**
benign text of every source, the held-out ones included (8,263 texts: code, JSON tool
schemas, base64 images, hashes, URLs, tables, seventeen languages). The recall line is a
smoke test on the one source of optimised suffixes (GCG), not the evaluation: that is
``python -m bench.injection_eval --cv`` (figures in tests/data/injection/README.md).
The first test takes ~1.5 s of CPU (every benign text through the gate): the price of
counting on all of them rather than a sample.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any

from bench.injection_data import load_rows
from guard.checks._injection_grammar import SIGNALS
from guard.checks._injection_grammar_set import matched
from guard.checks._injection_obfuscation import SIGNS
from guard.checks._injection_signals import Hit, _obfuscated_hits
from guard.checks._regex import re2_subject
from guard.normalize import normalize


@lru_cache(maxsize=1)
def _rows() -> list[dict[str, Any]]:
    return load_rows()


def _new_signal_hits(text: str) -> list[Hit]:
    """What the obfuscation modules report on ``text``, through the same gate as the
    check (the signs of the grammar's set match), without the grammar's own work."""
    folded = normalize(text)
    signs = [
        SIGNS[number - len(SIGNALS)][0]
        for number in matched(re2_subject(folded.text))
        if number >= len(SIGNALS)
    ]
    return _obfuscated_hits(text, folded, signs) if signs else []


def test_no_benign_text_of_any_source_is_hit_by_the_new_signals() -> None:
    flagged: Counter[tuple[str, str]] = Counter()
    benign = [row for row in _rows() if row["label"] == 0]
    assert len(benign) >= 8000
    for row in benign:
        for hit in _new_signal_hits(row["text"]):
            flagged[(row["source"], hit.rule)] += 1
    assert not flagged, dict(flagged)


def test_smoke_most_optimised_suffixes_are_found() -> None:
    suffixed = [row for row in _rows() if row["source"] == "gcg-suffixes"]
    found = sum(1 for row in suffixed if _new_signal_hits(row["text"]))
    assert len(suffixed) >= 100
    assert found / len(suffixed) >= 0.8
