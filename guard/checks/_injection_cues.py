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

import threading
from typing import Any

import re2

from guard.checks._injection_cue_patterns import CUES, RAW_CUES
from guard.checks._injection_grammar_set import checked_set, note_set_failure, options

__all__ = ["CUES", "CUE_PREFIX", "NAMES", "PAIRS", "RAW_CUES", "cue_family", "cue_sets", "cues_of"]

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


#: RE2's default DFA budget: the two cue sets fit it.
_BUDGET = 8 << 20
_lock = threading.Lock()
_compiled: tuple[Any, Any] | None = None
_alone: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None


def _compile() -> tuple[Any, Any]:
    return (
        checked_set([pattern for _, pattern in CUES], "injection cue", _BUDGET),
        checked_set(
            [pattern for _, pattern in RAW_CUES], "injection raw cue", _BUDGET, case_sensitive=True
        ),
    )


def cue_sets() -> tuple[Any, Any]:
    """The folded and the raw cue sets, compiled by the first caller (once, thread-safe):
    importing guard does not pay their compile (~3 ms); ``InjectionCheck`` asks for them when it is
    built (``_injection_grammar_set.warm``), so no request does either."""
    global _compiled
    found = _compiled
    if found is None:
        with _lock:
            if _compiled is None:
                _compiled = _compile()
            found = _compiled
    return found


def _cue_by_cue(raw: bool, subject: bytes) -> list[int]:
    """A set's answer found pattern by pattern, after a failed set search (counted)."""
    global _alone
    note_set_failure("cue")
    with _lock:
        if _alone is None:
            _alone = (
                tuple(re2.compile(pattern, options(_BUDGET)) for _, pattern in CUES),
                tuple(
                    re2.compile(pattern, options(_BUDGET, case_sensitive=True))
                    for _, pattern in RAW_CUES
                ),
            )
        patterns = _alone[raw]
    return [number for number, pattern in enumerate(patterns) if pattern.search(subject)]


def _matched(raw: bool, subject: bytes) -> list[int]:
    """Indices of the cues (folded, or raw) that occur in ``subject``. The set's sentinel
    (:data:`~guard.checks._injection_grammar_set.SENTINEL`) proves the search ran: RE2's
    binding answers a failed search as "no match", which would read as "no cue"."""
    compiled, count = cue_sets()[raw], len(RAW_CUES if raw else CUES)
    answer = compiled.Match(subject) or []
    if count not in answer:
        return _cue_by_cue(raw, subject)
    return [number for number in answer if number != count]


def cues_of(folded: str, raw: str) -> dict[str, float]:
    """The cues of one text (folded for the words, raw for case and layout): each
    present cue and conjunction at 1.0, and ``count``."""
    found = {CUES[i][0] for i in _matched(False, folded.encode())}
    found.update(RAW_CUES[i][0] for i in _matched(True, raw.encode()))
    if not found:
        return {}
    # In name order: the model sums their weights in this order, and a set's order changes
    # with the hash seed (it moved scores in their last bit between interpreters).
    features = dict.fromkeys(sorted(found), 1.0)
    for a, b in PAIRS:
        if a in found and b in found:
            features[f"{a}&{b}"] = 1.0
    features["count"] = min(len(found), 8) / 4
    return features
