"""The learned half of the injection score: a logistic regression over word n-grams.

The weights (``injection_model.json`` beside this module) are trained by
``scripts/train_injection.py`` on labelled attacks and benign texts; inference is a
dictionary lookup per token, so nothing but the standard library runs here.

Features are read from the folded text (guard.normalize): the words (runs of letters
or digits, any script) and each pair of neighbouring words. Punctuation is left to the
grammar's delimiter signals: as a feature it mostly learned each source's markup.

An injection is a few sentences, often inside a long harmless document; summing the
whole document would let its length decide. So the text is read in windows of
``window`` tokens (overlapping by half) and the strongest window counts; the training
script scores its examples the same way. The grammar signals of
:mod:`guard.checks._injection_signals` are features too (one per family), so the model
learns how far to trust each of them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, islice, pairwise, repeat
from operator import add
from pathlib import Path

#: Runs of letters/digits (any script): the tokens the weights name.
TOKEN = re.compile(r"[^\W_]+")
WEIGHTS_FILE = Path(__file__).with_name("injection_model.json")
#: Feature name of the grammar's evidence for a family (its noisy-OR score in [0, 1]).
GRAMMAR_PREFIX = "grammar:"


@dataclass(frozen=True, slots=True)
class Window:
    """The strongest window of a text: its logit contribution and token range."""

    total: float
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class InjectionModel:
    """Weights of one trained model (see the module docstring)."""

    bias: float
    #: Token weights (a ``str`` key) and token-pair weights (a ``(left, right)`` key:
    #: pairs come out of ``zip`` as tuples, so no string is built per pair).
    weights: dict[str | tuple[str, str], float]
    #: Weight of each family's grammar score.
    grammar: dict[str, float]
    window: int
    stride: int

    def best_window(self, tokens: list[str]) -> Window:
        """The window of ``tokens`` whose features add up to the most."""
        weight = self.weights.get
        contributions = list(map(weight, tokens, repeat(0.0)))
        pairs = map(weight, pairwise(tokens), repeat(0.0))
        # A pair counts at its right-hand token.
        contributions[1:] = map(add, contributions[1:], pairs)
        count = len(contributions)
        if count <= self.window:
            return Window(sum(contributions), 0, count)
        prefix = list(accumulate(contributions, initial=0.0))
        best = Window(-math.inf, 0, 0)
        for first in window_starts(count, self.window, self.stride):
            last = first + self.window
            total = prefix[last] - prefix[first]
            if total > best.total:
                best = Window(total, first, last)
        return best

    def probability(self, window: Window, grammar: dict[str, float]) -> float:
        """The calibrated probability that the text is an injection."""
        logit = self.bias + window.total
        for family, score in grammar.items():
            logit += self.grammar.get(family, 0.0) * score
        # Clamped: exp overflows past ~709.
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))


def window_starts(count: int, window: int, stride: int) -> list[int]:
    """First token of each window over ``count`` tokens; the last window ends the text."""
    if count <= window:
        return [0]
    starts = list(range(0, count - window, stride))
    starts.append(count - window)
    return starts


#: ASCII characters that are not letters or digits, mapped to a space.
_ASCII_SEPARATORS = str.maketrans(
    {chr(c): " " for c in range(128) if not chr(c).isalnum() or chr(c) == "_"}
)


def tokens_of(folded: str) -> list[str]:
    """The tokens of folded text (:data:`TOKEN` matches)."""
    if folded.isascii():
        # The same tokens as TOKEN.findall, at a third of its cost (2 KB: ~12 us).
        return folded.translate(_ASCII_SEPARATORS).split()
    return TOKEN.findall(folded)


def window_span(folded: str, window: Window) -> tuple[int, int]:
    """Character span in folded text of a window's tokens (to place a finding)."""
    start = end = 0
    for number, match in enumerate(islice(TOKEN.finditer(folded), window.last)):
        if number == window.first:
            start = match.start()
        end = match.end()
    return start, end


def _feature_key(name: str) -> str | tuple[str, str]:
    """The lookup key of a feature named in the file (a pair is ``"left right"``)."""
    left, space, right = name.partition(" ")
    return (left, right) if space else name


def model_from(data: dict[str, object]) -> InjectionModel:
    """A model from the JSON the training script writes."""
    weights = data["weights"]
    grammar = data["grammar"]
    if not isinstance(weights, dict) or not isinstance(grammar, dict):
        raise ValueError("injection model file: 'weights' and 'grammar' must be objects")
    return InjectionModel(
        bias=float(str(data["bias"])),
        weights={_feature_key(str(k)): float(v) for k, v in weights.items()},
        grammar={str(k): float(v) for k, v in grammar.items()},
        window=int(str(data["window"])),
        stride=int(str(data["stride"])),
    )


@lru_cache(maxsize=1)
def shipped_model() -> InjectionModel:
    """The model shipped with guardwire (read once)."""
    return model_from(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))
