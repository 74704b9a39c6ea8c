"""The engine: stage ordering, strictest verdict, composed redactions, shadow, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from guard import Action, Guard, Policy
from guard.checks.base import CheckContext
from guard.engine import text_call
from guard.types import Call, Choice, Reply, Verdict

TWO_REDACTORS = """\
name: t
mode: {mode}
input:
  - check: rules
    name: first
    rules:
      - {{name: host, action: redact, replacement: "[HOST]", regex: 'db\\d+\\.corp'}}
  - check: rules
    name: second
    rules:
      - {{name: word, action: redact, replacement: "[WORD]", keywords: [secret]}}
      - {{name: stop, action: block, keywords: [launch codes]}}
output:
  - check: rules
    name: out
    rules:
      - {{name: word, action: redact, replacement: "[WORD]", keywords: [secret]}}
"""


def test_redactions_compose_in_policy_order(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(TWO_REDACTORS.format(mode="enforce"))
    call = text_call("db1.corp has the secret; db2.corp too")
    decision = guard.before(call)
    assert decision.action is Action.REDACT
    assert call.segments[0].text == "[HOST] has the [WORD]; [HOST] too"
    assert [v.check for v in decision.verdicts] == ["first", "second"]
    assert all(v.latency > 0 for v in decision.verdicts)


def test_shadow_mode_changes_nothing_but_records_the_same(make_guard: Callable[..., Guard]) -> None:
    text = "db1.corp: the secret launch codes"
    enforce, shadow = (make_guard(TWO_REDACTORS.format(mode=m)) for m in ("enforce", "shadow"))
    enforced_call, shadow_call = text_call(text), text_call(text)
    enforced = enforce.before(enforced_call)
    shadowed = shadow.before(shadow_call)
    assert enforced.action is Action.BLOCK
    assert shadowed.action is Action.ALLOW and not shadowed.blocked
    assert shadowed.recorded_action is Action.BLOCK
    assert shadow_call.segments[0].text == text
    assert [f.as_record() for f in shadowed.findings] == [f.as_record() for f in enforced.findings]


def test_output_redaction_rewrites_reply(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(TWO_REDACTORS.format(mode="enforce"))
    raw = {"choices": [{"message": {"content": "the secret is out"}}]}
    reply = Reply(
        "x",
        [Choice(0, "the secret is out", path=("choices", 0, "message", "content"))],
        raw=raw,
        body=b"{}",
    )
    decision = guard.after(text_call("q"), reply)
    assert decision.action is Action.REDACT
    assert reply.text == "the [WORD] is out"
    assert raw["choices"][0]["message"]["content"] == "the [WORD] is out"
    assert reply.body == b""


class Exploding:
    name = "exploding"
    shadow = False

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        raise RuntimeError("boom with user text: hunter2")

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("on_error", "expected"), [("block", Action.BLOCK), ("allow", Action.ALLOW)]
)
def test_failing_check_follows_on_error(
    on_error: str, expected: Action, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    guard = Guard(Policy.from_yaml(f"on_error: {on_error}\n"), registry=registry)
    guard.input_checks.append(Exploding())
    decision = guard.check_input("hello")
    assert decision.action is expected
    assert decision.verdicts[0].errored
    assert "hunter2" not in caplog.text and "RuntimeError" in caplog.text
    assert (
        registry.get_sample_value(
            "guardwire_check_errors_total", {"check": "exploding", "stage": "input"}
        )
        == 1.0
    )


def test_metrics_count_verdicts(
    make_guard: Callable[..., Guard], registry: CollectorRegistry
) -> None:
    guard = make_guard(TWO_REDACTORS.format(mode="enforce"))
    guard.check_input("launch codes")
    labels = {"check": "second", "stage": "input", "action": "block", "shadow": "false"}
    assert registry.get_sample_value("guardwire_verdicts_total", labels) == 1.0
    assert (
        registry.get_sample_value(
            "guardwire_policy_info", {"policy": "t", "hash": guard.policy.hash}
        )
        == 1.0
    )


def test_audit_log_records_findings_without_values(
    make_guard: Callable[..., Guard], tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    guard = make_guard(TWO_REDACTORS.format(mode="enforce"), audit=audit)
    guard.check_input("db7.corp knows the secret")
    guard.check_output("all clear")
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [entry["outcome"] for entry in lines] == ["redacted", "allowed"]  # one per call
    first: dict[str, Any] = lines[0]
    assert first["input"]["action"] == "redact" and first["policy"] == "t"
    assert first["input"]["checks"][0]["findings"][0]["span"] == [0, 8]
    # No excuse for any shape: nothing in a line legitimately contains either word.
    text = audit.read_text()
    assert "db7.corp" not in text and "secret" not in text


class Reasker:
    name = "reasker"
    shadow = False

    def __init__(self, bad: str) -> None:
        self.bad = bad

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        if self.bad in reply.text:
            return Verdict(self.name, Action.REASK, feedback="do not say that")
        return Verdict(self.name, Action.ALLOW)


def test_run_reasks_until_valid(registry: CollectorRegistry) -> None:
    guard = Guard(Policy.from_yaml("max_reasks: 2\n"), registry=registry)
    guard.output_checks.append(Reasker("bad"))
    answers = iter(["bad one", "bad two", "good"])
    sent: list[Call] = []

    def send(call: Call) -> Reply:
        sent.append(call)
        return Reply("openai.chat", [Choice(0, next(answers), finish_reason="stop")])

    call = _openai_call()
    outcome = guard.run_sync(call, send)
    assert outcome.attempts == 3 and outcome.blocked is None
    assert outcome.reply is not None and outcome.reply.text == "good"
    last = sent[-1].raw["messages"]
    assert last[-1]["role"] == "user" and "do not say that" in last[-1]["content"]
    assert registry.get_sample_value("guardwire_reasks_total", {"format": "openai.chat"}) == 2.0


def test_reask_exhausted_blocks_and_truncation_is_not_reasked(registry: CollectorRegistry) -> None:
    guard = Guard(Policy.from_yaml("max_reasks: 1\n"), registry=registry)
    guard.output_checks.append(Reasker("bad"))
    calls = 0

    def send(call: Call) -> Reply:
        nonlocal calls
        calls += 1
        return Reply("openai.chat", [Choice(0, "bad", finish_reason="stop")])

    outcome = guard.run_sync(_openai_call(), send)
    assert calls == 2 and outcome.blocked is outcome.output

    calls = 0

    def truncated(call: Call) -> Reply:
        nonlocal calls
        calls += 1
        return Reply("openai.chat", [Choice(0, "bad", finish_reason="length")])

    outcome = guard.run_sync(_openai_call(), truncated)
    assert calls == 1 and outcome.blocked is not None


async def test_async_run_blocks_before_sending(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(TWO_REDACTORS.format(mode="enforce"))

    async def send(call: Call) -> Reply:
        raise AssertionError("a blocked call must not be sent")

    outcome = await guard.run(text_call("launch codes"), send)
    assert outcome.blocked is outcome.input
    assert "second" in outcome.input.message() and "launch codes" not in outcome.input.message()


def _openai_call() -> Call:
    from guard import formats

    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    return formats.get("openai.chat").parse_request(body)


# -- review D15, D21 (regressions) ---------------------------------------------------


class InputReasker:
    name = "input-reasker"
    shadow = False

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.REASK, feedback="again")

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW)


def test_input_reask_never_forwards_unredacted_text(registry: CollectorRegistry) -> None:
    """R11a: a REASK at input outranked the redaction, and the key went upstream."""
    engine = Guard(registry=registry)
    engine.input_checks.append(InputReasker())
    sent: list[Call] = []
    outcome = engine.run_sync(text_call("my key is AKIAABCDEFGHIJKLMNOP"), sent.append)  # type: ignore[arg-type]
    assert not sent and outcome.blocked is outcome.input
    assert "input-reasker" in outcome.input.message()


def test_a_policy_cannot_put_a_reasking_check_at_input(registry: CollectorRegistry) -> None:
    from guard.checks.base import Capabilities
    from guard.errors import PolicyError

    class Declared(InputReasker):
        capabilities = Capabilities(may_reask=True)

    engine = Guard(registry=registry)
    with pytest.raises(PolicyError, match="only output checks"):
        engine.add_check("input", Declared())
    assert not any(isinstance(c, Declared) for c in engine.input_checks)


def test_exhausted_reask_blocks_with_the_reask_reasons(registry: CollectorRegistry) -> None:
    """R11b: the message was 'guardwire blocked this model reply: ' with no reason."""
    engine = Guard(Policy.from_yaml("max_reasks: 1\n"), registry=registry)
    engine.output_checks.append(Reasker("bad"))
    outcome = engine.run_sync(
        _openai_call(), lambda call: Reply("openai.chat", [Choice(0, "bad", finish_reason="stop")])
    )
    assert outcome.blocked is outcome.output and outcome.output is not None
    message = outcome.output.message()
    assert "reasker" in message and "no reask left" in message
    assert outcome.output.verdicts[0].action is Action.BLOCK


def test_text_calls_can_be_reasked(registry: CollectorRegistry) -> None:
    """R11c: run_sync(text_call(...)) with a reask raised TypeError (raw was None)."""
    engine = Guard(Policy.from_yaml("max_reasks: 1\n"), registry=registry)
    engine.output_checks.append(Reasker("bad"))
    answers = iter(["bad", "good"])
    outcome = engine.run_sync(
        text_call("q"), lambda call: Reply("text", [Choice(0, next(answers), finish_reason="stop")])
    )
    assert outcome.reply is not None and outcome.reply.text == "good"


def test_complete_and_streamed_replies_compose_redactions_alike(
    make_guard: Callable[..., Guard],
) -> None:
    """D21: two checks whose matches overlap give the same text complete and streamed."""
    guard = make_guard(
        """
        output:
          - check: rules
            name: a
            rules: [{name: x, action: redact, replacement: "[A]", regex: 'abc\\d{3}'}]
          - check: rules
            name: b
            rules: [{name: y, action: redact, replacement: "[B]", regex: '\\d{3}xyz'}]
        """
    )
    text = "see abc123xyz here"
    complete = guard.check_output(text).text
    session = guard.stream(text_call("q"))
    streamed = "".join(session.feed("k", c) for c in text) + session.flush("k")
    assert complete == streamed == "see [A] here"


def test_decision_prints_its_action_and_carries_the_redacted_text(
    make_guard: Callable[..., Guard],
) -> None:
    decision = make_guard().check_input("my key is AKIAABCDEFGHIJKLMNOP")
    assert str(decision.action) == "redact" and f"{decision.action}" == "redact"
    assert decision.text == "my key is [AWS_ACCESS_KEY]"
