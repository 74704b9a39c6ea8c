"""Does a fine-tuned encoder lift the injection check on sources it never trained on, alone
or as a cascade behind the lexical score? (issue 22, session 7: it does not. Grouped folds,
TPR at 2 % FPR direct / indirect: lexical 0.531 / 0.514, tuned alone 0.213 / 0.212, best
cascade 0.468 / 0.487; nothing of it ships. Figures: the session-7 report of issue 22.)

    python scripts/injection_tune.py cache --plan twin          # see that script
    python scripts/injection_tune.py train --plan twin --epochs 2
    python scripts/train_injection.py --fit-only --out /tmp/injtune/twin.json
    python -m bench.injection_tune_eval twin --tuned /tmp/injtune/scores_twin_....json \\
        --lexical-model /tmp/injtune/twin.json
    python -m bench.injection_tune_eval folds --tuned 'scores_fold*of5_*.json' \\
        --lexical-oof /tmp/injdeep/lex_oof.json

Needs numpy (the tuned scores are read from the training script's JSON output, so neither
torch nor the encoder is needed here). Scorers, each thresholded at 1 % / 2 % FPR on the
scored benign texts (sources the models never trained on):

- ``lexical``: the shipped recipe's score (``twin``: its fit-only twin; ``folds``: the
  35-fold out-of-fold dump of ``bench.injection_eval --cv --dump``, trained on 34 sources,
  so *more* than the tuned model's folds: the comparison favours the lexical score);
- ``tuned``: the fine-tuned encoder's logit alone;
- ``cascade[lo,hi]``: the lexical score outside the unsure band [lo, hi); inside it,
  lo + (hi - lo) * sigmoid(tuned): the encoder runs only for texts in the band and can
  only reorder them (a lexical score at or above hi still flags, below lo never does);
- ``up[lo,hi]``: the same, but the encoder may only raise a score in the band (the higher
  of the two); added after the first look at the twin (the plain cascade undid the
  lexical score's standing cues, which sit at 0.6, inside every band);
- ``rankmax`` / ``rankavg``: the two scores each mapped to their benign rank (the share of
  scored benign texts below), then the higher / the mean (both need the encoder on every
  text: an upper bound on what the pair can do, not a cascade).

Also printed: the share of benign texts whose lexical score falls in each band (how often
the cascade would run the encoder on benign traffic like this set's).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.injection_data import load_rows
from bench.injection_eval import TARGETS, threshold_at

BANDS = ((0.05, 0.95), (0.1, 0.9), (0.2, 0.8), (0.3, 0.7))
WEAK_MIN = 20


def digest(text: str) -> str:
    """The training script's key of a text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def cascade(lexical: Any, tuned: Any, low: float, high: float) -> Any:
    """Lexical outside [low, high); inside, the tuned score squeezed into the band."""
    inside = (lexical >= low) & (lexical < high)
    squeezed = low + (high - low) / (1 + np.exp(-tuned))
    return np.where(inside, squeezed, lexical)


def cascade_up(lexical: Any, tuned: Any, low: float, high: float) -> Any:
    """As :func:`cascade`, but inside the band the encoder may only raise the lexical score."""
    return np.maximum(lexical, cascade(lexical, tuned, low, high))


def benign_rank(scores: Any, labels: Any) -> Any:
    """Each score as the share of benign scores strictly below it."""
    benign = np.sort(scores[labels == 0])
    return np.searchsorted(benign, scores, side="left") / len(benign)


def scorers(lexical: Any, tuned: Any, labels: Any) -> dict[str, Any]:
    """Every compared scorer over the same rows."""
    out = {"lexical": lexical, "tuned": tuned}
    for low, high in BANDS:
        out[f"cascade[{low},{high}]"] = cascade(lexical, tuned, low, high)
    for low, high in BANDS:
        out[f"up[{low},{high}]"] = cascade_up(lexical, tuned, low, high)
    lexical_rank, tuned_rank = benign_rank(lexical, labels), benign_rank(tuned, labels)
    out["rankmax"] = np.maximum(lexical_rank, tuned_rank)
    out["rankavg"] = (lexical_rank + tuned_rank) / 2
    return out


