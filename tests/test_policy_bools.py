"""A boolean where a number is expected fails to load, for every policy model at once.

pydantic's lax mode read ``max_reasks: true`` as 1 and ``threshold: false`` as 0.0 (every
finding above it): a policy that meant something else loaded silently. Now the key, the
line and "got a boolean" are told, like any other wrong value
(tests/test_policy_type_errors.py); booleans where booleans are expected still load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import Policy, PolicyError

CASES = [
    ("max_reasks: true\n", 1, "max_reasks",
     "'max_reasks' must be a whole number between 0 and 5, got a boolean (true)"),
    ("stream:\n  max_holdback: false\n", 2, "stream.max_holdback",
     "'max_holdback' must be a whole number between 64 and 1048576, got a boolean (false)"),
    ("input:\n  - check: pii\n    threshold: false\n", 3, "input[0].threshold",
     "'threshold' must be a number between 0 and 1, got a boolean (false)"),
    ("input:\n  - check: injection\n    threshold: true\n", 3, "input[0].threshold",
     "'threshold' must be a number between 0 and 1, got a boolean (true)"),
    ("output:\n  - check: grounding\n    min_answer_score: true\n", 3,
     "output[0].min_answer_score",
     "'min_answer_score' must be a number between 0 and 1, got a boolean (true)"),
    ("input:\n  - check: rules\n    rules:\n      - {name: big, max_chars: true}\n", 4,
     "input[0].rules[0].max_chars", "'max_chars' must be a whole number 1 or more, got a boolean (true)"),
    ("input:\n  - check: agent\n    max_tool_calls: true\n", 3, "input[0].max_tool_calls",
     "'max_tool_calls' must be a whole number 1 or more, got a boolean (true)"),
    ("input:\n  - check: agent\n    repeat: {window: true}\n", 3, "input[0].repeat.window",
     "'window' must be a whole number between 2 and 100, got a boolean (true)"),
    ("budgets:\n  - name: b\n    limit_tokens: true\n", 3, "budgets[0].limit_tokens",
     "'limit_tokens' must be a whole number above 0, got a boolean (true)"),
    ("budgets:\n  - {name: b, limit_usd: 5, reference_tokens: true}\n", 2,
     "budgets[0].reference_tokens",
     "'reference_tokens' must be a whole number 1 or more, got a boolean (true)"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "field", "message"), CASES)
def test_a_boolean_is_no_number(text: str, line: int, field: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(text, source="policy.yaml")
    error = caught.value
    assert (error.file, error.line, error.field) == ("policy.yaml", line, field)
    assert error.detail == message + "."


def test_booleans_where_booleans_go_still_load() -> None:
    policy = Policy.from_yaml(
        "max_reasks: 2\n"
        "input:\n"
        "  - check: rules\n"
        "    rules:\n"
        "      - {name: w, keywords: [a], whole_word: false}\n"
        "      - {name: size, max_chars: 10}\n"
        "  - check: agent\n"
        "    filter_offered: true\n"
        "    max_tool_calls: 3\n"
        "budgets:\n"
        "  - {name: b, limit_usd: 1.5, limit_tokens: 100}\n"
    )
    assert policy.max_reasks == 2
    assert policy.budgets[0].limit_tokens == 100


def test_the_line_is_in_the_file_that_wrote_it(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("name: base\ninput:\n  - check: pii\n    threshold: true\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\n")
    with pytest.raises(PolicyError) as caught:
        Policy.load(child)
    assert caught.value.file == str(base) and caught.value.line == 4
    assert "got a boolean (true)" in caught.value.detail
