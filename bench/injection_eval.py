"""TPR of the injection check at fixed false-positive rates, per family, on labelled sets.

    python -m bench.injection_eval [--scorer model|grammar] [--model FILE] [--data DIR]
    python -m bench.injection_eval --cv        # needs numpy and scikit-learn

Reads the rows of :mod:`bench.injection_data` and reports two splits:

- ``heldout``: sources the model never trained on (the honest figure: score with the
  recipe trained without them, ``scripts/train_injection.py --fit-only --out FILE``, then
  ``--model FILE``; the shipped model is trained on every source);
- ``test``: the in-distribution fifth of the training sources kept out of training.

``--cv`` runs leave-one-source-out cross-validation over every source instead
(:func:`cross_validation`): each source is scored by a model trained on all the others,
the thresholds are set on the pooled out-of-fold benign texts, and the table is given
per family, direct/indirect and per source.

A text's score is the check's score for it (:func:`guard.checks._injection_score.text_score`;
``--scorer grammar`` gives last round's grammar-only noisy-OR for comparison). Per split,
the threshold for each target FPR (1 %, 2 %) is the lowest score that flags at most that
share of the split's benign texts; TPR is then given per family and direct/indirect. Also
TPR and FPR at the shipped default threshold 0.5, and a calibration table.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.injection_data import DATA, load_rows
from guard.checks._injection_model import model_from
from guard.checks._injection_score import combined, text_score
from guard.checks._injection_signals import signal_hits

TARGETS = (0.01, 0.02)
DEFAULT_THRESHOLD = 0.5
BANDS = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.8), (0.8, 0.95), (0.95, 1.01)]


def grammar_score(text: str) -> float:
    """Last round's score: the grammar families combined as a noisy-OR."""
    return combined(hit.score for hit in signal_hits(text)[1].values())


def threshold_at(benign: list[float], fpr: float) -> float:
    """Lowest threshold with at most ``fpr`` of benign scores at or above it."""
    ranked = sorted(benign, reverse=True)
    allowed = int(fpr * len(ranked))
    if allowed >= len(ranked):
        return 0.0
    return ranked[allowed] + 1e-9


def report(name: str, rows: list[dict[str, Any]], score: Callable[[str], float]) -> None:
    """Print the TPR table of one split."""
    scored = [(row, score(row["text"])) for row in rows]
    table(name, scored)


def table(name: str, scored: list[tuple[dict[str, Any], float]]) -> None:
    """Print the TPR table of scored rows: per family and direct/indirect, per source."""
    attacks = [(row, value) for row, value in scored if row["label"] == 1]
    benign = [value for row, value in scored if row["label"] == 0]
    if not attacks or not benign:
        return
    sources = sorted({row["source"] for row, _ in scored})
    print(f"\n== {name}: {len(attacks)} attacks, {len(benign)} benign; sources {sources}")
    groups: dict[str, list[float]] = defaultdict(list)
    for row, value in attacks:
        groups[f"{row['family']}/{row['where']}"].append(value)
        groups[f"ALL/{row['where']}"].append(value)
        groups["ALL/all"].append(value)
    thresholds = {fpr: threshold_at(benign, fpr) for fpr in TARGETS}
    header = "group".ljust(28) + "n".rjust(6)
    header += "".join(f"  TPR@{fpr:.0%}FPR".rjust(13) for fpr in TARGETS)
    print(header + f"  TPR@{DEFAULT_THRESHOLD}".rjust(10))
    for group in sorted(groups):
        values = groups[group]
        line = group.ljust(28) + str(len(values)).rjust(6)
        for fpr in TARGETS:
            line += f"{sum(v >= thresholds[fpr] for v in values) / len(values):13.3f}"
        line += f"{sum(v >= DEFAULT_THRESHOLD for v in values) / len(values):10.3f}"
        print(line)
    for fpr in TARGETS:
        print(f"threshold at {fpr:.0%} FPR: {thresholds[fpr]:.3f}")
    flagged = sum(v >= DEFAULT_THRESHOLD for v in benign)
    print(f"benign flagged at {DEFAULT_THRESHOLD}: {flagged} of {len(benign)}")
    _per_source(scored, thresholds[0.02])
    print("calibration (score band: texts, share that are attacks)")
    for low, high in BANDS:
        hits = sum(1 for _, v in attacks if low <= v < high)
        clean = sum(1 for v in benign if low <= v < high)
        total = hits + clean
        share = f"{hits / total:.3f}" if total else "-"
        print(f"  [{low:.2f}, {high:.2f}): {total:5d}  {share}")