def report(rows: list[dict[str, Any]], lexical: Any, tuned: Any) -> None:
    """The tables: direct / indirect at 1 % / 2 % FPR, per source at 2 %, band shares."""
    labels = np.array([r["label"] for r in rows])
    where = np.array([r.get("where", "") for r in rows])
    sources = np.array([r["source"] for r in rows])
    scored = scorers(lexical, tuned, labels)
    print(f"{int((labels == 1).sum())} attacks, {int((labels == 0).sum())} benign texts")
    thresholds = {
        name: {fpr: threshold_at(list(s[labels == 0]), fpr) for fpr in TARGETS}
        for name, s in scored.items()
    }
    print("\nscorer                 direct@1%  direct@2%  indirect@1%  indirect@2%")
    for name, s in scored.items():
        line = name.ljust(22)
        for kind in ("direct", "indirect"):
            chosen = (labels == 1) & (where == kind)
            for fpr in TARGETS:
                line += f"{np.mean(s[chosen] >= thresholds[name][fpr]):11.3f}"
        print(line)
    names = list(scored)
    print("\nper source at 2 % FPR (attacks: TPR; benign: FPR)")
    print("source".ljust(30) + "".join(n[:12].rjust(13) for n in names) + "      n")
    for source in sorted(set(sources)):
        for label, word in ((1, "TPR"), (0, "FPR")):
            chosen = (sources == source) & (labels == label)
            if not chosen.any():
                continue
            line = f"{source} {word}".ljust(30)
            for name in names:
                line += f"{np.mean(scored[name][chosen] >= thresholds[name][0.02]):13.3f}"
            print(line + f"{int(chosen.sum()):7d}")
    benign = lexical[labels == 0]
    print("\nshare of benign texts in the unsure band (the encoder runs for these)")
    for low, high in BANDS:
        print(f"  [{low}, {high}): {np.mean((benign >= low) & (benign < high)):.3f}")
    for fpr in TARGETS:
        print(f"lexical threshold at {fpr:.0%} FPR: {thresholds['lexical'][fpr]:.3f}")


def tuned_logits(pattern: str) -> dict[tuple[str, str, int], float]:
    """(text key, source, label) -> logit, from one or more training-script outputs."""
    out = {}
    for path in sorted(glob.glob(pattern)):
        for r in json.loads(Path(path).read_text(encoding="utf-8")):
            out[(r["key"], r["source"], r["label"])] = r["logit"]
    if not out:
        raise SystemExit(f"no tuned scores match {pattern}")
    return out


def twin(tuned_pattern: str, model: Path) -> None:
    """The fixed held-out split, lexical score from the fit-only twin model."""
    from guard.checks._injection_model import model_from
    from guard.checks._injection_score import text_score

    chosen = model_from(json.loads(model.read_text(encoding="utf-8")))
    tuned_of = tuned_logits(tuned_pattern)
    rows = [r for r in load_rows() if r["split"] == "heldout"]
    keys = [(digest(r["text"]), r["source"], r["label"]) for r in rows]
    lexical = np.array([text_score(r["text"], chosen) for r in rows])
    report(rows, lexical, np.array([tuned_of[k] for k in keys]))


def folds(tuned_pattern: str, oof: Path) -> None:
    """Grouped folds: every scored row, lexical score from the out-of-fold dump."""
    tuned_of = tuned_logits(tuned_pattern)
    dumped = json.loads(oof.read_text(encoding="utf-8"))
    rows = [r for r in dumped if (digest(r["text"]), r["source"], r["label"]) in tuned_of]
    keys = [(digest(r["text"]), r["source"], r["label"]) for r in rows]
    print(f"{len(rows)} rows with both scores ({len(tuned_of)} tuned)")
    lexical = np.array([r["score"] for r in rows])
    report(rows, lexical, np.array([tuned_of[k] for k in keys]))


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.injection_tune_eval", description=__doc__
    )
    parser.add_argument("split", choices=("twin", "folds"))
    parser.add_argument("--tuned", required=True, help="glob of the training script's scores")
    parser.add_argument("--lexical-model", type=Path, default=Path("/tmp/injtune/twin.json"))
    parser.add_argument("--lexical-oof", type=Path, default=Path("/tmp/injtune/lex_oof.json"))
    args = parser.parse_args()
    if args.split == "twin":
        twin(args.tuned, args.lexical_model)
    else:
        folds(args.tuned, args.lexical_oof)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
