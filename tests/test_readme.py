"""The README's in-process quickstart runs as written (newuser-trial §2.4)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def _blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}\n")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], re.S)


def test_in_process_quickstart_runs_as_written() -> None:
    transport_snippet, wrap_snippet = _blocks("Quickstart: in-process")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(transport_snippet, "README.md", "exec"), {})
        exec(compile(wrap_snippet, "README.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    assert lines[0].endswith("You said: my key is [AWS_ACCESS_KEY]")
    assert lines[1].startswith("guardwire blocked this request: check 'denylist'")
    assert lines[2] == "be brief / my key is [AWS_ACCESS_KEY]"
