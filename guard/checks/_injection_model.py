"""The learned half of the injection score: a logistic regression over words and word
pairs.

The weights (``injection_model.json`` beside this module) are trained by
``scripts/train_injection.py``; inference is dictionary and list lookups, so nothing but
the standard library runs here.

Features are read from the folded text (guard.normalize): the words (runs of letters or
digits, any script) and each pair of neighbouring words. Punctuation is left to the
grammar's delimiter signals: as a feature it mostly learned each source's markup.

A model file may also carry a table of hashed character 3- to 5-grams ("pieces", of
``<word>``) that weighs a word it never saw by the words it resembles ("iunstructions");
such a word is summed from its pieces once per call (nothing is remembered across calls,
so no caller's words stay in memory). The shipped model has no table: grouped
cross-validation does not measure what it adds, and it costs ~1.7 ms per 2 KB of unseen
words (``bench/injection.py``), against ~0.07 ms without it.

An injection is a few sentences, often inside a long harmless document; summing the
whole document would let its length decide. So the text is read in windows of
``window`` tokens (overlapping by half) and the strongest window counts; the training
script scores its examples the same way. The grammar signals of
:mod:`guard.checks._injection_signals` are features too (one per family), so the model
learns how far to trust each of them; so are the discourse cues of
:mod:`guard.checks._injection_cues` (a persona stripped of its rules, a harmful request in
a fictional frame, a sentence to the AI reader inside data...), read once per text, and
a few hand-picked cues (``standing``) put a floor under the score on their own (spread
above it by the model's probability, so floored texts keep their order). The sum
is then calibrated (``scale``, ``shift``) on scores each source got from a model trained
without it, so 0.5 sits near a 1.5 % false-positive rate on text unlike the training set.
"""

from __future__ import annotations

import base64
import json
import math
import re
import zlib
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, islice, pairwise, repeat
from operator import add
from pathlib import Path
from typing import cast

#: Runs of letters/digits (any script): the tokens the weights name.
TOKEN = re.compile(r"[^\W_]+")
WEIGHTS_FILE = Path(__file__).with_name("injection_model.json")
#: Feature name of the grammar's evidence for a family (its noisy-OR score in [0, 1]).
GRAMMAR_PREFIX = "grammar:"
#: Lengths of the character n-grams of a word.
PIECE_SIZES = (3, 4, 5)
#: Only the first characters of a longer token are cut into pieces (a base64 run or a
#: hash would otherwise cost thousands of lookups and say nothing more).
PIECE_CHARS = 24


def pieces(token: str) -> list[str]:
    """The character n-grams of ``<token>`` (see :data:`PIECE_SIZES`)."""
    marked = f"<{token[:PIECE_CHARS]}>"
    return [marked[i : i + n] for n in PIECE_SIZES for i in range(len(marked) - n + 1)]


