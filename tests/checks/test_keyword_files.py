"""``keywords_file:``: a rule's terms read from text files next to the policy."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from guard import Action, Guard, Policy, PolicyError

POLICY = """\
name: files
input:
  - check: rules
    rules:
      - name: deny
        keywords: [zork]
        keywords_file: {files}
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def policy_with(tmp_path: Path, files: str) -> Path:
    return write(tmp_path / "policies" / "p.yaml", POLICY.format(files=files))


def test_terms_come_from_a_file_relative_to_the_policy(tmp_path: Path) -> None:
    write(
        tmp_path / "policies" / "lists" / "deny.txt",
        "# launch words\nlaunch codes\n\n   Forbidden   Phrase  \n  # indented comment\n",
    )
    policy = Policy.load(policy_with(tmp_path, "lists/deny.txt"))
    guard = Guard(policy)
    for text in ("the LAUNCH\n codes", "a forbidden phrase", "zork"):
        assert guard.check_input(text).action is Action.BLOCK, text
    assert guard.check_input("launch words").action is Action.ALLOW  # a comment, no term
    assert guard.check_input("indented comment").action is Action.ALLOW
    # A hot reload watches the keyword file as it watches the policy file.
    assert policy.files == (
        str(tmp_path / "policies" / "p.yaml"),
        str(tmp_path / "policies" / "lists" / "deny.txt"),
    )


def test_several_files_and_the_hash_follows_their_content(tmp_path: Path) -> None:
    first = write(tmp_path / "policies" / "a.txt", "alpha\n")
    write(tmp_path / "policies" / "b.txt", "beta gamma\n")
    path = policy_with(tmp_path, "[a.txt, b.txt]")
    policy = Policy.load(path)
    guard = Guard(policy)
    assert guard.check_input("alpha").blocked and guard.check_input("beta  gamma").blocked
    first.write_text("delta\n", encoding="utf-8")
    changed = Policy.load(path)
    assert changed.hash != policy.hash  # replicas on different lists show different hashes
    assert Guard(changed).check_input("delta").blocked


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "keywords_file '{dir}/missing.txt' does not exist"),
        (b"ok\nbad \xff byte\n", "keywords_file '{dir}/missing.txt', line 2: not valid UTF-8"),
        (b"# only a comment\n\n", "keywords_file '{dir}/missing.txt' lists no term"),
        (
            "fine\n\u200b\u200d\n".encode(),
            "keywords_file '{dir}/missing.txt', line 2: the term has only invisible",
        ),
    ],
)
def test_a_keyword_file_that_cannot_be_used_is_a_load_error_naming_file_and_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    if content is not None:
        write(tmp_path / "policies" / "missing.txt", content)
    path = policy_with(tmp_path, "missing.txt")
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    error = caught.value
    assert error.file == str(path)
    assert error.line == 5  # the rule in the policy file
    assert message.format(dir=tmp_path / "policies") in str(error)
    assert "bad" not in str(error)  # no term (user text) in the error


def test_a_base_policys_keyword_file_is_relative_to_the_base(tmp_path: Path) -> None:
    write(tmp_path / "base" / "words.txt", "project bluebird\n")
    write(
        tmp_path / "base" / "base.yaml",
        """\
        input:
          - check: rules
            name: words
            rules:
              - {name: codename, keywords_file: words.txt}
        """,
    )
    child = write(tmp_path / "team" / "team.yaml", "extends: ../base/base.yaml\n")
    policy = Policy.load(child)
    assert Guard(policy).check_input("Project Bluebird").blocked
    assert tmp_path / "base" / "words.txt" in {Path(f).resolve() for f in policy.files}


def test_a_policy_given_as_data_reads_files_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "words.txt", "quokka\n")
    monkeypatch.chdir(tmp_path)
    policy = Policy.from_dict(
        {"input": [{"check": "rules", "rules": [{"name": "a", "keywords_file": "words.txt"}]}]}
    )
    assert Guard(policy).check_input("a quokka").blocked


def test_an_empty_list_of_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="keywords_file must name at least one file"):
        Policy.load(policy_with(tmp_path, "[]"))
