"""Discourse cues of the injection model: *how* a text talks to the model, not which words.

The word model (:mod:`guard.checks._injection_model`) weighs words and word pairs inside
one 16-token window, so it cannot see that a persona is given *and* its rules are taken
away three sentences later, that a harmful request is wrapped in a story, or that a
tool result suddenly addresses the assistant reading it. These cues are read once per
text (one RE2 set match over the folded text, a few microseconds per 2 KB) and enter the
model as features beside the grammar's family scores; conjunctions of cues (persona and
rule removal, a data carrier and a sentence addressed to the model...) are features of
their own, since a linear model cannot multiply two of them.

Each cue is a kind of move, written from what jailbreaks and injections *do* rather than
from any labelled source: second-person orders to the assistant, persona assignment,
rule removal, staying in character, never refusing, dual-response formats, forced reply
openings, fictional or hypothetical framing, harmful-topic requests, urgency and
authority markers, a sentence addressed to an AI reader, task switches towards actions
(send, forward, delete...), and the look of a data carrier (JSON, e-mail headers,
tables, markup). The model learns how much each is worth (``cues`` in the model file).
"""

from __future__ import annotations

from typing import Any

import re2

from guard.checks._injection_cue_patterns import CUES, RAW_CUES
from guard.checks._regex import re2_subject

__all__ = ["CUES", "CUE_PREFIX", "NAMES", "PAIRS", "RAW_CUES", "cue_family", "cues_of"]

#: Prefix of a cue's feature name in training (the model file lists cues by bare name).
CUE_PREFIX = "cue:"

#: Conjunctions of two cues: what a linear model cannot learn from the two alone.
PAIRS: tuple[tuple[str, str], ...] = (
    ("persona", "no_rules"),
    ("persona", "never_refuse"),
    ("persona", "in_character"),
    ("persona", "harmful"),
    ("you_are_a", "harmful"),
    ("you_are_a", "no_rules"),
    ("fiction", "harmful"),
    ("forced_prefix", "harmful"),
    ("legitimize", "harmful"),
    ("legitimize", "persona"),
    ("legitimize", "you_are_a"),
    ("fiction", "you_are_a"),
    ("urgency", "harmful"),
    ("no_rules", "never_refuse"),
    ("data_carrier", "addresses_ai"),
    ("data_carrier", "you_now"),
    ("data_carrier", "your_task"),
    ("data_carrier", "authority"),
    ("data_carrier", "shouting"),
    ("data_carrier", "action_switch"),
    ("data_carrier", "second_person_order"),
    ("addresses_ai", "action_switch"),
    ("authority", "action_switch"),
)

#: Feature names, in order: the cues, then ``a&b`` for each pair, then ``count`` (how
#: many distinct cues, over four: several moves together are the jailbreak's shape).
NAMES: tuple[str, ...] = (
    *(name for name, _ in CUES),
    *(name for name, _ in RAW_CUES),
    *(f"{a}&{b}" for a, b in PAIRS),
    "count",
)


def cue_family(cue: str) -> str:
    """The finding family of a text only a cue flagged: a sentence to the AI reader inside
    data is a hidden instruction; the other cues are jailbreak framings (role hijack)."""
    return "hidden_instruction" if "addresses_ai" in cue else "role_hijack"


def _options(case_sensitive: bool) -> Any:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False
    return options


def _set(patterns: tuple[tuple[str, str], ...], case_sensitive: bool) -> Any:
    compiled = re2.Set.SearchSet(_options(case_sensitive))
    for number, (name, pattern) in enumerate(patterns):
        if compiled.Add(pattern) != number:
            raise RuntimeError(f"injection cue {name} does not compile on RE2")
    compiled.Compile()
    return compiled


_FOLDED_SET = _set(CUES, case_sensitive=False)
_RAW_SET = _set(RAW_CUES, case_sensitive=True)


def cues_of(folded: str, raw: str) -> dict[str, float]:
    """The cues of one text (folded for the words, raw for case and layout): each
    present cue and conjunction at 1.0, and ``count``."""
    found = {CUES[i][0] for i in _FOLDED_SET.Match(re2_subject(folded)) or ()}
    found.update(RAW_CUES[i][0] for i in _RAW_SET.Match(re2_subject(raw)) or ())
    if not found:
        return {}
    features = dict.fromkeys(found, 1.0)
    for a, b in PAIRS:
        if a in found and b in found:
            features[f"{a}&{b}"] = 1.0
    features["count"] = min(len(found), 8) / 4
    return features
