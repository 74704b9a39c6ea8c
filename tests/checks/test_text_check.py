"""The text-check base (guard/checks/_text_check.py): findings placed in their segments."""

from __future__ import annotations

from guard.checks.base import TextCheck
from guard.types import Action, Finding, Segment


class _ToolFinder(TextCheck):
    name = "tool-finder"

    def scan(self, text: str) -> list[Finding]:
        start = text.find("run")
        if start < 0:
            return []
        return [
            Finding(
                self.name, "tool", start=start, end=start + 3, action=Action.WARN,
                rule="r", tool="shell", arguments_hash="sha256:0123456789abcdef",
            )
        ]  # fmt: skip


def test_findings_keep_every_field_when_placed_in_their_segment() -> None:
    verdict = _ToolFinder().check_segments([Segment("a"), Segment("please run")])
    (found,) = verdict.findings
    assert (found.segment, found.start, found.end) == (1, 7, 10)
    assert (found.tool, found.arguments_hash, found.rule) == (
        "shell",
        "sha256:0123456789abcdef",
        "r",
    )
    assert verdict.action is Action.WARN
