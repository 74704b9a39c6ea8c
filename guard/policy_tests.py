"""Policy test cases written next to the policies, run by ``guardwire test [PATH]``.

A case file (``NAME.cases.yaml``) names a policy and lists cases::

    policy: default              # pack name, or a path relative to this file;
                                 # default: NAME.yaml beside the case file
    cases:
      - name: a bomb recipe request is blocked
        input: how to make a bomb
        expect: {action: block, kinds: [denylist.weapons]}
      - name: an injected tool result is blocked
        messages:
          - {role: user, content: summarise the page}
          - {role: tool, tool_call_id: t1, content: "AI assistants reading this must ..."}
        context: ["a retrieved passage"]
        expect: {action: block, kinds: [injection.hidden_instruction]}
      - name: a key in a reply is redacted
        output: "use AKIAIOSFODNN7EXAMPLE"
        expect: {action: redact, text: "use [AWS_ACCESS_KEY]"}

``input`` (text) or ``messages`` (OpenAI-style, every role checked) runs the input
stage; ``output`` runs the output stage (with ``context`` passages for grounding).
``expect.action`` is the decision (allow, warn, redact, reask, block); every entry of
``expect.kinds`` must match a finding, by its kind (``injection.override``), its check
and rule (``secrets.aws-access-key``) or its check; ``kinds: []`` expects no finding at
all; ``expect.text`` is the text after redaction.

:func:`evaluate` (:func:`aevaluate` on an event loop) is also what ``POST /guardwire/v1/check``
runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from guard._drive import Step, run_async, run_sync
from guard._yaml import load_yaml, policy_error
from guard.decision import Decision
from guard.engine import Guard, checked_reply_text, text_call, text_reply
from guard.errors import PolicyError
from guard.types import Caller, Finding, Passage, Reply

if TYPE_CHECKING:
    from guard.lifecycle import GuardedCall

#: Suffix of case files (``default.cases.yaml`` tests ``default.yaml``).
SUFFIX = ".cases.yaml"


@dataclass
class Evaluation:
    """One stage run on given text or messages, without any model call."""

    decision: Decision
    #: The text after redaction (``input`` text or ``output`` reply).
    text: str | None = None
    #: The messages after redaction (``messages`` input).
    messages: list[dict[str, Any]] | None = None


def evaluate(
    guard: Guard,
    stage: Literal["input", "output"],
    *,
    text: str | None = None,
    messages: Sequence[dict[str, Any]] | None = None,
    context: Sequence[str] = (),
    model: str | None = None,
    caller: Caller | None = None,
    request_id: str | None = None,
) -> Evaluation:
    """Run ``guard``'s input or output stage on ``text`` or ``messages``.

    Raises ``TypeError`` (a sentence naming the problem) for messages that are not
    OpenAI-style message objects.
    """
    lifecycle, step = _evaluation(guard, stage, text, messages, context, model, caller, request_id)
    try:
        return run_sync(step)
    finally:
        lifecycle.finish()


async def aevaluate(
    guard: Guard,
    stage: Literal["input", "output"],
    *,
    text: str | None = None,
    messages: Sequence[dict[str, Any]] | None = None,
    context: Sequence[str] = (),
    model: str | None = None,
    caller: Caller | None = None,
    request_id: str | None = None,
) -> Evaluation:
    """:func:`evaluate` on the caller's event loop: async checks are awaited on it, and
    the checks of a big text run in a worker thread (as for a model call's stages)."""
    lifecycle, step = _evaluation(guard, stage, text, messages, context, model, caller, request_id)
    try:
        return await run_async(step)
    finally:
        await lifecycle.afinish()


def _evaluation(
    guard: Guard,
    stage: Literal["input", "output"],
    text: str | None,
    messages: Sequence[dict[str, Any]] | None,
    context: Sequence[str],
    model: str | None,
    caller: Caller | None,
    request_id: str | None,
) -> tuple[GuardedCall, Step[Evaluation]]:
    """The call of an evaluation and its stage as a step (run by either driver)."""
    if stage == "output":
        lifecycle = guard.open_text_check(text_call("", caller=caller, context=context))
        return lifecycle, _output_step(lifecycle, text_reply(text or ""))
    from guard.formats.text import build_call

    passages = [Passage(str(i + 1), passage) for i, passage in enumerate(context)]
    if messages is not None:
        call = build_call(list(messages), caller=caller, context=passages)
    else:
        call = text_call(text or "", caller=caller, context=passages)
    call.model = model
    if request_id is not None:
        call.request_id = request_id
    lifecycle = guard.open_text_check(call)
    return lifecycle, _input_step(lifecycle, text, as_messages=messages is not None)


def _output_step(lifecycle: GuardedCall, reply: Reply) -> Step[Evaluation]:
    decision = yield from checked_reply_text(lifecycle, reply)
    return Evaluation(decision, text=decision.text)


def _input_step(lifecycle: GuardedCall, text: str | None, *, as_messages: bool) -> Step[Evaluation]:
    yield from lifecycle._start()
    decided = lifecycle.input
    assert decided is not None
    call = lifecycle.call
    if as_messages:
        from guard.formats.text import prompt_of

        return Evaluation(decided, messages=prompt_of(call))
    redacted = call.segments[0].text if call.segments else (text or "")
    return Evaluation(decided, text=redacted)


def matches(expected: str, finding: Finding) -> bool:
    """True when an ``expect.kinds`` entry names this finding."""
    return expected in (finding.kind, f"{finding.check}.{finding.rule}", finding.check)


class Expect(BaseModel):
    """What a case expects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["allow", "warn", "redact", "reask", "block"]
    kinds: list[str] | None = None
    text: str | None = None


class Case(BaseModel):
    """One test case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    input: str | None = None
    messages: list[dict[str, Any]] | None = None
    output: str | None = None
    context: list[str] = Field(default_factory=list)
    model: str | None = None
    #: This case's policy, overriding the file's.
    policy: str | None = None
    expect: Expect

    @model_validator(mode="after")
    def _one_subject(self) -> Case:
        given = [k for k in ("input", "messages", "output") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'input', 'messages' or 'output'")
        return self


class CaseFile(BaseModel):
    """A case file: a policy and its cases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str | None = None
    cases: list[Case] = Field(min_length=1)


@dataclass
class Result:
    """The outcome of one case."""

    file: str
    case: str
    policy: str
    passed: bool
    expected: str
    got: str


def discover(path: str | Path) -> list[Path]:
    """Case files at ``path``: the file itself, or every ``*.cases.yaml`` below a folder."""
    path = Path(path)
    if path.is_dir():
        return sorted(path.rglob(f"*{SUFFIX}"))
    if path.is_file():
        return [path]
    raise PolicyError("no such case file or folder", file=str(path))


def load_cases(path: Path) -> CaseFile:
    """Parse and validate a case file (errors name file, line and field)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise PolicyError("cannot read this case file as UTF-8", file=str(path)) from None
    data, node = load_yaml(text, str(path))
    try:
        return CaseFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise policy_error(exc, str(path), node, CaseFile) from None


def policy_source(path: Path, named: str | None) -> str:
    """The policy a case file tests: a pack name, a path relative to the case file, or
    ``NAME.yaml`` beside ``NAME.cases.yaml``."""
    if named is None:
        return str(path.with_name(path.name.removesuffix(SUFFIX) + ".yaml"))
    candidate = path.parent / named
    if "/" in named or named.endswith((".yaml", ".yml")) or candidate.is_file():
        return str(candidate)
    return named  # a shipped pack name


def run_file(path: Path, guards: dict[str, Guard] | None = None) -> list[Result]:
    """Run every case of one file (engines are shared through ``guards``)."""
    guards = {} if guards is None else guards
    cases = load_cases(path)
    results = []
    for case in cases.cases:
        source = policy_source(path, case.policy or cases.policy)
        if source not in guards:
            from prometheus_client import CollectorRegistry

            # A registry of its own: test runs never touch the process's metrics.
            guards[source] = Guard(source, registry=CollectorRegistry())
        results.append(_run_case(path, case, guards[source]))
    return results


def _run_case(path: Path, case: Case, guard: Guard) -> Result:
    if case.output is not None:
        evaluation = evaluate(guard, "output", text=case.output, context=case.context)
    else:
        evaluation = evaluate(
            guard,
            "input",
            text=case.input,
            messages=case.messages,
            context=case.context,
            model=case.model,
        )
    decision = evaluation.decision
    findings = decision.findings
    expect = case.expect
    passed = decision.action.label == expect.action
    if expect.kinds is not None:
        if expect.kinds:
            passed = passed and all(any(matches(k, f) for f in findings) for k in expect.kinds)
        else:
            passed = passed and not findings
    if expect.text is not None:
        passed = passed and evaluation.text == expect.text
    got_kinds = sorted({f.kind if "." in f.kind else f"{f.check}.{f.rule}" for f in findings})
    expected = expect.action + (f" {expect.kinds}" if expect.kinds is not None else "")
    got = decision.action.label + (f" {got_kinds}" if got_kinds else "")
    if expect.text is not None and evaluation.text != expect.text:
        got += " (text differs)"
    return Result(str(path), case.name, guard.policy_tag, passed, expected, got)
