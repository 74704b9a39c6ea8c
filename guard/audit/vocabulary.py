"""The value-free vocabulary of the audit log: every field a line may hold, and what its
value may look like.

Ids, names from configuration or closed sets, counts, spans, scores, flags and hashes
— nothing else. :func:`violations` walks an event and names every field that is not in
the vocabulary or whose value does not fit it; the ``drop_values`` and
``assert_no_values`` processors act on that list. A name that passes is short, has no
spaces and no quotes: prose, prompts and replies cannot pass, whatever the check that
produced them intended.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from guard.audit.record import AUDIT_OUTCOMES, FRONTENDS
from guard.types import Action, Stage

#: A rule: True when the value may be written.
Rule = Callable[[Any], bool]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,63}")
_HASH = re.compile(r"sha256:[0-9a-f]{16}")
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _matches(pattern: re.Pattern[str]) -> Rule:
    # Check, rule and policy names repeat on every line: remember the ones that passed
    # (bounded, so unique ids cannot grow it without end); ~10 % of a line's cost.
    passed: set[str] = set()

    def rule(value: Any) -> bool:
        if type(value) is not str:
            return False
        if value in passed:
            return True
        if not pattern.fullmatch(value):
            return False
        if len(passed) >= 4096:
            passed.clear()
        passed.add(value)
        return True

    return rule


def _one_of(*allowed: str) -> Rule:
    names = frozenset(allowed)
    return lambda value: isinstance(value, str) and value in names


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return _integer(value) or (isinstance(value, float) and math.isfinite(value))


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _span(value: Any) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2 and all(_count(v) for v in value)


ID, NAME, HASH = _matches(_ID), _matches(_NAME), _matches(_HASH)
ACTION = _one_of(*(action.label for action in Action))

#: One finding (:meth:`guard.types.Finding.as_record`).
FINDING: dict[str, Rule] = {
    "check": NAME,
    "kind": NAME,
    "rule": lambda value: value == "" or NAME(value),
    "segment": _integer,
    "span": _span,
    "score": _number,
    "action": ACTION,
    # a tool call's finding (the agent check): a name and a keyed hash, never arguments
    "tool": NAME,
    "arguments_hash": HASH,
}
#: One check's verdict.
CHECK: dict[str, Rule | tuple[dict[str, Any]]] = {
    "check": NAME,
    "action": ACTION,
    "shadow": _flag,
    "errored": _flag,
    "latency_ms": _number,
    "findings": (FINDING,),
}
#: One stage's decision.
DECISION: dict[str, Any] = {"action": ACTION, "latency_ms": _number, "checks": (CHECK,)}
USAGE: dict[str, Any] = {"input_tokens": _count, "output_tokens": _count}

#: A call line (``record_call``) and a stage line (the older ``record``).
LINE: dict[str, Any] = {
    "time": _number,
    "request_id": ID,
    "frontend": _one_of(*FRONTENDS),
    "format": NAME,
    "outcome": _one_of(*AUDIT_OUTCOMES),
    "status": _count,
    "policy": NAME,
    "policy_hash": ID,
    "tenant": NAME,
    "key_id": ID,
    "session": HASH,
    "model": NAME,
    "model_hash": HASH,
    "upstream": NAME,
    "attempts": _count,
    "latency_ms": _number,
    "unguarded_history": (NAME,),
    "input": DECISION,
    "output": DECISION,
    "usage": USAGE,
    # stage lines
    "stage": _one_of(*(stage.value for stage in Stage)),
    "action": ACTION,
    "checks": (CHECK,),
    # event lines (AuditLog.record_event): an operator's approval decision
    "event": _one_of("approval"),
    "approval_id": ID,
    "decision": _one_of("approve", "deny"),
    "tool": NAME,
    "arguments_hash": HASH,
    # written by drop_values itself: paths of dropped fields
    "dropped": (lambda value: isinstance(value, str) and len(value) <= 200,),
}


def clean(
    event: Mapping[str, Any], vocabulary: Mapping[str, Any] = LINE
) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``event`` holding only fields that fit the vocabulary, and the paths
    (``input.checks[0].findings[1].rule``) of those left out. ``None`` fits every field
    (unknown, or not sent)."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in event.items():
        rule = vocabulary.get(key) if isinstance(key, str) else None
        if rule is None:
            # The key itself is reported only when it is name-shaped: a key built from
            # data must not leak through the list of what was dropped.
            named = isinstance(key, str) and _FIELD.fullmatch(key)
            dropped.append(key if named else "<unnamed field>")
            continue
        fits, value_kept, inner = _fit(rule, value)
        dropped.extend(f"{key}{path}" for path in inner)
        if fits:
            kept[key] = value_kept
    return kept, dropped


def violations(event: Mapping[str, Any], vocabulary: Mapping[str, Any] = LINE) -> list[str]:
    """The paths of the fields :func:`clean` would leave out."""
    return [] if fits(event, vocabulary) else clean(event, vocabulary)[1]


def fits(event: Mapping[str, Any], vocabulary: Mapping[str, Any] = LINE) -> bool:
    """True when every field fits: the fast path of every line (no copies, no paths;
    :func:`clean` runs only for a line that needs it). Exact ``dict``/``list`` types
    only: anything else takes the slow path, which accepts any mapping or sequence."""
    compiled = _COMPILED.get(id(vocabulary))
    if compiled is None:
        compiled = _COMPILED[id(vocabulary)] = _compile(vocabulary)
    return _fits(event, compiled)


_LEAF, _OBJECT, _OBJECTS, _LEAVES = range(4)
#: Vocabulary -> key -> (kind, rule or compiled sub-vocabulary). Keyed by id: the
#: vocabularies are module constants, alive as long as the module.
_COMPILED: dict[int, dict[str, tuple[int, Any]]] = {}


def _compile(vocabulary: Mapping[str, Any]) -> dict[str, tuple[int, Any]]:
    compiled: dict[str, tuple[int, Any]] = {}
    for key, rule in vocabulary.items():
        if isinstance(rule, dict):
            compiled[key] = (_OBJECT, _compile(rule))
        elif isinstance(rule, tuple) and isinstance(rule[0], dict):
            compiled[key] = (_OBJECTS, _compile(rule[0]))
        elif isinstance(rule, tuple):
            compiled[key] = (_LEAVES, rule[0])
        else:
            compiled[key] = (_LEAF, rule)
    return compiled


def _fits(event: Mapping[str, Any], compiled: dict[str, tuple[int, Any]]) -> bool:
    get = compiled.get
    for key, value in event.items():
        entry = get(key)
        if entry is None:
            return False
        if value is None:
            continue
        kind, rule = entry
        if kind == _LEAF:
            if not rule(value):
                return False
        elif kind == _OBJECT:
            if type(value) is not dict or not _fits(value, rule):
                return False
        elif kind == _OBJECTS:
            if type(value) is not list:
                return False
            for item in value:
                if type(item) is not dict or not _fits(item, rule):
                    return False
        elif type(value) is not list or not all(map(rule, value)):
            return False
    return True


def _fit(rule: Any, value: Any) -> tuple[bool, Any, list[str]]:
    """Whether ``value`` (or a cleaned copy of it) may be kept, the copy, and the
    sub-paths dropped from it ("" for the value itself)."""
    if value is None:
        return True, None, []
    if isinstance(rule, dict):
        if not isinstance(value, Mapping):
            return False, None, [""]
        kept, inner = clean(value, rule)
        return True, kept, [f".{path}" for path in inner]
    if isinstance(rule, tuple):
        if not isinstance(value, list | tuple):
            return False, None, [""]
        items: list[Any] = []
        dropped: list[str] = []
        for index, item in enumerate(value):
            fits, item_kept, inner = _fit(rule[0], item)
            dropped.extend(f"[{index}]{path}" for path in inner)
            if fits and item is not None:
                items.append(item_kept)
        return True, items, dropped
    if rule(value):
        return True, list(value) if isinstance(value, tuple) else value, []
    return False, None, [""]
