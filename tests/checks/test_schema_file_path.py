"""A policy's ``schema_file`` is read relative to the policy file it is written in (as
``keywords_file`` and ``extends`` are), not the working directory; a hot reload watches
it. Before, ``guardwire serve --config /etc/guardwire/guardwire.yaml`` started from
another directory could not find ``schema_file: answer.json`` beside the policy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard import Guard, Policy, PolicyError

SCHEMA = {"type": "object", "required": ["answer"]}


@pytest.fixture
def policy_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "policies"
    (directory / "schemas").mkdir(parents=True)
    (directory / "schemas" / "answer.json").write_text(json.dumps(SCHEMA))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return directory


def test_schema_file_is_read_from_the_policy_files_directory(policy_dir: Path) -> None:
    path = policy_dir / "rag.yaml"
    path.write_text(
        "stream: {mode: buffer}\noutput:\n  - check: schema\n    schema_file: schemas/answer.json\n"
    )
    policy = Policy.load(path)
    assert str(policy_dir / "schemas" / "answer.json") in policy.files  # watched on reload
    verdict = Guard(policy).check_output('{"other": 1}')
    assert verdict.blocked


def test_a_base_policys_schema_file_is_read_from_the_base_directory(
    policy_dir: Path, tmp_path: Path
) -> None:
    (policy_dir / "base.yaml").write_text(
        "stream: {mode: buffer}\noutput:\n  - check: schema\n    schema_file: schemas/answer.json\n"
    )
    main = tmp_path / "main.yaml"
    main.write_text(f"extends: {policy_dir / 'base.yaml'}\nname: main\n")
    assert Guard(Policy.load(main)).check_output('{"answer": "yes"}').outcome == "allowed"


def test_a_missing_schema_file_names_the_path_looked_at(policy_dir: Path) -> None:
    path = policy_dir / "p.yaml"
    path.write_text("output:\n  - check: schema\n    schema_file: nope.json\n")
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    assert str(policy_dir / "nope.json") in str(caught.value)
    assert caught.value.line == 3
