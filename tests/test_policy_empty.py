"""An empty policy file is an error, not a guard that silently checks nothing.

A file left empty by accident (a failed template render, a truncated copy, a commented-out
policy) used to load as "no checks": every call passed unchecked, without a word. Asking
for no checks on purpose stays possible and is explicit (``input: []``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import Guard, Policy, PolicyError

EMPTY_DOCUMENTS = [
    "",
    "\n\n",
    "# guardwire policy\n# input:\n#   - check: pii\n",
    "null\n",
    "~\n",
    "---\n",
]


@pytest.mark.parametrize("text", EMPTY_DOCUMENTS)
def test_an_empty_policy_file_is_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    error = caught.value
    assert error.file == str(path)
    assert str(path) in str(error)
    assert "checks nothing" in str(error) or "check nothing" in str(error)
    assert "input: []" in str(error)  # how to ask for no checks on purpose
    with pytest.raises(PolicyError):
        Guard(str(path))


def test_an_empty_yaml_string_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"input: \[\]"):
        Policy.from_yaml("")


def test_an_empty_base_policy_is_refused(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("# to be written\n")
    main = tmp_path / "main.yaml"
    main.write_text("extends: base.yaml\n")
    with pytest.raises(PolicyError) as caught:
        Policy.load(main)
    assert caught.value.file == str(tmp_path / "base.yaml")


@pytest.mark.parametrize(
    "text", ["input: []\n", "input: []\noutput: []\n", "name: none\ninput: []\n"]
)
def test_no_checks_on_purpose_still_loads(text: str) -> None:
    policy = Policy.from_yaml(text)
    assert policy.input == [] and policy.output == []
    assert Guard(policy).check_input("hello").outcome == "allowed"
