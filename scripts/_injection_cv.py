"""Leave-one-source-out cross-validation and calibration of the injection scorer.

Part of ``scripts/_injection_training.py`` (kept apart: how a recipe is *judged*, not how
it is fitted). Each source's rows are scored by a model trained on every other source;
the shipped calibration is read off those out-of-fold scores. Needs numpy and
scikit-learn.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _injection_training import Featurized, Recipe, fit, row_logits

_SHARED: dict[str, Any] = {}


def _fold(source: str) -> tuple[np.ndarray, np.ndarray]:
    data, recipe = _SHARED["data"], _SHARED["recipe"]
    held = np.flatnonzero(data.groups == source)
    train = np.flatnonzero(data.groups != source)
    if len(set(data.labels[train])) < 2:
        return held, np.zeros(len(held))
    return held, row_logits(fit(data, train, recipe), data, held)


def grouped_scores(
    data: Featurized,
    recipe: Recipe,
    log: bool = True,
    jobs: int = 1,
    sources: list[str] | None = None,
) -> np.ndarray:
    """Out-of-fold logits: each source's rows scored by a model trained on the others
    (``sources``: only those folds, a quicker screen; ``jobs``: folds in parallel, by
    fork, so the featurized rows are shared rather than copied)."""
    logits = np.zeros(len(data.rows))
    folds = sorted(sources or set(data.groups))
    _SHARED.update(data=data, recipe=recipe)
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.imap(_fold, folds)
            for source, (held, scores) in zip(folds, results, strict=True):
                logits[held] = scores
                if log:
                    print(f"  fold {source}: {len(held)} rows", file=sys.stderr)
    else:
        for source in folds:
            held, scores = _fold(source)
            logits[held] = scores
            if log:
                print(f"  fold {source}: {len(held)} rows", file=sys.stderr)
    return logits


def subset(data: Featurized, keep: list[int]) -> Featurized:
    """The per-row arrays of rows ``keep`` (for calibrating a partial cross-validation;
    the window matrix is not sliced)."""
    import dataclasses

    index = np.array(keep)
    return dataclasses.replace(
        data,
        rows=[data.rows[i] for i in keep],
        labels=data.labels[index],
        groups=data.groups[index],
        weights=data.weights[index],
        grammar=data.grammar[index],
        stands=data.stands[index],
        floors=data.floors[index],
    )


#: Where the calibrated 0.5 sits: this share of unseen-source benign texts above it.
CALIBRATED_FPR = 0.015


def calibration(data: Featurized, logits: np.ndarray) -> tuple[float, float]:
    """``scale`` from a Platt fit of out-of-fold logits (source-balanced), ``shift`` so
    that 0.5 is the :data:`CALIBRATED_FPR` point of the out-of-fold benign logits."""
    real = np.array([not row.get("augmented") for row in data.rows])
    platt = LogisticRegression(C=100.0)
    platt.fit(logits[real, None], data.labels[real], sample_weight=data.weights[real])
    scale = float(platt.coef_[0][0])
    benign = np.sort(logits[real & (data.labels == 0)])[::-1]
    shift = float(benign[int(CALIBRATED_FPR * len(benign))])
    return scale, shift
