"""The schema check: drafts, repair, findings, request schemas, reask, hostile documents."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field

from guard import Action, Guard
from guard.checks._schema_validators import ValidatorCache
from guard.errors import PolicyError
from guard.formats import get as get_format
from guard.policy import Policy
from guard.types import Reply

ANSWER = {
    "type": "object",
    "required": ["answer", "score"],
    "properties": {"answer": {"type": "string"}, "score": {"type": "integer", "maximum": 10}},
}
SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"


def policy(entry: dict[str, Any], **extra: Any) -> Policy:
    return Policy.from_dict(
        {"stream": {"mode": "buffer"}, "output": [{"check": "schema", **entry}], **extra}
    )


@pytest.fixture
def schema_guard(registry: CollectorRegistry) -> Callable[..., Guard]:
    def build(entry: dict[str, Any] | None = None, **extra: Any) -> Guard:
        return Guard(policy(entry or {"schema": ANSWER}, **extra), registry=registry)

    return build


def kinds(decision: Any) -> list[tuple[str, str]]:
    return [(f.kind, f.rule) for f in decision.findings]


# -- documents and drafts ------------------------------------------------------------------


def test_valid_document_is_allowed_unchanged(schema_guard: Callable[..., Guard]) -> None:
    decision = schema_guard().check_output('{"answer": "yes", "score": 3}')
    assert decision.action is Action.ALLOW
    assert decision.text == '{"answer": "yes", "score": 3}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"score": 3}', [("schema.required", "")]),
        ('{"answer": 1, "score": 3}', [("schema.type", "/answer")]),
        ('{"answer": "a", "score": 11}', [("schema.maximum", "/score")]),
        ('{"answer": "a", "score": ', [("schema.json", "")]),  # truncated JSON: not completed
        ("no json here", [("schema.json", "")]),
    ],
)
def test_broken_documents_are_findings_with_pointers(
    schema_guard: Callable[..., Guard], text: str, expected: list[tuple[str, str]]
) -> None:
    decision = schema_guard().check_output(text)
    assert decision.action is Action.BLOCK
    assert kinds(decision) == expected


def test_additional_properties_false_and_strict(schema_guard: Callable[..., Guard]) -> None:
    closed = {**ANSWER, "additionalProperties": False}
    extra = '{"answer": "a", "score": 1, "other": 2}'
    assert kinds(schema_guard({"schema": closed}).check_output(extra)) == [
        ("schema.additionalProperties", "")
    ]
    # strict closes every object that leaves it unsaid, nested ones too.
    nested = {"type": "object", "properties": {"inner": {"type": "object", "properties": {}}}}
    strict = schema_guard({"schema": nested, "strict": True})
    assert kinds(strict.check_output('{"inner": {"x": 1}}')) == [
        ("schema.additionalProperties", "/inner")
    ]
    assert schema_guard({"schema": nested}).check_output('{"inner": {"x": 1}}').action is (
        Action.ALLOW
    )


def test_draft_2020_12_is_the_default_and_draft_7_is_honoured(
    schema_guard: Callable[..., Guard],
) -> None:
    tuple_2020 = {"type": "array", "prefixItems": [{"type": "integer"}], "items": False}
    guard_2020 = schema_guard({"schema": tuple_2020})
    assert guard_2020.check_output("[1]").action is Action.ALLOW
    assert kinds(guard_2020.check_output('["x"]')) == [("schema.type", "/0")]
    assert guard_2020.check_output("[1, 2]").action is Action.BLOCK
    tuple_7 = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": [{"type": "integer"}],
        "additionalItems": False,
    }
    guard_7 = schema_guard({"schema": tuple_7})
    assert guard_7.check_output("[1]").action is Action.ALLOW
    assert kinds(guard_7.check_output('["x"]')) == [("schema.type", "/0")]
    assert kinds(guard_7.check_output("[1, 2]"))[0][0] == "schema.additionalItems"


def test_formats_are_checked(schema_guard: Callable[..., Guard]) -> None:
    email = {"type": "object", "properties": {"to": {"type": "string", "format": "email"}}}
    guard = schema_guard({"schema": email})
    assert guard.check_output('{"to": "ada@example.com"}').action is Action.ALLOW
    assert kinds(guard.check_output('{"to": "not an address"}')) == [("schema.format", "/to")]


def test_messages_never_quote_the_document(schema_guard: Callable[..., Guard]) -> None:
    closed = {**ANSWER, "additionalProperties": False}
    guard = schema_guard({"schema": closed, "action": "reask"})
    text = json.dumps({"answer": 5, "score": SECRET, SECRET: 1})
    decision = guard.check_output(text)
    said = decision.message() + decision.feedback()
    assert SECRET not in said
    assert "/answer: expected string" in said
    assert "/score: expected integer" in said
    for finding in decision.findings:
        assert SECRET not in json.dumps(finding.as_record())


# -- repair --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"answer": "a", "score": 1}\n```',
        '```\n{"answer": "a", "score": 1}\n```',
        'Here it is:\n```json\n{"answer": "a", "score": 1}\n```\nAnything else?',
        'Sure! {"answer": "a", "score": 1} Hope this helps.',
        '{"answer": "a", "score": 1}\n\nI chose 1 because [reasons].',
    ],
)
def test_repair_gives_the_caller_the_bare_document(
    schema_guard: Callable[..., Guard], text: str
) -> None:
    decision = schema_guard().check_output(text)
    assert decision.action is Action.ALLOW
    assert decision.text == '{"answer": "a", "score": 1}'


def test_repair_steps_can_be_turned_off(schema_guard: Callable[..., Guard]) -> None:
    fenced = '```json\n{"answer": "a", "score": 1}\n```'
    assert kinds(schema_guard({"schema": ANSWER, "repair": []}).check_output(fenced)) == [
        ("schema.json", "")
    ]
    # Fences only: prose around a bare object is not taken apart.
    only_fences = schema_guard({"schema": ANSWER, "repair": ["strip_fences"]})
    assert only_fences.check_output(fenced).action is Action.ALLOW
    assert only_fences.check_output('ok {"answer": "a", "score": 1}').action is Action.BLOCK


def test_repaired_document_is_written_back_into_the_wire_reply(
    schema_guard: Callable[..., Guard],
) -> None:
    guard = schema_guard({"from_request": True})
    call = openai_call(response_format=json_schema_format(ANSWER))
    reply = openai_reply(call, 'Sure:\n```json\n{"answer": "a", "score": 1}\n```')
    decision = guard.after(call, reply)
    assert decision.action is Action.ALLOW
    body = json.loads(get_format("openai.chat").reply_body(reply))
    assert body["choices"][0]["message"]["content"] == '{"answer": "a", "score": 1}'


# -- policy loading --------------------------------------------------------------------------


def test_invalid_policy_schema_is_a_load_error_naming_file_line_and_field() -> None:
    text = "stream: {mode: buffer}\noutput:\n  - check: schema\n    schema: {type: nope}\n"
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(text, "policies/p.yaml")
    message = str(caught.value)
    assert "policies/p.yaml" in message and "line 4" in message
    assert "schema" in message and "not a valid JSON Schema" in message


def test_schema_file(tmp_path: Path, schema_guard: Callable[..., Guard]) -> None:
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(ANSWER))
    guard = schema_guard({"schema_file": str(path)})
    assert kinds(guard.check_output('{"answer": "a"}')) == [("schema.required", "")]
    with pytest.raises(PolicyError, match="not found"):
        policy({"schema_file": str(tmp_path / "missing.json")})
    (tmp_path / "bad.json").write_text('{"type": 3}')
    with pytest.raises(PolicyError, match="not a valid JSON Schema"):
        policy({"schema_file": str(tmp_path / "bad.json")})


def test_policy_without_buffering_is_refused() -> None:
    with pytest.raises(PolicyError, match="whole reply"):
        Guard(Policy.from_dict({"output": [{"check": "schema", "schema": ANSWER}]}))


# -- from the request -----------------------------------------------------------------------


def json_schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}


WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def openai_call(**fields: Any) -> Any:
    body = {"model": "m", "messages": [{"role": "user", "content": "q"}], **fields}
    return get_format("openai.chat").parse_request(json.dumps(body).encode())


def openai_reply(
    call: Any,
    text: str | None,
    tool_calls: list[tuple[str, str]] = (),  # type: ignore[assignment]
    finish: str = "stop",
) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = [
            {"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(tool_calls)
        ]
    body = {"id": "x", "choices": [{"index": 0, "message": message, "finish_reason": finish}]}
    return get_format("openai.chat").parse_reply(call, json.dumps(body).encode())


def test_openai_response_format_json_schema_and_json_object(
    schema_guard: Callable[..., Guard],
) -> None:
    guard = schema_guard({"from_request": True})
    call = openai_call(response_format=json_schema_format(ANSWER))
    assert guard.after(call, openai_reply(call, '{"answer": "a", "score": 1}')).action is (
        Action.ALLOW
    )
    assert kinds(guard.after(call, openai_reply(call, '{"answer": "a"}'))) == [
        ("schema.required", "")
    ]
    as_object = openai_call(response_format={"type": "json_object"})
    assert guard.after(as_object, openai_reply(as_object, '{"x": 1}')).action is Action.ALLOW
    assert kinds(guard.after(as_object, openai_reply(as_object, "[1]"))) == [("schema.type", "")]
    # No response format, no tools: nothing to validate.
    plain = openai_call()
    assert guard.after(plain, openai_reply(plain, "just prose")).action is Action.ALLOW


def test_tool_call_arguments_against_declared_parameters(
    schema_guard: Callable[..., Guard],
) -> None:
    guard = schema_guard({"from_request": True})
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
    call = openai_call(tools=tools)
    good = openai_reply(call, None, [("get_weather", '{"city": "Paris"}')], "tool_calls")
    assert guard.after(call, good).action is Action.ALLOW
    bad = openai_reply(call, None, [("get_weather", '{"city": 3}')], "tool_calls")
    decision = guard.after(call, bad)
    assert kinds(decision) == [("schema.type", "/city")]
    assert decision.findings[0].segment == 1  # the tool call's arguments segment
    assert "tool call 'get_weather' arguments /city: expected string" in decision.message()
    broken = openai_reply(call, None, [("get_weather", '{"city": ')], "tool_calls")
    assert kinds(guard.after(call, broken)) == [("schema.json", "")]
    unknown = openai_reply(call, None, [("delete_all", "{}")], "tool_calls")
    assert kinds(guard.after(call, unknown)) == [("schema.tool_unknown", "")]


def test_anthropic_tool_use_input_against_input_schema(
    schema_guard: Callable[..., Guard],
) -> None:
    guard = schema_guard({"from_request": True})
    fmt = get_format("anthropic.messages")
    body = {
        "model": "c",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "q"}],
        "tools": [{"name": "get_weather", "input_schema": WEATHER}],
    }
    call = fmt.parse_request(json.dumps(body).encode())

    def reply(tool_input: Any, name: str = "get_weather") -> Reply:
        raw = {
            "id": "m",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t", "name": name, "input": tool_input}],
            "stop_reason": "tool_use",
        }
        return fmt.parse_reply(call, json.dumps(raw).encode())

    assert guard.after(call, reply({"city": "Oslo"})).action is Action.ALLOW
    assert kinds(guard.after(call, reply({}))) == [("schema.required", "")]
    assert kinds(guard.after(call, reply({"city": "x"}, "other"))) == [("schema.tool_unknown", "")]


def test_invalid_request_schema_is_refused_before_the_upstream(
    schema_guard: Callable[..., Guard],
) -> None:
    guard = schema_guard({"from_request": True})
    call = openai_call(response_format=json_schema_format({"type": "nope"}))
    lifecycle = guard.open(call, frontend="check")
    assert lifecycle.start() is None
    assert lifecycle.refusal is not None
    assert lifecycle.refusal.status == 400
    assert lifecycle.refusal.code == "invalid_request_error"
    assert "request's schema is invalid" in lifecycle.refusal.message
    lifecycle.finish()


def test_request_schemas_are_compiled_once_in_a_bounded_cache() -> None:
    cache = ValidatorCache(size=2)
    first = cache.get(ANSWER, strict=False)
    assert cache.get(json.loads(json.dumps(ANSWER)), strict=False) is first
    assert cache.get(ANSWER, strict=True) is not first
    cache.get(WEATHER, strict=False)
    assert len(cache) == 2
    assert cache.get(ANSWER, strict=False) is not first  # evicted, compiled again


# -- actions, reask, truncation, metrics -----------------------------------------------------


def run(guard: Guard, call: Any, texts: list[str], finish: str = "stop") -> Any:
    sent: list[Any] = []

    def send(request: Any) -> Reply:
        sent.append(request)
        return openai_reply(request, texts[len(sent) - 1], finish=finish)

    return guard.run_sync(call, send), sent


def test_reask_returns_the_first_valid_reply(
    schema_guard: Callable[..., Guard], registry: CollectorRegistry
) -> None:
    guard = schema_guard({"from_request": True, "action": "reask"})
    call = openai_call(response_format=json_schema_format(ANSWER))
    outcome, sent = run(guard, call, ['{"answer": 1}', '{"answer": "a", "score": 2}'])
    assert outcome.blocked is None and outcome.attempts == 2
    assert outcome.reply.text == '{"answer": "a", "score": 2}'
    feedback = sent[1].raw["messages"][-1]["content"]
    assert "/answer: expected string" in feedback
    assert "missing required property 'score'" in feedback
    assert registry.get_sample_value("guardwire_reasks_total", {"format": "openai.chat"}) == 1
    assert (
        registry.get_sample_value(
            "guardwire_schema_failures_total", {"check": "schema", "kind": "schema.type"}
        )
        == 1
    )


def test_reask_out_of_attempts_blocks(schema_guard: Callable[..., Guard]) -> None:
    guard = schema_guard({"from_request": True, "action": "reask"})
    call = openai_call(response_format=json_schema_format(ANSWER))
    outcome, sent = run(guard, call, ['{"answer": 1}', '{"answer": 2}'])
    assert len(sent) == 2
    assert outcome.blocked is not None
    assert "/answer: expected string" in outcome.blocked.message()


def test_truncated_reply_is_its_own_kind_and_never_reasked(
    schema_guard: Callable[..., Guard],
) -> None:
    guard = schema_guard({"from_request": True, "action": "reask"})
    call = openai_call(response_format=json_schema_format(ANSWER))
    outcome, sent = run(guard, call, ['{"answer": "a", "sco', "unused"], finish="length")
    assert len(sent) == 1
    assert outcome.blocked is not None
    assert [f.kind for f in outcome.blocked.findings] == ["schema.truncated"]
    assert "max_tokens" in outcome.blocked.message()


def test_warn_only_records(schema_guard: Callable[..., Guard]) -> None:
    decision = schema_guard({"schema": ANSWER, "action": "warn"}).check_output("{}")
    assert decision.action is Action.WARN
    assert kinds(decision) == [("schema.required", ""), ("schema.required", "")]


# -- hostile documents -------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [10_000, 950])
def test_deeply_nested_document_is_a_clear_finding(
    schema_guard: Callable[..., Guard], depth: int
) -> None:
    guard = schema_guard({"schema": {"type": "object"}})
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth, "[" * depth):
        decision = guard.check_output(text)
        assert decision.action is Action.BLOCK
        assert kinds(decision) in ([("schema.json", "")], [("schema.type", "")])


def test_five_megabyte_documents_end_in_a_finding_quickly(
    schema_guard: Callable[..., Guard],
) -> None:
    items = {"type": "array", "items": {"type": "object", "required": ["n"]}}
    guard = schema_guard({"schema": items})
    valid = json.dumps([{"n": i, "pad": "x" * 40} for i in range(100_000)])
    assert len(valid) > 5_000_000
    started = time.perf_counter()
    assert guard.check_output(valid).action is Action.ALLOW
    invalid = json.dumps([{"m": i, "pad": "x" * 40} for i in range(100_000)])
    decision = guard.check_output(invalid)
    assert decision.action is Action.BLOCK
    assert kinds(decision) == [("schema.required", "/0")]  # the first: not 100,000 findings
    assert guard.check_output("Sure! " + "{" * 5_000_000).action is Action.BLOCK
    assert guard.check_output('"' + "x" * 5_000_000).action is Action.BLOCK
    # Generous: a few hundred milliseconds each on a loaded machine, never minutes.
    assert time.perf_counter() - started < 15
    small = schema_guard({"schema": items, "max_chars": 1000}, name="p2")
    assert kinds(small.check_output(valid)) == [("schema.too_large", "")]


# -- in-process: check_output(schema=...) ---------------------------------------------------------


class Answer(BaseModel):
    answer: str
    score: int = Field(le=10)


def test_check_output_with_a_dict_or_a_model(registry: CollectorRegistry) -> None:
    guard = Guard(Policy.from_dict({}), registry=registry)
    assert guard.check_output('{"answer": "a", "score": 1}', schema=ANSWER).action is (Action.ALLOW)
    assert sorted(kinds(guard.check_output('{"answer": 1}', schema=ANSWER))) == [
        ("schema.required", ""),
        ("schema.type", "/answer"),
    ]
    decision = guard.check_output('```json\n{"answer": "a", "score": 11}\n```', schema=Answer)
    assert kinds(decision) == [("schema.maximum", "/score")]
    fenced = guard.check_output('```json\n{"answer": "a", "score": 1}\n```', schema=Answer)
    assert fenced.action is Action.ALLOW and fenced.text == '{"answer": "a", "score": 1}'
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        guard.check_output("{}", schema={"type": "nope"})
    with pytest.raises(TypeError, match="pydantic model class"):
        guard.check_output("{}", schema="answer")  # type: ignore[arg-type]


# -- in-process: wrap(output=Model) -------------------------------------------------------------


def test_wrap_returns_a_validated_model_and_reasks(registry: CollectorRegistry) -> None:
    import guard as guardwire

    engine = Guard(Policy.from_dict({}), registry=registry)
    prompts: list[str] = []
    replies = iter(
        ['{"answer": "a", "score": 99}', 'Here: ```json\n{"answer": "a", "score": 2}\n```']
    )

    @guardwire.wrap(guard=engine, output=Answer)
    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(replies)

    result = ask("rate it")
    assert result == Answer(answer="a", score=2)
    assert len(prompts) == 2
    assert "/score" in prompts[1]  # the feedback names the failing pointer


async def test_async_wrap_with_a_dict_schema_blocks_when_out_of_attempts(
    registry: CollectorRegistry,
) -> None:
    import guard as guardwire
    from guard.errors import GuardBlocked

    engine = Guard(Policy.from_dict({"max_reasks": 1}), registry=registry)

    @guardwire.wrap(guard=engine, output=ANSWER)
    async def ask(prompt: str) -> str:
        return '{"answer": 1}'

    with pytest.raises(GuardBlocked, match="/answer: expected string"):
        await ask("q")

    @guardwire.wrap(guard=engine, output=ANSWER)
    async def good(prompt: str) -> str:
        return '{"answer": "a", "score": 1}'

    assert await good("q") == {"answer": "a", "score": 1}


def test_wrap_output_refuses_generators_and_bad_schemas() -> None:
    import guard as guardwire

    with pytest.raises(TypeError, match="not a generator"):

        @guardwire.wrap(guard=Guard(Policy.from_dict({})), output=Answer)
        def stream(prompt: str) -> Any:
            yield "x"

    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        guardwire.wrap(guard=Guard(Policy.from_dict({})), output={"type": "nope"})(lambda p: p)


def test_responses_api_text_format_and_function_tools(schema_guard: Callable[..., Guard]) -> None:
    guard = schema_guard({"from_request": True})
    fmt = get_format("openai.responses")
    body = {
        "model": "m",
        "input": "q",
        "text": {"format": {"type": "json_schema", "name": "a", "schema": ANSWER}},
        "tools": [
            {"type": "function", "name": "get_weather", "parameters": WEATHER},
            {"type": "custom", "name": "free_text"},
        ],
    }
    call = fmt.parse_request(json.dumps(body).encode())

    def reply(output: list[dict[str, Any]]) -> Reply:
        raw = {"id": "r", "object": "response", "status": "completed", "output": output}
        return fmt.parse_reply(call, json.dumps(raw).encode())

    def message(text: str) -> dict[str, Any]:
        content = [{"type": "output_text", "text": text, "annotations": []}]
        return {"type": "message", "role": "assistant", "content": content}

    assert guard.after(call, reply([message('{"answer": "a", "score": 1}')])).action is (
        Action.ALLOW
    )
    assert kinds(guard.after(call, reply([message('{"answer": "a"}')]))) == [
        ("schema.required", "")
    ]
    tool = {"type": "function_call", "call_id": "c", "name": "get_weather", "arguments": "{}"}
    assert kinds(guard.after(call, reply([tool]))) == [("schema.required", "")]
    # A custom tool takes free text: declared, no parameters, nothing to validate.
    custom = {"type": "custom_tool_call", "call_id": "c", "name": "free_text", "input": "hi"}
    assert guard.after(call, reply([custom])).action is Action.ALLOW


def test_anthropic_output_config_json_schema(schema_guard: Callable[..., Guard]) -> None:
    guard = schema_guard({"from_request": True})
    fmt = get_format("anthropic.messages")
    body = {
        "model": "c",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "q"}],
        "output_config": {"format": {"type": "json_schema", "schema": ANSWER}},
    }
    call = fmt.parse_request(json.dumps(body).encode())

    def reply(text: str, stop: str = "end_turn") -> Reply:
        raw = {
            "id": "m",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop,
        }
        return fmt.parse_reply(call, json.dumps(raw).encode())

    assert guard.after(call, reply('{"answer": "a", "score": 1}')).action is Action.ALLOW
    assert kinds(guard.after(call, reply('{"answer": 2, "score": 1}'))) == [
        ("schema.type", "/answer")
    ]
    assert kinds(guard.after(call, reply('{"answer": "a", "sc', "max_tokens"))) == [
        ("schema.truncated", "")
    ]


def test_problems_are_capped_per_document(schema_guard: Callable[..., Guard]) -> None:
    guard = schema_guard({"schema": {"type": "array", "items": {"type": "integer"}}})
    decision = guard.check_output(json.dumps(["x"] * 500))
    assert len(decision.findings) == 20
    assert decision.findings[0].rule == "/0"
    assert "15 more" in decision.message()


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": -Infinity}', '{"a": "\\ud800"}'])
def test_documents_python_reads_but_json_does_not_are_findings(
    schema_guard: Callable[..., Guard], text: str
) -> None:
    wanted = {"type": "object", "properties": {"a": {"type": "number"}}}
    guard = schema_guard({"schema": wanted})
    assert kinds(guard.check_output(text)) == [("schema.json", "")]


def test_pointers_are_cut_short(schema_guard: Callable[..., Guard]) -> None:
    key = "k" * 500  # a name the schema declares (an undeclared key shows as "*")
    wanted = {"type": "object", "properties": {key: {"type": "integer"}}}
    decision = schema_guard({"schema": wanted}).check_output(json.dumps({key: "x"}))
    (finding,) = decision.findings
    assert finding.kind == "schema.type"
    assert len(finding.rule) == 120 and finding.rule.endswith("...")
    assert key not in decision.message()


def test_a_schema_check_without_a_schema_is_a_load_error() -> None:
    with pytest.raises(PolicyError, match="needs 'schema', 'schema_file' or 'from_request"):
        policy({"action": "block"})
