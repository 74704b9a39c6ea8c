"""Evaluate the grounding scorer on the labelled set in ``tests/data/grounding``.

``python -m bench.grounding_eval [--by-source]`` prints AUROC at answer level (all
cases) and at claim level (hand-written cases, which carry claim labels), and precision
and recall of "unsupported" at the default threshold and ``min_answer_score`` (and FA,
the share of supported answers flagged: false alarms), for all
cases and per source family (``handwritten``, ``wice``, ``begin``, ``frank``). The
positive class is *unsupported*: a low score should mean a bad answer.

Samples that may not be committed (``tests/data/grounding/external/``, built by
``bench.grounding_sources``) are read too when they are there; the tests read only the
committed files.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from guard.grounding import DEFAULT_THRESHOLD, assess

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "grounding"
EXTERNAL = DATA / "external"
#: The files the issue-21 targets were set on (answer AUROC >= 0.85, claim >= 0.92).
ORIGINAL = ("handwritten.jsonl", "wice_sample.jsonl")
#: The check's default ``min_answer_score``.
MIN_ANSWER_SCORE = 0.6


def load(paths: Iterable[Path] | None = None, external: bool = False) -> list[dict[str, Any]]:
    """Every case of every committed ``*.jsonl`` file of the data directory (and of
    ``external/`` with ``external``), or of ``paths``."""
    if paths is None:
        paths = list(DATA.glob("*.jsonl"))
        if external:
            paths += EXTERNAL.glob("*.jsonl")
    cases: list[dict[str, Any]] = []
    for path in sorted(paths):
        with path.open(encoding="utf-8") as lines:
            cases.extend(json.loads(line) for line in lines if line.strip())
    return cases


def auroc(scores: Sequence[float], bad: Sequence[bool]) -> float:
    """Probability that a bad item scores lower than a good one (ties count half)."""
    good_scores = sorted(s for s, b in zip(scores, bad, strict=True) if not b)
    bad_scores = [s for s, b in zip(scores, bad, strict=True) if b]
    if not good_scores or not bad_scores:
        return float("nan")
    import bisect

    wins = 0.0
    for score in bad_scores:
        below = bisect.bisect_left(good_scores, score)
        equal = bisect.bisect_right(good_scores, score) - below
        wins += len(good_scores) - below - equal + equal / 2
    return wins / (len(good_scores) * len(bad_scores))


def precision_recall(flagged: Sequence[bool], bad: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of ``flagged`` as a detector of ``bad``."""
    hits = sum(f and b for f, b in zip(flagged, bad, strict=True))
    flagged_count, bad_count = sum(flagged), sum(bad)
    return (hits / flagged_count if flagged_count else 0.0, hits / bad_count if bad_count else 0.0)


def evaluate(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Answer- and claim-level figures for ``cases``."""
    answer_scores, answer_bad, answer_flagged = [], [], []
    claim_scores, claim_bad = [], []
    for case in cases:
        found = assess(case["answer"], case["passages"])
        answer_scores.append(found.score)
        answer_bad.append(not case["label"])
        answer_flagged.append(
            found.score < MIN_ANSWER_SCORE or any(c.score < DEFAULT_THRESHOLD for c in found.claims)
        )
        for labelled in case.get("claims", ()):
            start = case["answer"].index(labelled["text"])
            covering = [c for c in found.claims if c.start <= start < c.end]
            claim_scores.append(min((c.score for c in covering), default=1.0))
            claim_bad.append(not labelled["label"])
    claim_flagged = [s < DEFAULT_THRESHOLD for s in claim_scores]
    answer_p, answer_r = precision_recall(answer_flagged, answer_bad)
    good_flagged = [f for f, b in zip(answer_flagged, answer_bad, strict=True) if not b]
    claim_p, claim_r = precision_recall(claim_flagged, claim_bad)
    return {
        "cases": len(cases),
        "answer_auroc": auroc(answer_scores, answer_bad),
        "answer_precision": answer_p,
        "answer_recall": answer_r,
        #: Share of supported answers flagged (false alarms).
        "answer_false_alarms": sum(good_flagged) / len(good_flagged) if good_flagged else 0.0,
        "claims": len(claim_scores),
        "claim_auroc": auroc(claim_scores, claim_bad) if claim_scores else float("nan"),
        "claim_precision": claim_p,
        "claim_recall": claim_r,
    }


def _line(name: str, figures: dict[str, Any]) -> str:
    out = f"{name:<34} cases={figures['cases']:>4}  answer AUROC={figures['answer_auroc']:.3f}"
    out += f" P={figures['answer_precision']:.2f} R={figures['answer_recall']:.2f}"
    out += f" FA={figures['answer_false_alarms']:.2f}"
    if figures["claims"]:
        out += f"  | claims={figures['claims']:>4} AUROC={figures['claim_auroc']:.3f}"
        out += f" P={figures['claim_precision']:.2f} R={figures['claim_recall']:.2f}"
    return out


def family(case: dict[str, Any]) -> str:
    """The source a case comes from, without its split (``wice/dev`` -> ``wice``)."""
    return str(case["source"]).split("/")[0]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grounding_eval", description=__doc__)
    parser.add_argument("--by-source", action="store_true", help="also one line per split")
    args = parser.parse_args()
    cases = load(external=True)
    print(f"threshold={DEFAULT_THRESHOLD} min_answer_score={MIN_ANSWER_SCORE}")
    print(_line("all", evaluate(cases)))
    original = [c for c in cases if family(c) in ("handwritten", "wice")]
    print(_line("handwritten+wice (issue 21's set)", evaluate(original)))
    families: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        families.setdefault(family(case), []).append(case)
    for name in sorted(families):
        print(_line(name, evaluate(families[name])))
    groups: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        groups.setdefault(case["source"], []).append(case)
        kind = case.get("wice_label") or case["id"].rsplit("-", 1)[-1]
        if family(case) in ("handwritten", "wice"):
            groups.setdefault(f"{family(case)}:{kind}", []).append(case)
    if args.by_source:
        for name in sorted(groups):
            print(_line(name, evaluate(groups[name])))


if __name__ == "__main__":
    main()
