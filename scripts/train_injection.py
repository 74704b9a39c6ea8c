"""Train the injection check's learned scorer and write guard/checks/injection_model.json.

    pip install numpy scikit-learn      # training only; guardwire never imports them
    python scripts/train_injection.py [--c 0.5] [--keep 12000]

Reads the rows of ``bench/injection_data.py`` whose split is ``fit`` (the held-out
sources and the in-distribution test fifth are never read here). Features are those of
``guard/checks/_injection_model.py``, computed by the same code: tokens and token pairs
of the folded text, per window of ``WINDOW`` tokens, plus the grammar's score per family.

An attack's label belongs to the window that carries the injection, not to the benign
document around it, so training is multiple-instance: every window of a benign text is
a negative; an attack contributes its strongest window under the current model
(round 0: all its windows, weighted to one example). Three rounds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.feature_extraction import DictVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from bench.injection_data import load_rows  # noqa: E402
from guard.checks._injection_model import (  # noqa: E402
    GRAMMAR_PREFIX,
    WEIGHTS_FILE,
    tokens_of,
    window_starts,
)
from guard.checks._injection_signals import FAMILIES, signal_hits  # noqa: E402

DATA = ROOT / "tests" / "data" / "injection"

WINDOW = 24
STRIDE = 12
ROUNDS = 3
#: Windows of one benign text used as negatives (long documents would dominate).
MAX_BENIGN_WINDOWS = 8

Features = dict[str, float]


def windows(text: str) -> list[Features]:
    """The feature dict of each window of ``text``, as the check reads it."""
    folded, hits = signal_hits(text)
    tokens = tokens_of(folded.text)
    grammar = {GRAMMAR_PREFIX + f: hits[f].score for f in FAMILIES if f in hits}
    result = []
    for first in window_starts(len(tokens), WINDOW, STRIDE):
        counts: Counter[str] = Counter(tokens[first : first + WINDOW])
        for position in range(max(first, 1), min(first + WINDOW, len(tokens))):
            counts[tokens[position - 1] + " " + tokens[position]] += 1
        features: Features = {name: float(n) for name, n in counts.items()}
        features.update(grammar)
        result.append(features)
    return result


def _module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.parent.name + "_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Templates:
    """What the templated sources (``generated``, ``own``) fill their templates with.

    A template filled with 7 payloads and 60 topics is one piece of evidence, not 60:
    unweighted, the model learns the payloads and topics (``a poem`` -> attack,
    ``about`` -> benign) instead of the injection's wording. Each row is weighted by
    one over the rows sharing its template; and every payload is also a benign request
    (``Write a poem about pirates.``), so that its words stay neutral.
    """

    def __init__(self) -> None:
        generated = _module(DATA / "build.py")
        own = _module(DATA / "own" / "build.py")
        self.fillers = sorted(
            {
                *generated.PAYLOADS,
                *generated.TOPICS,
                *(t for tasks in own.TASKS.values() for t in tasks),
                *(t for topics in own.TOPICS.values() for t in topics),
            },
            key=len,
            reverse=True,
        )
        self.carriers = [
            tuple(c.replace("{{", "{").replace("}}", "}").split("{a}")) for c in generated.CARRIERS
        ]
        self.requests = [
            *generated.PAYLOADS,
            *(t for tasks in own.TASKS.values() for t in tasks),
        ]

    def key(self, row: dict[str, Any]) -> str:
        """The template a row was filled from (its text for other sources)."""
        text = row["text"]
        if row["source"] not in {"generated", "own"}:
            return text
        for prefix, suffix in self.carriers:
            if text.startswith(prefix) and text.endswith(suffix) and len(text) > len(prefix):
                text = text[len(prefix) : len(text) - len(suffix)]
                break
        lowered = text.lower()
        for filler in self.fillers:
            lowered = lowered.replace(filler.lower(), "{}")
        return lowered

    def fragments(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Short pieces of benign texts (one to five words) as benign rows.

        Real calls carry many short segments (a tool description, "earlier answer", a
        name); without them the model reads one word it has seen in attacks
        ("earlier", "now") as evidence, and a two-word segment could block."""
        rng = random.Random(22)
        benign = [row["text"].split() for row in rows if row["label"] == 0]
        pieces = []
        for words in rng.sample(benign, min(3000, len(benign))):
            if not words:
                continue
            size = rng.randint(1, 5)
            start = rng.randrange(max(1, len(words) - size + 1))
            pieces.append(" ".join(words[start : start + size]))
        return [{"text": t, "label": 0, "source": "fragments", "split": "fit"} for t in pieces]

    def counterfactuals(self) -> list[dict[str, Any]]:
        """Each payload as an ordinary request (benign)."""
        frames = ("{p}.", "Could you {p}?", "Please {p} for my slides.", "I need you to {p}.")
        return [
            {"text": frame.format(p=p), "label": 0, "source": "counterfactual", "split": "fit"}
            for p in self.requests
            for frame in frames
        ]


