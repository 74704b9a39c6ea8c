"""Training and leave-one-source-out cross-validation of the injection scorer.

Shared by ``scripts/train_injection.py`` (writes the shipped model) and
``bench/injection_eval.py --cv`` (reports the grouped cross-validation). Needs numpy and
scikit-learn; guardwire itself never imports this module.

Features per window of ``Recipe.window`` tokens (half-overlapping): word counts, word-pair
counts and the grammar's score per family (:mod:`guard.checks._injection_model` reads the
same). With ``bits`` > 0 the export adds a piece table for words the model never saw: a
ridge regression learns one weight per hashed character n-gram so that a known word's
pieces add up to its weight (frequent words count more). It is off by default: the
grouped cross-validation below scores with the fold's own features only, so it does not
measure what the table adds, and the table costs ~25x on text of unseen words.
"""

from __future__ import annotations

import base64
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression, Ridge

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from guard.checks._injection_cues import CUE_PREFIX, cues_of  # noqa: E402
from guard.checks._injection_model import (  # noqa: E402
    GRAMMAR_PREFIX,
    bucket,
    pieces,
    tokens_of,
    window_starts,
)
from guard.checks._injection_score import STRONG_GRAMMAR, combined  # noqa: E402
from guard.checks._injection_signals import FAMILIES, signal_hits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _injection_rows import Row, base_weights, training_rows  # noqa: E402
from _injection_static import STATIC_PREFIX, folded_weights, with_static  # noqa: E402

