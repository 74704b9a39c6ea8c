"""The lexical scorer's out-of-fold scores over the same grouped folds as the fine-tuned
encoder's (``scripts/injection_tune.py --plan foldKofN``), so the two are compared on
equal terms (issue 22, session 7; the 35-fold leave-one-source-out dump trains each
fold on more sources than a 5-fold split does).

    python -m bench.injection_tune_lexical --folds 5 --dump /tmp/injtune/lex_fold5.json

Needs numpy and scikit-learn. The shipped recipe, its calibration read off these
out-of-fold scores as ``bench.injection_eval --cv`` does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from bench.injection_data import load_rows

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.injection_tune_lexical")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--dump", type=Path, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(SCRIPTS))
    training = __import__("_injection_training")
    validation = __import__("_injection_cv")
    fold_of = __import__("_injection_tune_rows").fold_of
    recipe = training.Recipe()
    rows = training.training_rows(load_rows())
    data = training.featurize(rows, recipe)
    by_fold = np.array([f"fold{fold_of(row['source'], args.folds)}" for row in rows])
    grouped = dataclasses.replace(data, groups=by_fold)
    logits = validation.grouped_scores(grouped, recipe, jobs=args.jobs)
    scale, shift = validation.calibration(data, logits)
    scores = training.final_scores(logits, data, scale, shift)
    real = [
        {**row, "score": float(v)}
        for row, v in zip(rows, scores, strict=True)
        if not row.get("augmented")
    ]
    args.dump.write_text(json.dumps(real), encoding="utf-8")
    print(f"{len(real)} rows; calibration scale {scale:.3f} shift {shift:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
