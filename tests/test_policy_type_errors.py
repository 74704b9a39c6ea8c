"""A value of the wrong type, out of range or not among a field's choices is told in the
project's words: the key, the type the field takes (with its bounds) and the kind of
value written — not pydantic's "Input should be a valid number, unable to parse string
as a number". A written string is never quoted (it may be anything, a key included).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import Policy, PolicyError
from guard.errors import ConfigError
from guard.proxy.config import load_config

CASES = [
    ("input:\n  - check: pii\n    threshold: abc\n", 3, "input[0].threshold",
     "'threshold' must be a number between 0 and 1, got text"),
    ("input:\n  - check: pii\n    threshold: 1.5\n", 3, "input[0].threshold",
     "'threshold' must be a number between 0 and 1, got 1.5"),
    ("input:\n  - check: pii\n    threshold: null\n", 3, "input[0].threshold",
     "'threshold' must be a number between 0 and 1, got nothing (null)"),
    ("max_reasks: lots\n", 1, "max_reasks", "'max_reasks' must be a whole number between 0 and 5, got text"),
    ("stream: {max_holdback: 2.5}\n", 1, "stream.max_holdback",
     "'max_holdback' must be a whole number between 64 and 1048576, got 2.5"),
    ("input:\n  - check: pii\n    timeout_ms: -3\n", 3, "input[0].timeout_ms",
     "'timeout_ms' must be a number above 0, got -3"),
    ("name: 5\n", 1, "name", "'name' must be text, got a number"),
    ("stream: yes\n", 1, "stream", "'stream' must be a mapping, got true/false"),
    ("input: {check: pii}\n", 1, "input", "'input' must be a list, got a mapping"),
    ("input:\n  - check: pii\n    entities: EMAIL_ADDRESS\n", 3, "input[0].entities",
     "'entities' must be a list, got text"),
    ("input:\n  - 5\n", 2, "input[0]", "'input[0]' must be a mapping, got a number"),
    ("mode: [a]\n", 1, "mode", "'mode' must be 'enforce' or 'shadow', got a list"),
    ("mode: enforced\n", 1, "mode", "'mode' must be 'enforce' or 'shadow' (did you mean 'enforce'?)"),
    # A field taking text or a list fails once per type: one error, both types named.
    ("input:\n  - check: rules\n    rules:\n      - {name: x, keywords_file: 5}\n", 4,
     "input[0].rules[0].keywords_file", "'keywords_file' must be text or a list, got a number"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "field", "message"), CASES)
def test_a_wrong_value_is_told_in_the_projects_words(
    text: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(text, source="policy.yaml")
    error = caught.value
    assert (error.line, error.field) == (line, field)
    assert error.detail == message + "."
    assert "Input should" not in error.detail and "valid" not in error.detail


def test_a_written_string_is_never_quoted() -> None:
    secret = "sk-live-hunter2-very-secret"
    for text in (f"mode: {secret}\n", f"max_reasks: {secret}\n", f"stream: {secret}\n"):
        with pytest.raises(PolicyError) as caught:
            Policy.from_yaml(text)
        assert secret not in str(caught.value)


def test_other_errors_keep_counting(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml("max_reasks: 2\nmode: [x]\nstream: 3\n")
    assert str(caught.value).endswith("got a list (1 more error(s) after this one).")


def test_the_server_config_is_worded_the_same(tmp_path: Path) -> None:
    path = tmp_path / "guardwire.yaml"
    path.write_text("port: eighty\nworkers: 0\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert "'port' must be a whole number between 0 and 65535, got text" in str(caught.value)
    assert "eighty" not in str(caught.value)
