"""Policy authoring mistakes a developer makes in the first hour, as the CLI, the proxy's
start and ``guardwire test`` report them.

Each must be one paragraph naming the file, the line and the field, and say what to do. A
misspelt key read "Extra inputs are not permitted." (pydantic's words: it neither said
that the key is unknown nor which one was meant); an unknown check type listed what it
should be without naming what was written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.cli import main
from guard.errors import ConfigError, PolicyError
from guard.policy_tests import load_cases
from guard.proxy.config import load_config

#: (file text, line, field, words the message must hold)
POLICY_MISTAKES = {
    "misspelt rule key": (
        "name: t\ninput:\n  - check: rules\n    rules:\n      - name: x\n        keyword: [foo]\n",
        6,
        "input[0].rules[0].keyword",
        ["unknown key 'keyword'", "did you mean 'keywords'?"],
    ),
    "misspelt top-level key": (
        "name: t\ninputs:\n  - check: rules\n",
        2,
        "inputs",
        ["unknown key 'inputs'", "did you mean 'input'?"],
    ),
    "misspelt agent key": (
        "name: t\ninput:\n  - check: agent\n    tools_alowed: [x]\n",
        4,
        "input[0].tools_alowed",
        ["unknown key 'tools_alowed'", "did you mean 'tools_allowed'?"],
    ),
    "key unlike any": (
        "name: t\nzzqx: 1\n",
        2,
        "zzqx",
        ["unknown key 'zzqx'", "remove it"],
    ),
    "unknown check type": (
        "name: t\ninput:\n  - check: rulez\n    rules: []\n",
        3,
        "input[0].check",
        ["unknown check 'rulez'", "'rules'", "'injection'", "did you mean 'rules'?"],
    ),
    "wrong type": (
        "name: t\ninput:\n  - check: rules\n    rules:\n      - name: x\n        keywords: foo\n",
        6,
        "input[0].rules[0].keywords",
        ["'keywords' must be a list, got text"],
    ),
    "bad regex": (
        'name: t\ninput:\n  - check: rules\n    rules:\n      - name: x\n        regex: "(ab"\n',
        6,
        "input[0].rules[0].regex",
        ["rule 'x'", "does not compile"],
    ),
    "action typo": (
        "name: t\ninput:\n  - check: rules\n    rules:\n"
        "      - {name: x, keywords: [a], action: blok}\n",
        5,
        "input[0].rules[0].action",
        ["'block', 'redact' or 'warn'"],
    ),
}


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the policy is named as a developer types it: p.yaml


def _cli_error(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    (tmp_path / "p.yaml").write_text(text)
    assert main(["check", "--policy", "p.yaml", "hello"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.strip()


@pytest.mark.parametrize("mistake", sorted(POLICY_MISTAKES))
def test_cli_names_file_line_field_and_what_to_do(
    mistake: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line, field, words = POLICY_MISTAKES[mistake]
    error = _cli_error(tmp_path, text, capsys)
    assert error.startswith(f"guardwire: invalid policy (p.yaml, line {line}, field '{field}'): ")
    assert "\n" not in error
    for word in words:
        assert word in error, error


def test_an_extends_cycle_names_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "base.yaml").write_text("extends: ./p.yaml\nname: base\n")
    error = _cli_error(tmp_path, "extends: ./base.yaml\nname: p\n", capsys)
    assert "base.yaml -> p.yaml" in error
    assert "line 1, field 'extends'" in error
    assert "remove one of the links" in error


def test_the_proxy_refuses_to_start_with_the_same_words(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY_MISTAKES["misspelt rule key"][0])
    config = tmp_path / "guardwire.yaml"
    config.write_text(f"policy: {policy}\n")
    with pytest.raises(PolicyError) as caught:
        from guard.proxy.app import ProxyApp

        ProxyApp(load_config(config))
    assert "unknown key 'keyword'" in str(caught.value)
    assert "did you mean 'keywords'?" in str(caught.value)


def test_a_misspelt_server_key(tmp_path: Path) -> None:
    config = tmp_path / "guardwire.yaml"
    config.write_text("polciy: default\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    message = str(caught.value)
    assert "line 1, field 'polciy'" in message
    assert "did you mean 'policy'?" in message


def test_a_misspelt_case_file_key(tmp_path: Path) -> None:
    cases = tmp_path / "p.cases.yaml"
    cases.write_text(
        "policy: default\ncases:\n  - name: a\n    input: hi\n    expext: {action: allow}\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_cases(cases)
    message = str(caught.value)
    assert "line 5, field 'cases[0].expext'" in message
    assert "did you mean 'expect'?" in message


#: A key written twice in one mapping: YAML loaders keep the last value silently, so
#: the first rule list (or action) vanished without a word.
DUPLICATES = {
    "top-level list": (
        "name: t\ninput:\n  - check: rules\n    rules:\n      - {name: x, keywords: [hello]}\n"
        "output: []\ninput: []\n",
        "input",
        (2, 7),
    ),
    "rule action": (
        "name: t\ninput:\n  - check: rules\n    rules:\n      - name: x\n"
        "        keywords: [hello]\n        action: block\n        action: warn\n",
        "action",
        (7, 8),
    ),
}


@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_a_key_written_twice_is_an_error(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, key, (first, second) = DUPLICATES[case]
    error = _cli_error(tmp_path, text, capsys)
    assert error.startswith(f"guardwire: invalid policy (p.yaml, line {second}")
    assert f"'{key}' is written twice (lines {first} and {second})" in error


def test_a_server_key_written_twice(tmp_path: Path) -> None:
    config = tmp_path / "guardwire.yaml"
    config.write_text("policy: strict\nport: 9000\npolicy: default\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "'policy' is written twice (lines 1 and 3)" in str(caught.value)


def test_a_misspelt_pack_name_lists_the_packs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--policy", "stirct", "hello"]) == 2
    error = capsys.readouterr().err
    assert "no policy file or shipped pack named 'stirct'" in error
    assert "(did you mean 'strict'?" in error
    assert "default, strict, rag, agents" in error


#: Mistakes found by the whole policy's validators: they were reported at line 1 with no
#: field, though the message named a check or rule the developer then had to look for.
WHOLE_POLICY_MISTAKES = {
    "unbounded output regex": (
        "name: t\noutput:\n  - check: rules\n    rules:\n      - {name: a, keywords: [x]}\n"
        "      - {name: b, regex: 'a+b'}\n",
        6,
        "output[0].rules[1].regex",
        "set 'max_length'",
    ),
    "a check name repeated": (
        "name: t\ninput:\n  - check: rules\n    rules: [{name: a, keywords: [x]}]\n"
        "  - check: rules\n    rules: [{name: b, keywords: [y]}]\n",
        5,
        "input[1].name",
        "give each entry its own 'name'",
    ),
    "a size limit under output": (
        "name: t\noutput:\n  - check: rules\n    rules:\n      - {name: a, keywords: [x]}\n"
        "      - {name: size, max_chars: 10}\n",
        6,
        "output[0].rules[1]",
        "move it under 'input'",
    ),
}


@pytest.mark.parametrize("mistake", sorted(WHOLE_POLICY_MISTAKES))
def test_whole_policy_mistakes_name_their_line(
    mistake: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line, field, words = WHOLE_POLICY_MISTAKES[mistake]
    error = _cli_error(tmp_path, text, capsys)
    assert error.startswith(f"guardwire: invalid policy (p.yaml, line {line}, field '{field}'): ")
    assert words in error


def test_a_relative_policy_path_that_is_not_found_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``policy: mine.yaml`` in a config file is read from the working directory, not
    the config file's folder: the error said only "file not found"."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mine.yaml").write_text("name: mine\n")
    assert main(["check", "--policy", "mine.yaml", "hello"]) == 2
    error = capsys.readouterr().err
    assert f"file not found at {tmp_path / 'mine.yaml'}" in error
    assert "relative paths are read from the working directory" in error