def weights_by_template(rows: list[dict[str, Any]], templates: Templates) -> list[float]:
    """One over the number of rows filled from the same template."""
    keys = [templates.key(row) for row in rows]
    counts = Counter(keys)
    return [1.0 / counts[key] for key in keys]


def _matrix(vectorizer: DictVectorizer, examples: list[Features]) -> Any:
    """Sparse rows with 32-bit indices (liblinear refuses 64-bit ones)."""
    matrix = vectorizer.transform(examples).tocsr()
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    return matrix


def _spread(rows: list[dict[str, Any]], featured: list[list[Features]]) -> Counter[str]:
    """How many sources each feature occurs in."""
    sources: dict[str, set[str]] = {}
    for row, row_windows in zip(rows, featured, strict=True):
        for name in {name for w in row_windows for name in w}:
            sources.setdefault(name, set()).add(row["source"])
    return Counter({name: len(found) for name, found in sources.items()})


def train(
    rows: list[dict[str, Any]],
    c: float,
    keep: int,
    min_sources: int,
) -> dict[str, Any]:
    """The model file's content, trained on ``rows``."""
    templates = Templates()
    rows = [*rows, *templates.counterfactuals(), *templates.fragments(rows)]
    row_weights = weights_by_template(rows, templates)
    featured = [windows(row["text"]) for row in rows]
    # A feature seen in one source only is more likely that source's style (its markup,
    # its template words) than evidence of an injection.
    spread = _spread(rows, featured)
    featured = [
        [{k: v for k, v in w.items() if spread[k] >= min_sources} for w in ws] for ws in featured
    ]
    vectorizer = DictVectorizer()
    vectorizer.fit([w for ws in featured for w in ws])

    model: LogisticRegression | None = None
    for round_number in range(ROUNDS):
        examples: list[Features] = []
        labels: list[int] = []
        weights: list[float] = []
        for row, row_windows, weight in zip(rows, featured, row_weights, strict=True):
            if row["label"] == 0:
                chosen = row_windows[:MAX_BENIGN_WINDOWS]
                examples += chosen
                labels += [0] * len(chosen)
                weights += [weight / len(chosen)] * len(chosen)
            elif model is None:
                examples += row_windows
                labels += [1] * len(row_windows)
                weights += [weight / len(row_windows)] * len(row_windows)
            else:
                scores = model.decision_function(_matrix(vectorizer, row_windows))
                examples.append(row_windows[int(np.argmax(scores))])
                labels.append(1)
                weights.append(weight)
        # No class re-weighting: the score stays a probability under the training
        # mix (about one attack in four), so 0.5 is a conservative default threshold.
        model = LogisticRegression(C=c, max_iter=4000)
        model.fit(_matrix(vectorizer, examples), labels, sample_weight=weights)
        print(f"round {round_number}: {len(examples)} windows", file=sys.stderr)

    assert model is not None
    names = vectorizer.get_feature_names_out()
    coefficients = model.coef_[0]
    order = np.argsort(-np.abs(coefficients))
    grammar = {
        str(names[i]).removeprefix(GRAMMAR_PREFIX): round(float(coefficients[i]), 4)
        for i in range(len(names))
        if str(names[i]).startswith(GRAMMAR_PREFIX)
    }
    kept: dict[str, float] = {}
    for i in order:
        name = str(names[i])
        if name.startswith(GRAMMAR_PREFIX) or abs(coefficients[i]) < 1e-3:
            continue
        kept[name] = round(float(coefficients[i]), 4)
        if len(kept) >= keep:
            break
    sources = Counter(f"{row['source']}/{'attack' if row['label'] else 'benign'}" for row in rows)
    return {
        "about": {
            "trained_by": "scripts/train_injection.py",
            "c": c,
            "min_sources": min_sources,
            "rows": dict(sorted(sources.items())),
        },
        "bias": round(float(model.intercept_[0]), 4),
        "window": WINDOW,
        "stride": STRIDE,
        "grammar": grammar,
        "weights": dict(sorted(kept.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength")
    parser.add_argument("--keep", type=int, default=12000, help="features kept, by |weight|")
    parser.add_argument("--min-sources", type=int, default=1, help="sources a feature occurs in")
    args = parser.parse_args()
    rows = [row for row in load_rows() if row["split"] == "fit"]
    out = train(rows, args.c, args.keep, args.min_sources)
    WEIGHTS_FILE.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {WEIGHTS_FILE} ({len(out['weights'])} features)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
