"""The grounding check: policy keys, findings, messages, sources of passages, judge."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence

import pytest
from prometheus_client import CollectorRegistry

from guard import Action, Guard
from guard.checks.base import CheckContext
from guard.checks.grounding import GroundingCheck, GroundingConfig
from guard.errors import PolicyError
from guard.grounding import register_judge, unregister_judge
from guard.types import Call, Choice, Passage, Reply, Segment, Stage, Verdict

PASSAGES = [
    Passage(
        "doc-1",
        "Acme Corp reported revenue of $4.2 million in 2023. The company employs 120 people.",
    ),
    Passage("doc-2", "Acme Corp was founded in Oslo in 1998 by Kari Nordmann."),
]
GROUNDED = "Acme Corp reported revenue of $4.2 million in 2023 [doc-1]."
INVENTED = "Acme Corp was founded in Oslo in 1998. It reported revenue of $9.7 million in 2023."


def policy(**keys: object) -> str:
    lines = "\n".join(f"    {k}: {v}" for k, v in keys.items())
    return f"name: t\nstream: {{mode: buffer}}\noutput:\n  - check: grounding\n{lines}\n"


@pytest.fixture
def guard(make_guard: Callable[..., Guard]) -> Guard:
    return make_guard(policy(action="block"))


def test_grounded_answer_is_allowed(guard: Guard) -> None:
    decision = guard.check_output(GROUNDED, context=PASSAGES)
    assert decision.action is Action.ALLOW


def test_invented_figure_blocks_naming_the_claim_by_position(guard: Guard) -> None:
    decision = guard.check_output(INVENTED, context=PASSAGES)
    assert decision.action is Action.BLOCK
    [finding] = [f for v in decision.verdicts for f in v.findings]
    assert finding.kind == "grounding.unsupported" and finding.rule == "number_mismatch"
    assert INVENTED[finding.start : finding.end].startswith("It reported revenue")
    message = decision.message()
    assert "claim 2" in message and "a figure that is not in the passages" in message
    for secret in ("9.7", "revenue", "Acme", "Oslo"):
        assert secret not in message


def test_no_passages_means_nothing_to_check(guard: Guard) -> None:
    assert guard.check_output(INVENTED).action is Action.ALLOW


@pytest.mark.parametrize(
    ("action", "expected"),
    [("warn", Action.WARN), ("annotate", Action.WARN), ("reask", Action.REASK)],
)
def test_actions(make_guard: Callable[..., Guard], action: str, expected: Action) -> None:
    decision = make_guard(policy(action=action)).check_output(INVENTED, context=PASSAGES)
    assert decision.action is expected


def test_reask_feedback_names_positions_and_reasons_only(make_guard: Callable[..., Guard]) -> None:
    decision = make_guard(policy(action="reask")).check_output(INVENTED, context=PASSAGES)
    feedback = decision.feedback()
    assert "claim 2" in feedback and "only facts stated in the passages" in feedback
    assert "9.7" not in feedback


def test_wrong_and_unknown_citations(guard: Guard) -> None:
    answer = "Acme Corp was founded in Oslo in 1998 [doc-1]. The company employs 120 people [9]."
    decision = guard.check_output(answer, context=PASSAGES)
    found = sorted((f.kind, f.rule) for v in decision.verdicts for f in v.findings)
    assert found == [
        ("grounding.citation_wrong", "not_supporting"),
        ("grounding.citation_wrong", "unknown_passage"),
    ]
    assert "[9]" not in decision.message()


def test_require_citations(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(policy(require_citations="true"))
    decision = guard.check_output("Acme Corp was founded in Oslo in 1998.", context=PASSAGES)
    [finding] = [f for v in decision.verdicts for f in v.findings]
    assert finding.kind == "grounding.citation_missing"
    assert guard.check_output(GROUNDED, context=PASSAGES).action is Action.ALLOW


def test_threshold_and_min_answer_score_are_policy_keys(make_guard: Callable[..., Guard]) -> None:
    lenient = make_guard(policy(threshold=0.0, min_answer_score=0.0))
    assert lenient.check_output(INVENTED, context=PASSAGES).action is Action.ALLOW
    strict = make_guard(policy(threshold=0.0, min_answer_score=0.99))
    decision = strict.check_output(INVENTED, context=PASSAGES)
    assert [f.rule for v in decision.verdicts for f in v.findings] == ["answer_score"]


def _call(segments: list[Segment], context: list[Passage] | None = None) -> Call:
    return Call(format="text", segments=segments, context=context or [])


def _run(check: GroundingCheck, call: Call, text: str) -> Action:
    reply = Reply(format="text", choices=[Choice(0, text)])
    ctx = CheckContext(Stage.OUTPUT, "t", reply.segments())
    verdict = check.output(call, reply, ctx)
    if not isinstance(verdict, Verdict):
        verdict = asyncio.run(_settle(verdict))
    return verdict.action


async def _settle(pending: Awaitable[Verdict]) -> Verdict:
    return await pending


def test_passages_from_tool_results_and_tagged_documents() -> None:
    tagged = "Answer from these. " + "".join(
        f'<document id="{p.id}">{p.text}</document>' for p in PASSAGES
    )
    check = GroundingCheck(GroundingConfig(check="grounding"))
    by_tag = _call([Segment(tagged, role="user")])
    assert [p.id for p in check.passages(by_tag)] == ["doc-1", "doc-2"]
    assert _run(check, by_tag, GROUNDED) is Action.ALLOW
    assert _run(check, by_tag, INVENTED) is Action.BLOCK
    by_tool = _call([Segment(PASSAGES[0].text, role="tool", kind="tool_result")])
    assert _run(check, by_tool, GROUNDED) is Action.ALLOW
    only_extension = GroundingCheck(GroundingConfig(check="grounding", context_from=["extension"]))
    assert only_extension.passages(by_tool) == [] and only_extension.passages(by_tag) == []


def test_bad_tag_pattern_is_a_policy_error(make_guard: Callable[..., Guard]) -> None:
    with pytest.raises(PolicyError, match="tag_pattern"):
        make_guard(policy(tag_pattern="'(?P<text>a)(?=b)'"))
    with pytest.raises(PolicyError, match="named group 'text'"):
        make_guard(policy(tag_pattern="'<doc>.*</doc>'"))


class FixedJudge:
    def __init__(self, value: float) -> None:
        self.value, self.seen = value, 0

    def score(self, claim: str, passages: Sequence[Passage]) -> float:
        self.seen += 1
        return self.value


class AsyncJudge(FixedJudge):
    async def score(self, claim: str, passages: Sequence[Passage]) -> float:  # type: ignore[override]
        self.seen += 1
        return self.value


@pytest.fixture
def judges() -> Iterator[None]:
    yield
    for name in ("fixed", "async"):
        unregister_judge(name)


@pytest.mark.usefixtures("judges")
def test_judge_sees_only_unsure_claims_and_decides_them() -> None:
    judge = FixedJudge(1.0)
    register_judge("fixed", judge)
    check = GroundingCheck(GroundingConfig(check="grounding", judge="fixed", judge_band=0.15))
    call = _call([], PASSAGES)
    # Fully supported: sure, never sent to the judge.
    assert _run(check, call, GROUNDED) is Action.ALLOW and judge.seen == 0
    # "120 staff": partly lexical support, near the threshold -> judged.
    assert _run(check, call, "Acme Corp has 120 staff.") is Action.ALLOW
    assert judge.seen == 1


@pytest.mark.usefixtures("judges")
def test_async_judge_is_awaited() -> None:
    register_judge("async", AsyncJudge(0.0))
    check = GroundingCheck(GroundingConfig(check="grounding", judge="async", judge_band=1.0))
    assert _run(check, _call([], PASSAGES), GROUNDED) is Action.BLOCK


def test_unknown_judge_is_a_policy_error(make_guard: Callable[..., Guard]) -> None:
    with pytest.raises((PolicyError, ValueError), match="judge 'nli' is not registered"):
        make_guard(policy(judge="nli"))


def test_metrics_answer_score_and_unsupported_claims(
    make_guard: Callable[..., Guard], registry: CollectorRegistry
) -> None:
    guard = make_guard(policy(action="warn"))
    guard.check_output(INVENTED, context=PASSAGES)
    guard.check_output(GROUNDED, context=PASSAGES)
    count = registry.get_sample_value(
        "guardwire_grounding_answer_score_count", {"check": "grounding"}
    )
    assert count == 2
    unsupported = registry.get_sample_value(
        "guardwire_grounding_unsupported_claims_total",
        {"check": "grounding", "reason": "number_mismatch"},
    )
    assert unsupported == 1


def test_annotate_adds_scores_to_the_json_body() -> None:
    check = GroundingCheck(GroundingConfig(check="grounding", action="annotate"))
    reply = Reply(format="openai", choices=[Choice(0, INVENTED)], raw={"id": "x"}, body=b"{}")
    ctx = CheckContext(Stage.OUTPUT, "t", reply.segments())
    verdict = check.output(_call([], PASSAGES), reply, ctx)
    assert isinstance(verdict, Verdict) and verdict.action is Action.WARN
    assert isinstance(reply.raw, dict)
    annotation = reply.raw["guardwire"]["grounding"]
    assert annotation["score"] < 0.6 and len(annotation["claims"]) == 2
    assert reply.body == b""
    assert ctx.response_headers["x-guardwire-grounding"] == f"{annotation['score']:.3f}"


def _progressive(whole_reply: str, action: str) -> str:
    return (
        f"name: t\nstream: {{mode: progressive, whole_reply: {whole_reply}}}\n"
        f"output:\n  - check: grounding\n    action: {action}\n"
    )


def test_progressive_streams_run_grounding_at_the_end_when_the_policy_says_so(
    make_guard: Callable[..., Guard],
) -> None:
    # Refused unless the policy says what a progressive stream does with a late block.
    with pytest.raises(PolicyError, match="whole_reply: end"):
        make_guard(_progressive("reject", "block"))
    guard = make_guard(_progressive("end", "block"))
    assert not guard.stream_buffered  # text is released as it arrives
    # A reask cannot replace text already sent: refused at load, naming the fix.
    with pytest.raises(PolicyError, match="cannot replace text"):
        make_guard(_progressive("end", "reask"))
    make_guard(_progressive("end", "warn"))
