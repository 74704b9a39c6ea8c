"""What a progressive stream holds back: folded widths (core-review D5, R4), derived
regex widths and caps (D6, R3), and the per-channel cap (D14, R18)."""

from __future__ import annotations

import string
import time
from collections.abc import Callable

from guard import Action, Guard
from guard.decision import Decision
from guard.engine import text_call, text_reply


def deltas(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def streamed(guard: Guard, text: str, size: int = 8) -> tuple[str, Decision]:
    session = guard.stream(text_call("q"))
    out = []
    for piece in deltas(text, size):
        out.append(session.feed("t", piece))
        if session.blocked is not None:
            break
    out.append(session.flush("t"))
    return "".join(out), session.close()


def complete(guard: Guard, text: str) -> tuple[str, Action]:
    reply = text_reply(text)
    decision = guard.after(text_call("q"), reply)
    return reply.text, decision.action


KEY_CHARS = (string.ascii_letters + string.digits) * 3


def test_a_key_padded_with_zero_width_spaces_is_redacted_whole(
    make_guard: Callable[..., Guard],
) -> None:
    # R4: 96 key characters leaked after [API_KEY] when hold-back counted original
    # characters and matches counted folded ones.
    guard = make_guard()
    key = "sk-" + "".join(c + "\u200b" * 3 for c in KEY_CHARS[:150])
    text = f"here: {key} done"
    released, decision = streamed(guard, text)
    assert released == complete(guard, text)[0] == "here: [API_KEY] done"
    assert decision.action is Action.REDACT


def test_a_padded_private_key_header_blocks_the_stream(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard()
    header = "".join(c + "\u200b\u00ad" for c in "-----BEGIN RSA PRIVATE KEY-----")
    released, decision = streamed(guard, "ok " + header + "\nMIIE...")
    assert decision.action is Action.BLOCK
    assert "BEGIN" not in released.replace("\u200b", "").replace("\u00ad", "")


HOST_POLICY = """\
output:
  - check: rules
    name: hosts
    rules:
      - name: host
        action: redact
        replacement: "[HOST]"
        regex: '\\b[a-z0-9-]+\\.corp\\.example\\.com\\b'
        max_length: {cap}
"""


def test_readme_host_rule_streamed_equals_complete(make_guard: Callable[..., Guard]) -> None:
    # R3: the host came out in full when the stream held back 64 original characters.
    guard = make_guard(HOST_POLICY.format(cap=253))
    text = "connect to build-" + "x" * 70 + ".corp.example.com now"
    released, decision = streamed(guard, text)
    assert released == complete(guard, text)[0] == "connect to [HOST] now"
    assert decision.action is Action.REDACT


def test_a_match_longer_than_its_cap_blocks_the_stream(make_guard: Callable[..., Guard]) -> None:
    # The README's rule as written (max_length: 64) on R3's 93-character host: the cap
    # is enforced, the stream ends with a block instead of releasing the host.
    guard = make_guard(HOST_POLICY.format(cap=64))
    text = "connect to build-" + "x" * 70 + ".corp.example.com now"
    released, decision = streamed(guard, text)
    assert decision.action is Action.BLOCK
    assert ".corp" not in released
    assert any(f.kind == "holdback_overflow" and f.rule == "host" for f in decision.findings)


def test_a_match_longer_than_its_cap_is_released_when_the_policy_says_so(
    make_guard: Callable[..., Guard],
) -> None:
    guard = make_guard("stream: {on_holdback_overflow: release}\n" + HOST_POLICY.format(cap=32))
    text = "connect to build-" + "x" * 70 + ".corp.example.com now"
    released, decision = streamed(guard, text)
    assert decision.action is Action.REDACT
    assert released.endswith("[HOST] now")  # the part still held back is redacted


def test_whitespace_run_after_an_output_keyword_finishes_fast(
    make_guard: Callable[..., Guard],
) -> None:
    # R18: 160k spaces after the first word took 9.9 s and released 7 characters.
    guard = make_guard(
        "output:\n  - check: rules\n    rules:\n"
        "      - {name: o, action: warn, keywords: [ignore previous instructions]}\n"
    )
    text = "please ignore" + " " * 160_000
    session = guard.stream(text_call("q"))
    # CPU time of this thread: on a loaded machine wall time also counts the time other
    # processes ran (2.66 s of wall time in a full run under load).
    started = time.thread_time()
    released = sum(len(session.feed("t", piece)) for piece in deltas(text))
    elapsed = time.thread_time() - started
    assert released == len(text)  # no keyword can continue past 128 spaces
    session.flush("t")
    assert session.close().action is Action.ALLOW
    assert elapsed < 2.0  # ~0.05 s here; was 9.9 s


CAP_POLICY = """\
stream: {{max_holdback: 100{extra}}}
output:
  - check: rules
    rules:
      - {{name: long, action: redact, regex: 'begin [a-z ]{{0,300}} end'}}
"""


def test_holdback_cap_blocks_by_default(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(CAP_POLICY.format(extra=""))
    text = "begin " + "word " * 60 + "end"
    released, decision = streamed(guard, text)
    assert decision.action is Action.BLOCK
    assert [f.kind for f in decision.findings] == ["holdback_overflow"]
    assert len(released) <= 8  # nothing of the pending match went out


def test_holdback_cap_releases_when_the_policy_says_so(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(CAP_POLICY.format(extra=", on_holdback_overflow: release"))
    session = guard.stream(text_call("q"))
    text = "begin " + "word " * 60
    for piece in deltas(text):
        session.feed("t", piece)
        channel = session._channels["t"]
        assert len(channel.window.text) - channel.window.released <= 100
    assert session.blocked is None


def test_held_back_text_never_exceeds_the_cap(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(CAP_POLICY.format(extra=", on_holdback_overflow: release"))
    session = guard.stream(text_call("q"))
    for piece in deltas("begin " + "a " * 1000):
        session.feed("t", piece)
        window = session._channels["t"].window
        assert len(window.text) - window.released <= 100
