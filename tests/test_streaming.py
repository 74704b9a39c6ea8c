"""Progressive stream checking: released text equals the redacted full text."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from guard import Action, Guard
from guard.decision import Decision
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


# -- the fast paths: scanning only unreleased text, holding back only candidates ---------

RICH_POLICY = """\
name: rich
output:
  - check: rules
    name: out
    rules:
      - {name: key, action: redact, replacement: "[KEY]", regex: '\\bsk-[a-z0-9]{5,12}', max_length: 15}
      - {name: gh, action: redact, replacement: "[GH]", regex: '\\bgh[pousr]_[A-Za-z0-9]{4,30}\\b', max_length: 34}
      - {name: pem, action: warn, regex: '-----BEGIN (?:RSA )?KEY-----', max_length: 30}
      - {name: host, action: redact, replacement: "[HOST]", regex: '\\b[a-z0-9]{1,15}\\.corp\\b', max_length: 21}
      - {name: word, action: redact, replacement: "[W]", keywords: [classified material, top secret]}
      - {name: part, action: warn, whole_word: false, keywords: [zork]}
      - {name: stop, action: STOP, keywords: [self destruct]}
"""
# Pieces that make matches, near misses, overlaps, evasions and multibyte characters.
ATOMS = (
    "sk-", "sk-abc12", "ghp_", "ghpX_", "aaaa", "12345", " ", "  ", "\n", "-----BEGIN ",
    "RSA ", "KEY-----", "x", "classified", "material", "top", "secret", "zork", "self",
    "destruct", ".corp", "db1", "\u200b", "Ｋ", "é", "ı", "_", "-", "s", "k", "🎉",
)  # fmt: skip


def random_deltas(text: str, rng: random.Random) -> list[str]:
    out, position = [], 0
    while position < len(text):
        size = rng.choice((1, 1, 2, 3, 5, 8, 13, 40))
        out.append(text[position : position + size])
        position += size
    return out


def stream_through(guard: Guard, deltas: list[str]) -> tuple[str, Decision]:
    session = guard.stream(text_call("q"))
    released = []
    for piece in deltas:
        released.append(session.feed("t", piece))
        if session.blocked:
            break
    released.append(session.flush("t"))
    return "".join(released), session.close()


@pytest.mark.parametrize("seed", range(60))
def test_random_texts_stream_exactly_as_the_full_text_is_redacted(
    make_guard: Callable[..., Guard], seed: int
) -> None:
    rng = random.Random(seed)
    guard = make_guard(RICH_POLICY.replace("STOP", "warn"))
    text = "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 80)))
    full = guard.after(text_call("q"), reply := text_reply(text))
    released, decision = stream_through(guard, random_deltas(text, rng))
    assert released == reply.text
    # Each finding recorded once, with its span in the whole text.
    spans = sorted((f.rule, f.start, f.end) for f in decision.findings)
    assert spans == sorted((f.rule, f.start, f.end) for f in full.findings)


@pytest.mark.parametrize("seed", range(60))
def test_random_texts_block_exactly_when_the_full_text_does_and_leak_nothing(
    make_guard: Callable[..., Guard], seed: int
) -> None:
    rng = random.Random(seed)
    guard = make_guard(RICH_POLICY.replace("STOP", "block"))
    text = "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 80)))
    blocks = guard.check_output(text).action is Action.BLOCK
    released, decision = stream_through(guard, random_deltas(text, rng))
    assert (decision.action is Action.BLOCK) == blocks
    # What was released is the redacted text up to (not into) the blocking phrase.
    marked = make_guard(RICH_POLICY.replace("STOP", 'redact, replacement: "\\u0007"'))
    assert full_redaction(marked, text).startswith(released) and "\u0007" not in released


SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz1234"


@pytest.mark.parametrize("cut", range(-2, 6))
def test_a_secret_whose_prefix_meets_a_chunk_boundary(
    make_guard: Callable[..., Guard], cut: int
) -> None:
    guard = make_guard()  # the default policy: secrets
    text = f"The key is {SECRET} and nothing else."
    at = text.index("sk-") + cut  # the boundary just before, inside, or after "sk-"
    released, _ = stream_through(guard, [text[:at], text[at:]])
    assert released == "The key is [API_KEY] and nothing else."


def test_a_keyword_split_over_three_chunks(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(POLICY)
    deltas = ["Some classi", "fied mat", "erial here."]
    assert stream_through(guard, deltas)[0] == "Some [W] here."
    session = guard.stream(text_call("q"))
    released = [session.feed("t", d) for d in ["Run the self de", "struct seq", "uence now"]]
    assert session.blocked is not None
    assert "Run the ".startswith("".join(released))  # nothing of the phrase leaked


def test_a_secret_long_after_clean_text_is_caught_and_clean_text_is_not_held(
    make_guard: Callable[..., Guard],
) -> None:
    guard = make_guard()
    clean = "Ask about invoices, orders and refunds; shipping is slow this week. " * 75
    text = clean + f" then {SECRET} at last."
    session = guard.stream(text_call("q"))
    fed = released = ""
    for position in range(0, len(text), 8):
        fed += text[position : position + 8]
        released += session.feed("t", text[position : position + 8])
        if len(fed) <= len(clean):
            # Only a tail that could still become a secret's prefix ("-----begin ") waits.
            assert len(fed) - len(released) < len("-----BEGIN ")
    released += session.flush("t")
    assert released == clean + " then [API_KEY] at last."


@pytest.mark.parametrize(
    "deltas",
    [
        ["sk-sk-abc", "12.corp-a", "aaaaa-ghp_de", "str"],
        ["sk-sk-abc", "12.corp-a", "aaaaa-ghp_ıde", "str"],
        ["see sk-abc12", "db1k.co", "rp now"],
    ],
)
def test_overlapping_redactions_are_never_split(
    make_guard: Callable[..., Guard], deltas: list[str]
) -> None:
    # "key" (sk-abc12) and "host" (abc12.corp) overlap, and "ghp_" holds back what
    # follows. Moving the cut back to the start of one redaction must not leave the
    # other crossing it (its first characters would leak).
    guard = make_guard(RICH_POLICY.replace("STOP", "warn"))
    released, _ = stream_through(guard, deltas)
    assert released == full_redaction(guard, "".join(deltas))
    assert "sk-abc" not in released


def test_a_blocking_phrase_that_ends_up_no_whole_word_does_not_block(
    make_guard: Callable[..., Guard],
) -> None:
    guard = make_guard(POLICY)
    deltas = ["The self destruct sequence", "rs are fine."]
    assert stream_through(guard, deltas)[0] == "The self destruct sequencers are fine."


def test_a_blocking_phrase_spread_by_whitespace_never_leaks(
    make_guard: Callable[..., Guard],
) -> None:
    guard = make_guard(POLICY)
    text = "Go self" + " " * 100 + "destruct\n\n  sequence now."
    released, decision = stream_through(guard, random_deltas(text, random.Random(3)))
    assert decision.action is Action.BLOCK and "self" not in released
