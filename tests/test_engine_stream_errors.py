"""Check combinations refused when the engine is built name the policy file, the line
and the key of the check entry, like every other policy error (they said only the file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import Guard, Policy, PolicyError

WHOLE_REPLY = """\
name: rag
input:
  - check: pii
output:
  - check: pii
  - check: grounding
    action: block
"""


def test_a_whole_reply_check_in_a_progressive_stream_names_file_line_and_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rag.yaml"
    path.write_text(WHOLE_REPLY)
    with pytest.raises(PolicyError) as caught:
        Guard(str(path))
    error = caught.value
    assert (error.file, error.line, error.field) == (str(path), 6, "output[1]")
    assert f"{path}, line 6, field 'output[1]'" in str(error)
    assert "check 'grounding' needs the whole reply" in str(error)
    assert "whole_reply: buffer" in str(error)  # the fix


def test_the_entry_written_in_a_base_policy_is_named_there(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(WHOLE_REPLY)
    main = tmp_path / "main.yaml"
    main.write_text("extends: base.yaml\nname: mine\n")
    with pytest.raises(PolicyError) as caught:
        Guard(str(main))
    assert (caught.value.file, caught.value.line) == (str(tmp_path / "base.yaml"), 6)


def test_a_reask_in_a_stream_ended_at_its_end_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "end.yaml"
    path.write_text(
        "stream: {whole_reply: end}\noutput:\n  - check: schema\n    action: reask\n"
        "    schema: {type: object}\n"
    )
    with pytest.raises(PolicyError) as caught:
        Guard(str(path))
    assert (caught.value.file, caught.value.line, caught.value.field) == (str(path), 3, "output[0]")


def test_an_inline_policy_still_names_the_entry() -> None:
    policy = Policy.from_dict({"output": [{"check": "grounding", "action": "block"}]})
    with pytest.raises(PolicyError) as caught:
        Guard(policy)
    assert caught.value.field == "output[0]" and caught.value.line is None