__all__ = ["training_rows"]


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a trained model (chosen by grouped cross-validation)."""

    c: float = 0.5
    window: int = 16
    bits: int = 0
    balance: str = "equal"
    rounds: int = 2
    #: Windows of one benign text used as negatives (long documents would dominate).
    max_benign_windows: int = 8
    #: Ridge strength of the piece table.
    piece_alpha: float = 1.0
    #: Word pairs weighing less are not shipped (they are most of the file and move a
    #: 16-token window's logit by well under 0.15 together).
    min_pair_weight: float = 0.01
    #: Read the discourse cues of guard.checks._injection_cues as features.
    cues: bool = True
    #: Cue features left out (comma-separated names of guard.checks._injection_cues):
    #: these fire as often on benign persona requests, system prompts and data as on
    #: attacks; alone they taught the model persona requests are attacks (CV: awesome-
    #: prompts flagged 0.144 with them, 0.133 without); their conjunctions stay.
    drop: str = "persona,you_are_a,second_person_order,your_task,data_carrier"
    #: Cue feature value in training (the file's weight is the fitted one times this):
    #: above 1 regularises cue weights less than word weights.
    cue_scale: float = 1.0
    #: Cues whose presence alone sets a floor under the score (comma-separated names;
    #: the floor is ``stand_floor``): hand-picked, not fitted — conjunctions that name a
    #: jailbreak's or an indirect injection's move, each on at most 0.06 % of the benign
    #: texts (5 of 8,263; picked after counting them on every source, held-out included).
    standing: str = (
        "fiction&harmful,legitimize&you_are_a,persona&no_rules,no_rules&never_refuse,"
        "data_carrier&addresses_ai,dual_response,forced_prefix&harmful,persona&never_refuse,"
        "legitimize&harmful"
    )
    stand_floor: float = 0.6
    #: Share of the room above the floor that the model's own probability fills
    #: (InjectionModel.floored): without it every floored text ties at 0.6 and the 1 %
    #: FPR threshold lands on the tie (CV: 1 % column 0.371 direct with ties).
    stand_spread: float = 0.5
    #: Static word vectors (scripts/_injection_static.py; "": none, the default): the
    #: ``.npz`` of scripts/injection_static_vectors.py, PCA dimensions, SIF constant,
    #: feature scale. Measured in grouped CV (session 6): no lift, so off.
    static: str = ""
    static_dims: int = 64
    static_sif: float = 1e-4
    static_scale: float = 1.0
    static_listed_only: bool = False

    @property
    def stride(self) -> int:
        return self.window // 2


def recipe_with(recipe: Recipe, overrides: list[str]) -> Recipe:
    """``recipe`` with fields set from ``name=value`` strings (command-line overrides)."""
    import dataclasses

    for item in overrides:
        name, _, value = item.partition("=")
        kind = type(getattr(recipe, name))
        parsed = value.lower() in {"1", "true", "yes"} if kind is bool else kind(value)
        recipe = dataclasses.replace(recipe, **{name: parsed})
    return recipe


@dataclass
class Featurized:
    """Every window of every row as one sparse matrix, and what each row is."""

    rows: list[Row]
    matrix: Any
    #: Windows of row i: matrix rows first[i] .. first[i + 1].
    first: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    weights: np.ndarray
    #: Grammar evidence per row: its noisy-OR, and whether it stands on its own.
    grammar: np.ndarray
    stands: np.ndarray
    #: The floor a standing cue puts under each row's score (0: none).
    floors: np.ndarray
    names: list[str]
    word_counts: Counter[str] = field(default_factory=Counter)
    #: Recipe.stand_spread (how floored scores are spread above the floor).
    spread: float = 0.0


def featurize(rows: list[Row], recipe: Recipe) -> Featurized:
    """Windows of every row, as the check reads them."""
    index: dict[str, int] = {}
    indptr, indices, values = [0], [], []
    first = [0]
    grammar_scores, stands, floors = [], [], []
    standing = {name for name in recipe.standing.split(",") if name}
    word_counts: Counter[str] = Counter()
    for row in rows:
        folded, hits = signal_hits(row["text"])
        tokens = tokens_of(folded.text)
        if not row.get("augmented"):
            word_counts.update(tokens)
        grammar = {GRAMMAR_PREFIX + f: hits[f].score for f in FAMILIES if f in hits}
        cues = cues_of(folded.text, row["text"]) if recipe.cues or standing else {}
        floors.append(recipe.stand_floor if standing & set(cues) else 0.0)
        if recipe.cues:
            dropped = set(recipe.drop.split(","))
            grammar.update(
                (CUE_PREFIX + name, value * recipe.cue_scale)
                for name, value in cues.items()
                if name not in dropped
            )
        noisy_or = combined(hit.score for hit in hits.values())
        decoded = hits.get("encoded")
        grammar_scores.append(noisy_or)
        stands.append(
            noisy_or >= STRONG_GRAMMAR or (decoded is not None and decoded.rule != "zero_width")
        )
        for start in window_starts(len(tokens), recipe.window, recipe.stride):
            counts: Counter[str] = Counter(tokens[start : start + recipe.window])
            end = min(start + recipe.window, len(tokens))
            for position in range(max(start, 1), end):
                counts[tokens[position - 1] + " " + tokens[position]] += 1
            features: dict[str, float] = {name: float(n) for name, n in counts.items()}
            features.update(grammar)
            for name, value in features.items():
                indices.append(index.setdefault(name, len(index)))
                values.append(value)
            indptr.append(len(indices))
        first.append(len(indptr) - 1)
    matrix = sparse.csr_matrix(
        (np.array(values, dtype=np.float64), np.array(indices, dtype=np.int32), np.array(indptr)),
        shape=(len(indptr) - 1, len(index)),
    )
    names = [""] * len(index)
    for name, number in index.items():
        names[number] = name
    if recipe.static:
        matrix, names = with_static(matrix, names, recipe)
    return Featurized(
        rows=rows,
        matrix=matrix,
        first=np.array(first),
        labels=np.array([row["label"] for row in rows]),
        groups=np.array([row["source"] for row in rows]),
        weights=base_weights(rows, recipe.balance),
        grammar=np.array(grammar_scores),
        stands=np.array(stands),
        floors=np.array(floors),
        names=names,
        word_counts=word_counts,
        spread=recipe.stand_spread,
    )


def _window_ranges(data: Featurized, members: np.ndarray) -> list[np.ndarray]:
    return [np.arange(data.first[i], data.first[i + 1]) for i in members]


def fit(data: Featurized, members: np.ndarray, recipe: Recipe) -> LogisticRegression:
    """A model trained on rows ``members`` (multiple-instance rounds, see the module)."""
    model: LogisticRegression | None = None
    ranges = _window_ranges(data, members)
    for _ in range(recipe.rounds):
        chosen: list[np.ndarray] = []
        labels: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for row, windows in zip(members, ranges, strict=True):
            weight = data.weights[row]
            if data.labels[row] == 0:
                windows = windows[: recipe.max_benign_windows]
            elif model is not None and len(windows) > 1:
                scores = model.decision_function(data.matrix[windows])
                windows = windows[[int(np.argmax(scores))]]
            chosen.append(windows)
            labels.append(np.full(len(windows), data.labels[row]))
            weights.append(np.full(len(windows), weight / len(windows)))
        picked = np.concatenate(chosen)
        model = LogisticRegression(C=recipe.c, max_iter=3000)
        model.fit(
            data.matrix[picked], np.concatenate(labels), sample_weight=np.concatenate(weights)
        )
    assert model is not None
    return model


def row_logits(model: LogisticRegression, data: Featurized, members: np.ndarray) -> np.ndarray:
    """Each row's logit: its strongest window's (the grammar part is the same in all)."""
    windows = np.concatenate(_window_ranges(data, members))
    scores = model.decision_function(data.matrix[windows])
    counts = data.first[members + 1] - data.first[members]
    return np.maximum.reduceat(scores, np.concatenate([[0], np.cumsum(counts)[:-1]]))


def final_scores(logits: np.ndarray, data: Featurized, scale: float, shift: float) -> np.ndarray:
    """Calibrated probabilities, with strong grammar evidence standing (as the check)."""
    probability = 1.0 / (1.0 + np.exp(-np.clip(scale * (logits - shift), -60, 60)))
    spread = data.floors + (1.0 - data.floors) * data.spread * probability
    probability = np.maximum(probability, np.where(data.floors > 0, spread, 0.0))
    return np.where(data.stands, np.maximum(probability, data.grammar), probability)


def piece_table(model: LogisticRegression, data: Featurized, recipe: Recipe) -> np.ndarray:
    """One weight per piece slot, so that known words' pieces sum to their weights."""
    coefficients = model.coef_[0]
    words = [
        (name, coefficients[i])
        for i, name in enumerate(data.names)
        if " " not in name and not name.startswith(GRAMMAR_PREFIX)
    ]
    rows, columns, values = [], [], []
    for number, (word, _) in enumerate(words):
        for slot in (bucket(piece, recipe.bits) for piece in pieces(word)):
            rows.append(number)
            columns.append(slot)
            values.append(1.0)
    design = sparse.csr_matrix((values, (rows, columns)), shape=(len(words), 1 << recipe.bits))
    target = np.array([weight for _, weight in words])
    frequency = np.array([math.log1p(data.word_counts[word]) for word, _ in words])
    ridge = Ridge(alpha=recipe.piece_alpha, fit_intercept=False)
    ridge.fit(design, target, sample_weight=frequency)
    return np.asarray(ridge.coef_)


