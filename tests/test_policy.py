"""Policy loading: valid files load whole, broken ones fail with file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from guard import Policy, PolicyError
from guard.policy import data_path, resolve_policy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_default_policy_loads_from_package_data() -> None:
    policy = Policy.default()
    assert policy.name == "default"
    assert policy.mode == "enforce" and policy.on_error == "block"
    assert [c.name for c in policy.input] == ["denylist", "secrets", "injection"]
    assert len(policy.hash) == 12
    assert data_path("rules", "default.yaml").is_file()


def test_pack_name_resolves_to_shipped_file() -> None:
    assert resolve_policy("default").name == "default"
    with pytest.raises(PolicyError, match="no policy file or shipped pack named 'nope'"):
        resolve_policy("nope")


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            """\
            name: x
            input:
              - check: rules
                rules:
                  - name: a
                    regex: "(unclosed"
            """,
            6,
            "input[0].rules[0].regex",
            "regex does not compile",
        ),
        (
            """\
            name: x
            input:
              - check: rules
                rules:
                  - name: a
                    keywords: [x]
                    acton: block
            """,
            7,
            "input[0].rules[0].acton",
            "unknown key 'acton': did you mean 'action'?",
        ),
        ("name: x\nmode: loud\n", 2, "mode", "'enforce' or 'shadow'"),
        ("name: x\ninput:\n  - check: rulez\n", 3, "input[0].check", "unknown check 'rulez'"),
        ("name: x\non_error: maybe\n", 2, "on_error", "'block' or 'allow'"),
        ("name: x\nstream: {mode: trickle}\n", 2, "stream.mode", "'progressive' or 'buffer'"),
        (
            """\
            input:
              - check: rules
                rules:
                  - name: a
                    keywords: [x]
                    regex: y
            """,
            4,
            "input[0].rules[0]",
            "exactly one of 'keywords' or 'regex'",
        ),
        (
            """\
            input:
              - check: rules
                rules:
                  - {name: a, keywords: [x]}
              - check: rules
                rules:
                  - {name: b, keywords: [y]}
            """,
            5,
            "input[1].name",
            "check names must be unique within 'input'",
        ),
    ],
)
def test_broken_policy_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    error = caught.value
    assert error.file == str(path)
    assert error.line == line
    assert (error.field or "") == field or field in (error.field or "")
    assert message in str(error)
    # One paragraph, no traceback text.
    assert "\n" not in str(error) and "Traceback" not in str(error)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ninput:\n  - check: rules\n  rules: [\n")
    with pytest.raises(PolicyError, match="YAML syntax error") as caught:
        Policy.load(path)
    assert caught.value.line == 4


@pytest.mark.parametrize("content", ["- a\n- b\n", "just a string\n", "42\n"])
def test_top_level_must_be_mapping(tmp_path: Path, content: str) -> None:
    with pytest.raises(PolicyError, match="top level must be a mapping"):
        Policy.load(write(tmp_path, content))


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="file not found"):
        Policy.load(tmp_path / "absent.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(PolicyError, match="not valid UTF-8"):
        Policy.load(bad)


def test_empty_file_is_refused_not_an_empty_policy(tmp_path: Path) -> None:
    # A guard that checks nothing by accident: see tests/test_policy_empty.py.
    with pytest.raises(PolicyError, match=r"input: \[\]"):
        Policy.load(write(tmp_path, ""))


def test_policy_error_does_not_quote_values(tmp_path: Path) -> None:
    secret = "hunter2-very-secret"
    path = write(tmp_path, f"name: x\nmode: {secret}\n")
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    assert secret not in str(caught.value)


def test_hash_changes_with_content() -> None:
    a = Policy.from_yaml("name: a\n")
    b = Policy.from_yaml("name: a\nmode: shadow\n")
    assert a.hash != b.hash
    assert a.hash == Policy.from_yaml("name: a\n").hash
