"""The labelled rows the injection scorer trains on: augmentation and sample weights.

Part of ``scripts/_injection_training.py`` (kept apart: what the rows are and weigh, not
how the model is fitted). Needs numpy.
"""

from __future__ import annotations

import importlib.util
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "injection"
Row = dict[str, Any]


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
    ``about`` -> benign) instead of the injection's wording. Each row is weighted by one
    over the rows sharing its template; and every payload is also a benign request
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

    def key(self, row: Row) -> str:
        """The template a row was filled from (its text for other sources)."""
        text = row["text"]
        if row["source"] not in {"generated", "own"}:
            return str(text)
        for prefix, suffix in self.carriers:
            if text.startswith(prefix) and text.endswith(suffix) and len(text) > len(prefix):
                text = text[len(prefix) : len(text) - len(suffix)]
                break
        lowered = str(text).lower()
        for filler in self.fillers:
            lowered = lowered.replace(filler.lower(), "{}")
        return lowered

    def counterfactuals(self) -> list[Row]:
        """Each payload as an ordinary request (benign; grouped with ``generated``)."""
        frames = ("{p}.", "Could you {p}?", "Please {p} for my slides.", "I need you to {p}.")
        return [
            {"text": frame.format(p=p), "label": 0, "source": "generated", "augmented": True}
            for p in self.requests
            for frame in frames
        ]


def fragments(rows: list[Row]) -> list[Row]:
    """Short pieces of benign texts (one to five words) as benign rows, each grouped with
    the source it was cut from (so a left-out source lends its fold none of its words).

    Real calls carry many short segments (a tool description, "earlier answer", a name);
    without them the model reads one word it has seen in attacks as evidence."""
    rng = random.Random(22)
    benign = [row for row in rows if row["label"] == 0]
    pieces_out = []
    for row in rng.sample(benign, min(3000, len(benign))):
        words = row["text"].split()
        if not words:
            continue
        size = rng.randint(1, 5)
        start = rng.randrange(max(1, len(words) - size + 1))
        text = " ".join(words[start : start + size])
        pieces_out.append({"text": text, "label": 0, "source": row["source"], "augmented": True})
    return pieces_out


def training_rows(rows: list[Row]) -> list[Row]:
    """The labelled rows plus the augmentation rows (marked ``augmented``)."""
    return [*rows, *Templates().counterfactuals(), *fragments(rows)]


def base_weights(rows: list[Row], balance: str) -> np.ndarray:
    """Template weights, then per (source, label) group scaled to ``balance``."""
    templates = Templates()
    keys = [templates.key(row) for row in rows]
    counts = Counter(keys)
    weights = np.array([1.0 / counts[key] for key in keys])
    groups: dict[tuple[str, int], list[int]] = {}
    for number, row in enumerate(rows):
        groups.setdefault((row["source"], row["label"]), []).append(number)
    for members in groups.values():
        total = weights[members].sum()
        if balance == "equal":
            target = 1.0
        elif balance == "sqrt":
            target = math.sqrt(len(members)) / 10
        else:
            target = total
        weights[members] *= target / total
    # Mean weight 1 keeps C comparable across recipes.
    return weights * (len(weights) / weights.sum())
