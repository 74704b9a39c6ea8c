"""Train the injection check's learned scorer and write guard/checks/injection_model.json.

    pip install numpy scikit-learn      # training only; guardwire never imports them
    python scripts/train_injection.py            # the shipped model: every labelled row
    python scripts/train_injection.py --fit-only # the same recipe without the held-out
                                                 # sources (what bench/injection_eval.py
                                                 # --heldout reports on)

Features are those of ``guard/checks/_injection_model.py``, computed by the same code:
words and word pairs of the folded text, per window of 16 tokens, plus the grammar's
score per family (recipe and its choice: scripts/_injection_training.py and
tests/data/injection/README.md).

An attack's label belongs to the window that carries the injection, not to the benign
document around it, so training is multiple-instance: every window of a benign text is a
negative; an attack contributes its strongest window under the current model (round 0:
all its windows, weighted to one example).

Weights: a templated source repeats one template with many fillers, so each row counts
one over the rows sharing its template; then every source's attacks and every source's
benign texts weigh the same in total (``--balance equal``), so no one source — and no one
source's style — dominates what the model learns.

Calibration: leave-one-source-out cross-validation (``grouped_scores``) scores every row
with a model that never saw its source; the shipped scale comes from a Platt fit of those
scores, and the shift puts 0.5 at the 1.5 % false-positive point of the benign ones.
``--report`` prints that cross-validation's table (as ``bench/injection_eval.py --cv``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
from _injection_cv import calibration, grouped_scores  # noqa: E402
from _injection_training import (  # noqa: E402
    Recipe,
    export,
    featurize,
    final_scores,
    fit,
    recipe_with,
    training_rows,
)

from bench.injection_data import load_rows  # noqa: E402
from guard.checks._injection_model import WEIGHTS_FILE  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--c", type=float, default=Recipe.c, help="inverse L2 strength")
    parser.add_argument("--window", type=int, default=Recipe.window)
    parser.add_argument("--bits", type=int, default=Recipe.bits, help="piece table size, 0: none")
    parser.add_argument("--balance", choices=("none", "sqrt", "equal"), default=Recipe.balance)
    parser.add_argument("--fit-only", action="store_true", help="leave the held-out sources out")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument(
        "--report", action="store_true", help="also print the grouped-CV table (bench --cv)"
    )
    parser.add_argument(
        "--recipe", action="append", default=[], help="any other recipe field, name=value"
    )
    parser.add_argument("--jobs", type=int, default=1, help="cross-validation folds in parallel")
    args = parser.parse_args()
    recipe = Recipe(c=args.c, window=args.window, bits=args.bits, balance=args.balance)
    recipe = recipe_with(recipe, args.recipe)
    rows = load_rows()
    if args.fit_only:
        rows = [row for row in rows if row["split"] != "heldout"]
    rows = training_rows(rows)
    data = featurize(rows, recipe)
    print(f"{len(rows)} rows, {data.matrix.shape[0]} windows", file=sys.stderr)
    scores = grouped_scores(data, recipe, jobs=args.jobs)
    scale, shift = calibration(data, scores)
    if args.report:
        from bench.injection_eval import table

        final = final_scores(scores, data, scale, shift)
        scored = [(row, float(v)) for row, v in zip(rows, final, strict=True)]
        print(f"recipe {recipe}; calibration scale {scale:.3f} shift {shift:.3f}")
        table("leave-one-source-out", [(r, v) for r, v in scored if not r.get("augmented")])
    model = fit(data, np.arange(len(rows)), recipe)
    out: dict[str, Any] = export(model, data, recipe, scale, shift)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(out['weights'])} words and pairs)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