def _per_source(scored: list[tuple[dict[str, Any], float]], threshold: float) -> None:
    """Attacks found and benign texts flagged per source, at the 2 % FPR threshold and 0.5."""
    print(f"per source: attacks found / benign flagged at {threshold:.3f} (2 % FPR) and at 0.5")
    for source in sorted({row["source"] for row, _ in scored}):
        line = source.ljust(26)
        for label, word in ((1, "attacks"), (0, "benign")):
            values = [v for row, v in scored if row["source"] == source and row["label"] == label]
            if values:
                at_two = sum(v >= threshold for v in values) / len(values)
                at_half = sum(v >= DEFAULT_THRESHOLD for v in values) / len(values)
                line += f"  {word} {len(values):5d}: {at_two:.3f} / {at_half:.3f}"
        print(line)


def cross_validation(
    overrides: list[str],
    jobs: int = 1,
    sources: list[str] | None = None,
    dump: Path | None = None,
) -> None:
    """Leave-one-source-out: every source scored by the recipe trained on the others
    (``overrides``: recipe fields as ``name=value``; ``sources``: only those folds)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    training = __import__("_injection_training")
    validation = __import__("_injection_cv")
    recipe = training.recipe_with(training.Recipe(), overrides)
    rows = training.training_rows(load_rows())
    data = training.featurize(rows, recipe)
    logits = validation.grouped_scores(data, recipe, jobs=jobs, sources=sources)
    if sources:
        keep = [i for i, row in enumerate(rows) if row["source"] in sources]
        rows = [rows[i] for i in keep]
        data = validation.subset(data, keep)
        logits = logits[keep]
    scale, shift = validation.calibration(data, logits)
    scores = training.final_scores(logits, data, scale, shift)
    scored = [(row, float(v)) for row, v in zip(rows, scores, strict=True)]
    real = [(row, v) for row, v in scored if not row.get("augmented")]
    if dump is not None:
        dump.write_text(json.dumps([{**row, "score": v} for row, v in real]), encoding="utf-8")
    print(f"recipe {recipe}; calibration scale {scale:.3f} shift {shift:.3f}")
    print("(0.5 is placed on these same out-of-fold scores: its FPR here is by construction)")
    table("leave-one-source-out, " + (", ".join(sources) if sources else "every source"), real)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.injection_eval", description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--scorer", choices=("model", "grammar"), default="model")
    parser.add_argument("--model", type=Path, help="a model file instead of the shipped one")
    parser.add_argument("--cv", action="store_true", help="grouped cross-validation")
    parser.add_argument("--jobs", type=int, default=1, help="--cv folds run in parallel")
    parser.add_argument("--dump", type=Path, help="--cv: write every row's score (JSON)")
    parser.add_argument("--folds", help="--cv: only these sources' folds (comma-separated)")
    parser.add_argument(
        "--recipe", action="append", default=[], help="--cv: a recipe field, name=value"
    )
    args = parser.parse_args()
    if args.cv:
        cross_validation(
            args.recipe, args.jobs, args.folds.split(",") if args.folds else None, args.dump
        )
        return 0
    score = text_score if args.scorer == "model" else grammar_score
    if args.model is not None:
        chosen = model_from(json.loads(args.model.read_text(encoding="utf-8")))

        def score(text: str) -> float:
            return text_score(text, chosen)

    rows = load_rows(args.data)
    for split in ("heldout", "test"):
        report(split, [row for row in rows if row["split"] == split], score)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
