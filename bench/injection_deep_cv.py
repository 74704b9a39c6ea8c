"""Grouped leave-one-source-out CV of the deep stage (part of ``bench.injection_deep_eval``).

Every source is scored by heads fitted on the other sources; thresholds come from the
pooled out-of-fold benign scores, as in ``bench.injection_eval --cv``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.injection_data import load_rows
from bench.injection_deep_eval import HARD_NEGATIVES, digest
from bench.injection_eval import TARGETS, table, threshold_at


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def load(cache: Path, lexical: Path) -> tuple[list[dict[str, Any]], Any, list[Any], Any]:
    """Rows, window vectors, each row's window indices, each row's lexical OOF score."""
    stored = np.load(cache)
    position = {str(key): i for i, key in enumerate(stored["keys"])}
    owners = stored["owners"]
    per_text: dict[int, list[int]] = defaultdict(list)
    for window, owner in enumerate(owners):
        per_text[int(owner)].append(window)
    dumped = json.loads(lexical.read_text(encoding="utf-8"))
    lexical_of = {(digest(r["text"]), r["source"], r["label"]): r["score"] for r in dumped}
    rows = [row for row in load_rows() if not row.get("augmented")]
    missing = [r for r in rows if (digest(r["text"]), r["source"], r["label"]) not in lexical_of]
    if missing:
        print(f"rows without a lexical score (left out): {len(missing)}")
        rows = [r for r in rows if (digest(r["text"]), r["source"], r["label"]) in lexical_of]
    windows = [np.array(per_text[position[digest(row["text"])]]) for row in rows]
    lexical_scores = np.array(
        [lexical_of[(digest(r["text"]), r["source"], r["label"])] for r in rows]
    )
    return rows, stored["vectors"], windows, lexical_scores


def deep_oof(
    rows: list[dict[str, Any]], vectors: Any, windows: list[Any], c_value: float, balance: str
) -> Any:
    """Each row's deep logit (max over its windows) from a head fitted without its source
    (``balance``: ``label``, both labels weigh the same; ``source``, every (source, label)
    pair weighs the same, so the largest sources do not set the direction alone)."""
    labels = np.array([row["label"] for row in rows])
    groups = np.array([row["source"] for row in rows])
    window_rows = np.concatenate([np.full(len(w), i) for i, w in enumerate(windows)])
    window_index = np.concatenate(windows)
    pairs = [f"{row['source']}/{row['label']}" for row in rows]
    counts: dict[str, int] = defaultdict(int)
    for pair in pairs:
        counts[pair] += 1
    pair_weight = np.array([1.0 / counts[pair] for pair in pairs])
    out = np.zeros(len(rows))
    for source in sorted(set(groups)):
        train = groups[window_rows] != source
        weighting = "balanced" if balance == "label" else None
        head = LogisticRegression(C=c_value, class_weight=weighting, max_iter=2000)
        weights = None
        if balance == "source":
            raw = pair_weight[window_rows[train]]
            kept = labels[window_rows[train]]
            for label in (0, 1):
                raw[kept == label] /= raw[kept == label].sum()
            weights = raw * len(raw) / 2
        head.fit(vectors[window_index[train]], labels[window_rows[train]], sample_weight=weights)
        held = np.flatnonzero(groups == source)
        for i in held:
            out[i] = float(np.max(head.decision_function(vectors[windows[i]])))
    return out


def stack_oof(rows: list[dict[str, Any]], features: Any) -> Any:
    """A logistic stack over the features, fitted in each fold on the other sources."""
    labels = np.array([row["label"] for row in rows])
    groups = np.array([row["source"] for row in rows])
    out = np.zeros(len(rows))
    for source in sorted(set(groups)):
        train = groups != source
        stack = LogisticRegression(C=1.0, class_weight="balanced")
        stack.fit(features[train], labels[train])
        out[~train] = stack.decision_function(features[~train])
    return out


def benign_rank(rows: list[dict[str, Any]], scores: Any) -> Any:
    """Each score as the share of pooled benign scores below it."""
    benign = np.sort(scores[np.array([row["label"] == 0 for row in rows])])
    return np.searchsorted(benign, scores, side="left") / len(benign)


def summary(rows: list[dict[str, Any]], scorers: dict[str, Any]) -> None:
    """Direct / indirect TPR at 1 % and 2 % FPR, per source, hard-negative FPR."""
    labels = np.array([row["label"] for row in rows])
    where = np.array([row.get("where", "") for row in rows])
    sources = np.array([row["source"] for row in rows])
    thresholds = {
        name: {fpr: threshold_at(list(s[labels == 0]), fpr) for fpr in TARGETS}
        for name, s in scorers.items()
    }
    print("\nscorer      direct@1%  direct@2%  indirect@1%  indirect@2%")
    for name, s in scorers.items():
        line = name.ljust(10)
        for kind in ("direct", "indirect"):
            chosen = (labels == 1) & (where == kind)
            for fpr in TARGETS:
                line += f"{np.mean(s[chosen] >= thresholds[name][fpr]):11.3f}"
        print(line)
    print("\nper source at 2 % FPR (attacks: TPR; benign-only sources: FPR)")
    print("source".ljust(26) + "".join(name.rjust(10) for name in scorers) + "      n")
    for source in sorted(set(sources)):
        for label, word in ((1, "TPR"), (0, "FPR")):
            chosen = (sources == source) & (labels == label)
            if not chosen.any() or (label == 0 and source not in HARD_NEGATIVES):
                continue
            line = f"{source} {word}".ljust(26)
            for name, s in scorers.items():
                line += f"{np.mean(s[chosen] >= thresholds[name][0.02]):10.3f}"
            print(line + f"{int(chosen.sum()):7d}")


def run(cache: Path, lexical: Path, c_value: float, balance: str = "label") -> None:
    """The whole comparison, printed."""
    rows, vectors, windows, lexical_scores = load(cache, lexical)
    print(f"{len(rows)} rows, {len(vectors)} windows; deep head C={c_value} balance={balance}")
    deep = deep_oof(rows, vectors, windows, c_value, balance)
    lexical_logit = np.array([_logit(p) for p in lexical_scores])
    stacked = stack_oof(rows, np.column_stack([lexical_logit, deep]))
    higher = np.maximum(benign_rank(rows, lexical_scores), benign_rank(rows, deep))
    scorers = {"lexical": lexical_scores, "deep": deep, "stack": stacked, "max": higher}
    np.savez(
        cache.with_name(f"oof_c{c_value}_{balance}.npz"),
        sources=np.array([row["source"] for row in rows]),
        **{name: np.asarray(s) for name, s in scorers.items()},
    )
    summary(rows, scorers)
    for name in ("deep", "stack"):
        probability = 1 / (1 + np.exp(-np.asarray(scorers[name])))
        table(
            f"{name}, leave-one-source-out", list(zip(rows, map(float, probability), strict=True))
        )
