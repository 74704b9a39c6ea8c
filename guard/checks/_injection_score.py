"""One calibrated injection score per text: the learned model over the grammar's signals.

The grammar (:mod:`guard.checks._injection_signals`) says *which* family a text reads as
and *where*; the model (:mod:`guard.checks._injection_model`) says *how likely* the text
is an injection, from its words and the grammar's evidence together. A text's score is
the model's probability, except where the grammar's own combined score is strong (at
least :data:`STRONG_GRAMMAR`: a qualified override, a fake chat delimiter, an AI told
what to do, a decoded payload): that evidence stands on its own and the score is the
higher of the two. Weaker signals ("ignore the rules", "pretend to be", "developer
mode") are only features: on sources neither was built from, they were where the
grammar's false positives came from (``python -m bench.injection_eval``; figures in
tests/data/injection/README.md).

The strongest family's finding carries the score; the other families found carry at
most it. A text the grammar has nothing on but the model flags is an ``override`` (the
commonest family), placed on the model's strongest window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from guard.checks._injection_cues import cue_family, cues_of
from guard.checks._injection_model import InjectionModel, shipped_model, tokens_of, window_span
from guard.checks._injection_signals import Hit, signal_hits

#: A text the model scores under this (and the grammar has nothing on) gets no finding:
#: findings are evidence for an operator, not a score for every message. A text with
#: no word the model knows scores its prior, about 0.02.
REPORT_FLOOR = 0.4
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Grammar evidence at or above this stands on its own (see the module docstring).
STRONG_GRAMMAR = 0.7
#: The family of an injection only the model saw.
DEFAULT_FAMILY = "override"


def combined(scores: Iterable[float]) -> float:
    """Independent pieces of evidence combined (noisy-OR): 1 - prod(1 - score)."""
    remaining = 1.0
    for score in scores:
        remaining *= 1.0 - score
    return 1.0 - remaining


def text_score(text: str, model: InjectionModel | None = None) -> float:
    """The score of ``text``: the probability that it is an injection."""
    return assess(text, model)[0]


def score_text(text: str, model: InjectionModel | None = None) -> list[Hit]:
    """Evidence of injection in ``text``, one hit per family at most, strongest first."""
    return assess(text, model)[1]


def _standing_cue(model: InjectionModel, cues: dict[str, float] | None) -> str | None:
    """The present cue with the highest floor, if any."""
    if not cues or not model.standing:
        return None
    present = [cue for cue in cues if cue in model.standing]
    return max(present, key=model.standing.__getitem__) if present else None


def assess(text: str, model: InjectionModel | None = None) -> tuple[float, list[Hit]]:
    """The score of ``text`` and its hits (none when the score is under the floor and
    the grammar found nothing)."""
    model = model or shipped_model()
    try:
        folded, hits = signal_hits(text)
    except UnicodeEncodeError:
        # A lone surrogate (valid in a Python str, not in UTF-8) stops RE2: read it as
        # U+FFFD, one code point for one, so every position stays where it was.
        text = _SURROGATE.sub("\ufffd", text)
        folded, hits = signal_hits(text)
    tokens = tokens_of(folded.text)
    window = model.best_window(tokens)
    cues = cues_of(folded.text, text) if model.cues or model.standing else None
    probability = model.probability(window, {f: hit.score for f, hit in hits.items()}, cues)
    standing = _standing_cue(model, cues)
    cue_decided = False
    if standing is not None:
        # A hand-picked conjunction (a persona stripped of its rules, a sentence to the
        # AI reader inside data...) is evidence on its own, whatever the words weigh.
        floor = model.standing[standing]
        floored = model.floored(probability, floor)
        cue_decided = probability <= floor or floored > probability
        probability = floored
    grammar = combined(hit.score for hit in hits.values())
    decoded = hits.get("encoded")
    # A payload that decodes to an instruction was scored on text the model never sees.
    if grammar >= STRONG_GRAMMAR or (decoded is not None and decoded.rule != "zero_width"):
        probability = max(probability, grammar)
    if not hits:
        if probability < REPORT_FLOOR:
            return probability, []
        start, end = window_span(folded.text, window)
        family, rule = DEFAULT_FAMILY, "model"
        if standing is not None and cue_decided:
            family, rule = cue_family(standing), "cue:" + standing
        return probability, [Hit(family, *folded.span(start, end), probability, rule)]
    ranked = sorted(hits.values(), key=lambda hit: hit.score, reverse=True)
    top = ranked[0]
    return probability, [
        Hit(top.family, top.start, top.end, probability, top.rule),
        *(Hit(h.family, h.start, h.end, min(h.score, probability), h.rule) for h in ranked[1:]),
    ]