def export(
    model: LogisticRegression, data: Featurized, recipe: Recipe, scale: float, shift: float
) -> dict[str, Any]:
    """The model file's content."""
    coefficients = model.coef_[0]
    grammar = {}
    cues = {}
    weights: dict[str, float] = {}
    static = folded_weights(coefficients, data.names, recipe, 5e-4) if recipe.static else {}
    for i, name in enumerate(data.names):
        weight = round(float(coefficients[i]) + static.pop(name, 0.0), 3)
        if name.startswith(STATIC_PREFIX):
            continue
        if name.startswith(CUE_PREFIX):
            cues[name.removeprefix(CUE_PREFIX)] = round(
                float(coefficients[i]) * recipe.cue_scale, 4
            )
        elif name.startswith(GRAMMAR_PREFIX):
            grammar[name.removeprefix(GRAMMAR_PREFIX)] = round(float(coefficients[i]), 4)
        elif " " in name:
            if abs(weight) >= recipe.min_pair_weight:
                weights[name] = weight
        elif data.word_counts[name] >= 2 or weight != 0.0:
            # Known words stay listed even at 0: a missing word would be imputed instead.
            weights[name] = weight
    content: dict[str, Any] = {
        "about": {
            "trained_by": "scripts/train_injection.py",
            "recipe": {
                "c": recipe.c,
                "window": recipe.window,
                "balance": recipe.balance,
                "rounds": recipe.rounds,
                "piece_alpha": recipe.piece_alpha,
                "min_pair_weight": recipe.min_pair_weight,
                "cues": recipe.cues,
                "drop": recipe.drop,
                "cue_scale": recipe.cue_scale,
                "standing": recipe.standing,
                "stand_spread": recipe.stand_spread,
            },
            "rows": dict(
                sorted(
                    Counter(
                        f"{row['source']}/{'attack' if row['label'] else 'benign'}"
                        for row in data.rows
                        if not row.get("augmented")
                    ).items()
                )
            ),
        },
        "bias": round(float(model.intercept_[0]), 4),
        "window": recipe.window,
        "stride": recipe.stride,
        "calibration": {"scale": round(scale, 4), "shift": round(shift, 4)},
        "grammar": grammar,
        "cues": dict(sorted(cues.items())),
        "standing": {name: recipe.stand_floor for name in recipe.standing.split(",") if name},
        "standing_spread": recipe.stand_spread,
    }
    if recipe.bits:
        table = piece_table(model, data, recipe)
        peak = float(np.abs(table).max()) or 1.0
        quantised = np.clip(np.round(table / peak * 127), -127, 127).astype(np.int8)
        content["pieces"] = {
            "bits": recipe.bits,
            "scale": peak / 127,
            "table": base64.b64encode(quantised.tobytes()).decode("ascii"),
        }
    # Vocabulary words no training row had: their weight is their vector's alone.
    weights.update((word, round(value, 3)) for word, value in static.items() if round(value, 3))
    content["weights"] = dict(sorted(weights.items()))
    return content
