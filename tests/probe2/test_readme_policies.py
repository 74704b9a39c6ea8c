"""Every policy example of the README loads as written (copied into a file).

The grounding example (``action: block`` with no ``stream`` key) was refused at load:
a check that needs the whole reply and may block cannot run on a progressive stream.
The README's example now carries ``stream: {whole_reply: buffer}``, as the schema one
does; until that text is pasted, ``_README_TEXT_PENDING`` holds it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.policy import Policy

README = Path(__file__).parents[2] / "README.md"

#: README text written but not pasted yet (helpers may not edit the README): old -> new.
_README_TEXT_PENDING: dict[str, str] = {}


def _policy_examples() -> list[str]:
    """The README's YAML blocks that are policies (or a part of one, made whole)."""
    text = README.read_text(encoding="utf-8")
    for old, new in _README_TEXT_PENDING.items():
        text = text.replace(old, new)
    examples = []
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        if block.startswith(("# guardwire.yaml", "policy: ")):
            continue  # the server configuration; a test-case file
        block = block.split("# in guardwire.yaml")[0]  # a policy's budgets, then the server's
        if block.startswith("  - "):
            block = "input:\n" + block  # a list entry shown alone
        examples.append(block)
    return examples


def readme_policy(check: str) -> str:
    """The README's policy example of ``check`` (``pii``, ``schema``...), as written."""
    (example,) = [e for e in _policy_examples() if f"- check: {check}\n" in e]
    return example


@pytest.mark.parametrize("example", _policy_examples(), ids=lambda e: e.split("\n")[0][:30])
def test_every_readme_policy_example_loads(example: str, tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(example)
    # The engine validates what the model alone cannot (a check against the stream mode).
    guard.Guard(Policy.load(path), registry=CollectorRegistry(), store="memory://")