def bucket(piece: str, bits: int) -> int:
    """The table slot of a piece: a stable hash (CRC-32), not Python's salted ``hash``."""
    return zlib.crc32(piece.encode("utf-8")) & ((1 << bits) - 1)


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
    #: Weight of each known word, its pieces included.
    words: dict[str, float]
    #: Token-pair weights (pairs come out of ``zip`` as tuples: no string per pair).
    pairs: dict[tuple[str, str], float]
    #: Weight of each piece slot (empty: the model reads no pieces).
    table: list[float]
    bits: int
    #: Weight of each family's grammar score.
    grammar: dict[str, float]
    window: int
    stride: int
    #: Calibration: probability = sigmoid(scale * (logit - shift)).
    scale: float = 1.0
    shift: float = 0.0
    #: Weight of each discourse cue (guard.checks._injection_cues; empty: none read).
    cues: dict[str, float] = field(default_factory=dict)
    #: Cues that put a floor under the score on their own (cue -> floor probability).
    standing: dict[str, float] = field(default_factory=dict)
    #: Share of the room above a floor that the model's own probability fills: floored
    #: texts keep the word model's order instead of tying at the floor (see ``floored``).
    standing_spread: float = 0.0

    def floored(self, probability: float, floor: float) -> float:
        """The score of a text a standing cue floors at ``floor``: at least the floor,
        raised by the model's probability so that floored texts do not all tie (a tie at
        the floor would put a low-FPR threshold on it, attacks and benign alike)."""
        return max(probability, floor + (1.0 - floor) * self.standing_spread * probability)

    def word_weight(self, token: str) -> float:
        """The weight of a word the file does not list: the sum of its pieces."""
        if not self.table:
            return 0.0
        table, bits = self.table, self.bits
        return sum(table[bucket(piece, bits)] for piece in pieces(token))

    def contributions(self, tokens: list[str]) -> list[float]:
        """Each token's weight plus the weight of the pair it ends."""
        known = self.words.get
        if not self.table:
            return self._with_pairs(list(map(known, tokens, repeat(0.0))), tokens)
        weights = list(map(known, tokens))
        if None in weights:
            # Per call only: a caller's unknown words are not kept once it returns.
            unknown: dict[str, float] = {}
            for position, value in enumerate(weights):
                if value is None:
                    token = tokens[position]
                    found = unknown.get(token)
                    if found is None:
                        found = unknown[token] = self.word_weight(token)
                    weights[position] = found
        return self._with_pairs(cast("list[float]", weights), tokens)  # no None is left

    def _with_pairs(self, values: list[float], tokens: list[str]) -> list[float]:
        pairs = map(self.pairs.get, pairwise(tokens), repeat(0.0))
        # A pair counts at its right-hand token.
        values[1:] = map(add, values[1:], pairs)
        return values

    def best_window(self, tokens: list[str]) -> Window:
        """The window of ``tokens`` whose features add up to the most."""
        contributions = self.contributions(tokens)
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

    def logit(
        self, window: Window, grammar: dict[str, float], cues: dict[str, float] | None = None
    ) -> float:
        """The uncalibrated log-odds of a text with this strongest window."""
        logit = self.bias + window.total
        for family, score in grammar.items():
            logit += self.grammar.get(family, 0.0) * score
        for cue, value in (cues or {}).items():
            logit += self.cues.get(cue, 0.0) * value
        return logit

    def probability(
        self, window: Window, grammar: dict[str, float], cues: dict[str, float] | None = None
    ) -> float:
        """The calibrated probability that the text is an injection."""
        z = self.scale * (self.logit(window, grammar, cues) - self.shift)
        # Clamped: exp overflows past ~709.
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


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


def _object(data: dict[str, object], key: str) -> dict[str, object]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"injection model file: {key!r} must be an object")
    return value


def _table(data: dict[str, object]) -> tuple[list[float], int]:
    """The piece table: int8 values (base64) times ``scale``."""
    pieces_data = _object(data, "pieces")
    if not pieces_data:
        return [], 0
    raw = base64.b64decode(str(pieces_data["table"]))
    scale = float(str(pieces_data["scale"]))
    bits = int(str(pieces_data["bits"]))
    values = array("b", raw)
    if len(values) != 1 << bits:
        raise ValueError("injection model file: the piece table does not match its 'bits'")
    return [value * scale for value in values], bits


def model_from(data: dict[str, object]) -> InjectionModel:
    """A model from the JSON the training script writes."""
    words: dict[str, float] = {}
    pairs: dict[tuple[str, str], float] = {}
    for name, weight in _object(data, "weights").items():
        left, space, right = name.partition(" ")
        if space:
            pairs[(left, right)] = float(str(weight))
        else:
            words[name] = float(str(weight))
    table, bits = _table(data)
    calibration = _object(data, "calibration")
    return InjectionModel(
        bias=float(str(data["bias"])),
        words=words,
        pairs=pairs,
        table=table,
        bits=bits,
        grammar={str(k): float(str(v)) for k, v in _object(data, "grammar").items()},
        window=int(str(data["window"])),
        stride=int(str(data["stride"])),
        scale=float(str(calibration.get("scale", 1.0))),
        shift=float(str(calibration.get("shift", 0.0))),
        cues={str(k): float(str(v)) for k, v in _object(data, "cues").items()},
        standing={str(k): float(str(v)) for k, v in _object(data, "standing").items()},
        standing_spread=float(str(data.get("standing_spread", 0.0))),
    )


@lru_cache(maxsize=1)
def shipped_model() -> InjectionModel:
    """The model shipped with guardwire (read once)."""
    return model_from(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))
