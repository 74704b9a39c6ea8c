"""Static word vectors as features of the injection scorer (``Recipe.static``).

Part of ``scripts/_injection_training.py``. The vectors are distilled from a sentence
encoder by ``scripts/injection_static_vectors.py`` (one vector per word of a vocabulary,
the word embedded alone); here they are reduced (PCA to ``static_dims``), weighted by
word frequency (SIF: ``a / (a + p(word))``, so "the" weighs little) and summed over each
window: a window's static features are the sum of its words' vectors over the window
length. The logistic regression fits them beside the word and pair counts.

Because the head is linear and the features a sum over the window's words, a window's
static part is a sum of one number per word, ``vector(word) . weights / window``: the
export folds that number into each vocabulary word's weight, so the shipped model is
still a dictionary of word weights (only longer: words the training rows never had get a
weight from their vector), and inference is unchanged. Needs numpy and scipy.

Measured (session 6, issue 22; grouped CV on 13 left-out sources, the weak ones and the
hard negatives): no lift. TPR at 2 % FPR direct / indirect 0.289 / 0.248 without,
0.289 / 0.247 with (``static_scale`` 1), 0.287 / 0.250 (scale 4); at 1 % FPR scale 4 is
worse (0.174 against 0.206 direct). So ``Recipe.static`` is off; figures and commands in
tests/data/injection/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

#: Feature name prefix of a static dimension.
STATIC_PREFIX = "static:"


@dataclass(frozen=True)
class StaticVectors:
    """Reduced, frequency-weighted vectors of a vocabulary."""

    index: dict[str, int]
    vectors: np.ndarray


@lru_cache(maxsize=4)
def static_vectors(path: str, dims: int, sif: float, listed_only: bool) -> StaticVectors:
    """The vectors of ``path`` (see the module docstring), PCA-reduced to ``dims``
    (``listed_only``: only the word lists' words, not those taken from the rows — what a
    source never seen would find)."""
    data = np.load(Path(path))
    keep = data["frequency"] > 0 if listed_only else np.ones(len(data["words"]), bool)
    words = [str(w) for w in data["words"][keep]]
    vectors = data["vectors"][keep].astype(np.float64)
    frequency = data["frequency"][keep]
    vectors -= vectors.mean(axis=0)
    if 0 < dims < vectors.shape[1]:
        _, _, components = np.linalg.svd(vectors[:: max(1, len(words) // 40000)], False)
        vectors = vectors @ components[:dims].T
    if sif > 0:
        vectors *= (sif / (sif + frequency))[:, None]
    vectors /= np.abs(vectors).std()
    return StaticVectors({w: i for i, w in enumerate(words)}, vectors)


def with_static(matrix: Any, names: list[str], recipe: Any) -> tuple[Any, list[str]]:
    """``matrix`` with the static columns of each window appended (and their names)."""
    table = static_vectors(
        recipe.static, recipe.static_dims, recipe.static_sif, recipe.static_listed_only
    )
    rows, lookup = [], []
    for column, name in enumerate(names):
        found = table.index.get(name)
        if found is not None and " " not in name:
            rows.append(found)
            lookup.append(column)
    words = matrix[:, lookup]
    static = words @ table.vectors[rows] * (recipe.static_scale / recipe.window)
    columns = [STATIC_PREFIX + str(i) for i in range(static.shape[1])]
    return sparse.hstack([matrix, sparse.csr_matrix(static)], format="csr"), names + columns


def folded_weights(
    coefficients: np.ndarray, names: list[str], recipe: Any, minimum: float
) -> dict[str, float]:
    """Each vocabulary word's static weight (``vector . weights / window``), for the
    words whose weight is at least ``minimum`` in size."""
    table = static_vectors(
        recipe.static, recipe.static_dims, recipe.static_sif, recipe.static_listed_only
    )
    head = np.array(
        [coefficients[i] for i, name in enumerate(names) if name.startswith(STATIC_PREFIX)]
    )
    per_word = table.vectors @ head * (recipe.static_scale / recipe.window)
    return {
        word: float(per_word[i]) for word, i in table.index.items() if abs(per_word[i]) >= minimum
    }
