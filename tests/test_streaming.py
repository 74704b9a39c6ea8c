"""Progressive stream checking: released text equals the redacted full text."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from guard import Action, Guard
from guard.engine import text_call, text_reply
from guard.streaming import apply_edits
from guard.types import Edit

POLICY = """\
name: s
output:
  - check: rules
    name: out
    rules:
      - {name: key, action: redact, replacement: "[KEY]", regex: 'sk-[a-z0-9]{20,40}', max_length: 43}
      - {name: word, action: redact, replacement: "[W]", keywords: [classified material]}
      - {name: stop, action: block, keywords: [self destruct sequence]}
"""

TEXTS = [
    "Here is sk-abcdefghij0123456789abcd and more classified material, and\nclassified   material.",
    "No findings at all in this perfectly ordinary reply about weather and tea.",
    "Unicode ✓ café — classified material — ключ sk-0123456789abcdefghijklmn end",
]


def chunks(text: str, rng: random.Random) -> list[str]:
    out, position = [], 0
    while position < len(text):
        size = rng.randint(1, 7)
        out.append(text[position : position + size])
        position += size
    return out


def full_redaction(guard: Guard, text: str) -> str:
    reply = text_reply(text)
    guard.after(text_call("q"), reply)
    return reply.text


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("seed", range(25))
def test_joined_chunks_equal_redacted_full_text(
    make_guard: Callable[..., Guard], text: str, seed: int
) -> None:
    guard = make_guard(POLICY)
    session = guard.stream(text_call("q"))
    released = [session.feed("t", piece) for piece in chunks(text, random.Random(seed))]
    released.append(session.flush("t"))
    assert "".join(released) == full_redaction(guard, text)
    decision = session.close()
    assert decision.action is not Action.BLOCK


@pytest.mark.parametrize("seed", range(25))
def test_blocking_phrase_never_leaks(make_guard: Callable[..., Guard], seed: int) -> None:
    guard = make_guard(POLICY)
    session = guard.stream(text_call("q"))
    text = "Starting the self destruct sequence now, goodbye."
    released = ""
    for piece in chunks(text, random.Random(seed)):
        released += session.feed("t", piece)
        if session.blocked:
            break
    released += session.flush("t")
    assert session.blocked is not None and session.blocked.blocked
    assert "self destruct" not in released and "destruct" not in released
    assert released == text[: len(released)]  # only clean prefix text was released
    assert session.close().action is Action.BLOCK


def test_text_is_released_promptly(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(POLICY)
    session = guard.stream(text_call("q"))
    released = session.feed(
        "t", "A long and entirely clean first sentence that goes on for a while. "
    )
    # Only the bounded hold-back window is kept, not the whole reply.
    assert len(released) >= 20


def test_shadow_stream_releases_everything_but_records(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(POLICY.replace("name: s\n", "name: s\nmode: shadow\n", 1))
    session = guard.stream(text_call("q"))
    text = "self destruct sequence and classified material"
    out = session.feed("t", text) + session.flush("t")
    assert out == text
    decision = session.close()
    assert decision.action is Action.ALLOW and decision.recorded_action is Action.BLOCK


def test_apply_edits_merges_overlaps() -> None:
    edits = [Edit(0, 2, 6, "[A]"), Edit(0, 4, 9, "[B]"), Edit(0, 10, 11, "[C]")]
    assert apply_edits("0123456789AB", edits) == "01[A]9[C]B"


def test_whole_reply_checks_run_when_the_stream_closes(make_guard: Callable[..., Guard]) -> None:
    from guard.checks.base import CheckContext
    from guard.types import Call, Reply, Verdict

    class NoPlatypus:
        name = "no-platypus"
        shadow = False

        def input(self, call: Call, ctx: CheckContext) -> Verdict:
            return Verdict(self.name, Action.ALLOW)

        def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
            return Verdict(self.name, Action.BLOCK if "platypus" in reply.text else Action.ALLOW)

    guard = make_guard(POLICY)
    guard.output_checks.append(NoPlatypus())
    session = guard.stream(text_call("q"))
    out = session.feed("t", "a platypus") + session.flush("t")
    assert out == "a platypus"  # progressive: released, but the end decision blocks
    decision = session.close(text_reply(out))
    assert decision.blocked and decision.verdicts[-1].check == "no-platypus"
