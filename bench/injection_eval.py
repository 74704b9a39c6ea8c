"""TPR of the injection check at fixed false-positive rates, per family, on labelled sets.

    python -m bench.injection_eval [--data DIR]

Reads ``attacks.jsonl`` and ``benign.jsonl`` (tests/data/injection, built by its
build.py). A text's score is the highest finding score of the check on it. For each
target FPR (1 %, 2 %) the threshold is the lowest score that keeps the benign texts
flagged at or under that rate; TPR is then given per family and per direct/indirect.
Also: TPR and FPR at the shipped default threshold (0.5), and a calibration table
(share of attacks among texts per score band).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from guard.checks.injection import InjectionCheck, InjectionConfig

DATA = Path(__file__).parent.parent / "tests" / "data" / "injection"
TARGETS = (0.01, 0.02)


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _threshold(benign: list[float], fpr: float) -> float:
    """Lowest threshold with at most ``fpr`` of benign scores at or above it."""
    ranked = sorted(benign, reverse=True)
    allowed = int(fpr * len(ranked))
    if allowed >= len(ranked):
        return 0.0
    # Flag strictly above the (allowed+1)-th highest benign score.
    return ranked[allowed] + 1e-9


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.injection_eval", description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    check = InjectionCheck(InjectionConfig(check="injection"))

    def score(text: str) -> float:
        return max((f.score for f in check.scan(text)), default=0.0)

    attacks = _load(args.data / "attacks.jsonl")
    benign = _load(args.data / "benign.jsonl")
    attack_scores = [(row, score(row["text"])) for row in attacks]
    benign_scores = [score(row["text"]) for row in benign]
    print(f"{len(attacks)} attacks, {len(benign)} benign texts")
    groups: dict[str, list[float]] = defaultdict(list)
    for row, value in attack_scores:
        groups[f"{row['family']}/{row['where']}"].append(value)
        groups[f"ALL/{row['where']}"].append(value)
    thresholds = {fpr: _threshold(benign_scores, fpr) for fpr in TARGETS}
    header = "group".ljust(28) + "n".rjust(6)
    header += "".join(f"  TPR@{fpr:.0%}FPR".rjust(13) for fpr in TARGETS) + "  TPR@0.5".rjust(10)
    print(header)
    for name in sorted(groups):
        values = groups[name]
        line = name.ljust(28) + str(len(values)).rjust(6)
        for fpr in TARGETS:
            line += f"{sum(v >= thresholds[fpr] for v in values) / len(values):13.3f}"
        line += f"{sum(v >= 0.5 for v in values) / len(values):10.3f}"
        print(line)
    for fpr in TARGETS:
        print(f"threshold at {fpr:.0%} FPR: {thresholds[fpr]:.3f}")
    print(
        f"benign FPR at the default threshold 0.5: "
        f"{sum(v >= 0.5 for v in benign_scores) / len(benign_scores):.4f}"
    )
    print("calibration (score band: texts, share that are attacks)")
    bands = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.8), (0.8, 0.95), (0.95, 1.01)]
    for low, high in bands:
        hits = [1 for _, v in attack_scores if low <= v < high]
        clean = [1 for v in benign_scores if low <= v < high]
        total = len(hits) + len(clean)
        share = len(hits) / total if total else float("nan")
        print(f"  [{low:.2f}, {high:.2f}): {total:5d}  {share:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
