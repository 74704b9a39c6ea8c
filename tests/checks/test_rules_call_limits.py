"""Call-level rules: size limits (max_chars, max_messages) and model allow/deny lists."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from guard import Action, Guard
from guard.errors import PolicyError
from guard.formats import openai
from guard.types import Call, Segment

POLICY = """\
name: t
input:
  - check: rules
    rules:
      - {name: size, max_chars: 40, max_messages: 3, action: block}
      - {name: models, models_allowed: ["gpt-4o*", "claude-*"], action: block}
      - {name: no-preview, models_denied: ["*-preview"], action: warn}
"""


def _call(model: str | None, *texts: str) -> Call:
    return Call(
        format="test",
        model=model,
        segments=[Segment(text, index=i) for i, text in enumerate(texts)],
    )


@pytest.fixture
def guard(make_guard: Callable[..., Guard]) -> Guard:
    return make_guard(POLICY)


def _decide(guard: Guard, call: Call) -> tuple[Action, set[str]]:
    lifecycle = guard.open(call, frontend="check")
    lifecycle.start()
    lifecycle.finish()
    decision = lifecycle.input
    assert decision is not None
    return decision.action, {f.rule for f in decision.findings}


def test_within_limits_allows(guard: Guard) -> None:
    assert _decide(guard, _call("gpt-4o-mini", "hi", "there")) == (Action.ALLOW, set())


def test_too_many_characters_blocks(guard: Guard) -> None:
    assert _decide(guard, _call("gpt-4o", "x" * 30, "y" * 11)) == (Action.BLOCK, {"size"})


def test_too_many_messages_blocks(guard: Guard) -> None:
    action, rules = _decide(guard, _call("gpt-4o", "a", "b", "c", "d"))
    assert (action, rules) == (Action.BLOCK, {"size"})


def test_model_not_allowed_blocks_and_denied_warns(guard: Guard) -> None:
    assert _decide(guard, _call("llama-3", "hi")) == (Action.BLOCK, {"models"})
    assert _decide(guard, _call("gpt-4o-preview", "hi")) == (Action.WARN, {"no-preview"})
    # No model named: nothing to check.
    assert _decide(guard, _call(None, "hi")) == (Action.ALLOW, set())


def test_message_count_uses_the_wire_body(guard: Guard) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "a"}] * 4}
    call = openai.FORMAT.parse_request(json.dumps(body).encode())
    action, rules = _decide(guard, call)
    assert (action, rules) == (Action.BLOCK, {"size"})


def test_a_rule_with_two_kinds_is_a_load_error(make_guard: Callable[..., Guard]) -> None:
    with pytest.raises(PolicyError, match="needs exactly one of"):
        make_guard(
            "name: t\ninput:\n  - check: rules\n    rules:\n"
            "      - {name: x, max_chars: 5, models_allowed: [a]}\n"
        )


def test_call_limits_under_output_are_a_load_error() -> None:
    from guard import Policy
    from guard.errors import PolicyError

    text = """
output:
  - check: rules
    name: limits
    rules:
      - {name: size, max_chars: 10, action: block}
"""
    with pytest.raises(
        PolicyError, match=r"rule 'size' of output check 'limits'.*move it under 'input'"
    ):
        Policy.from_yaml(text)
