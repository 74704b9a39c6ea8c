"""The ``schema`` check: a reply a program parses is valid JSON of the right shape.

Policy entry (these names are the interface)::

    output:
      - check: schema
        action: reask             # block | warn | reask (reask: block when out of attempts)
        from_request: true        # the request's response_format and declared tools
        schema: {type: object, required: [answer]}   # or schema_file: schemas/answer.json
        repair: [strip_fences, extract_json]          # default: both
        strict: false             # true: additionalProperties false wherever unsaid

What is validated: each choice's text against the policy ``schema`` and, with
``from_request``, against the request's ``response_format`` (``json_schema``: its schema;
``json_object``: any JSON object); with ``from_request`` every tool call's arguments
against its declared tool's parameters (OpenAI ``tools``, Anthropic ``input_schema``) —
a call of an undeclared tool is ``schema.tool_unknown``.

Streams: a check with a schema of its own (``schema``, ``schema_file``, a model) needs
the whole reply (``stream: buffer``). With only ``from_request``, a request with a
``response_format`` has its stream buffered (the reply is one JSON document); otherwise
the stream stays progressive and each tool call is validated as soon as its arguments
are complete (``tool_call``): a failing one ends the stream with the API's error event
before any of it is sent (a reask is not possible once a stream started: it blocks).

Findings are ``schema.<validator keyword>`` (``schema.required``, ``schema.type``...;
a pydantic model's errors are named by the same keywords), ``schema.json`` (not one
JSON document), ``schema.truncated`` (cut by the length limit: never reasked, the same
budget would cut it again), ``schema.tool_unknown``; the rule is the JSON Pointer of the
failing place (a key the schema does not name shows as ``*``: it is the document's own
text). Messages carry the pointer and a short message built from the schema, never the
document's values. A repaired document (fences stripped, JSON taken out of prose) is
what the caller receives.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from guard.checks._schema_config import SchemaConfig, read_schema_file
from guard.checks._schema_repair import DocumentError, parse_document
from guard.checks._schema_request import REQUEST_SCHEMAS, request_targets
from guard.checks._schema_validators import (
    JsonSchemaValidator,
    Problem,
    PydanticValidator,
    SchemaInvalid,
    Validator,
)
from guard.checks._tool_hooks import reply_of
from guard.checks.base import Capabilities, CheckContext, CompleteToolCall
from guard.types import Action, Call, Edit, Finding, Reply, Verdict

_TRUNCATED = ("length", "max_tokens")
#: Problems named in a refusal's reason (the feedback of a reask lists up to 20).
_REASON_PROBLEMS = 5
#: Documents up to this size get every problem listed (at most 20); longer ones the first
#: (listing all costs time in proportion to the number of errors).
_EVERY_PROBLEM_CHARS = 262_144


class SchemaCheck:
    """Validates replies and tool-call arguments against JSON Schemas (see the module)."""

    def __init__(self, config: SchemaConfig, *, model: type[BaseModel] | None = None) -> None:
        self.name = config.name or "schema"
        self.shadow = config.mode == "shadow"
        self.config = config
        self.action = Action.parse(config.action)
        self.validators: list[Validator] = []
        if config.json_schema is not None:
            self.validators.append(JsonSchemaValidator(config.json_schema, strict=config.strict))
        if config.schema_file is not None:
            schema = read_schema_file(config.schema_file)
            self.validators.append(JsonSchemaValidator(schema, strict=config.strict))
        if model is not None:
            self.validators.append(PydanticValidator(model))
        self._failures: Any = None
        self._failure_children: dict[str, Any] = {}

    @property
    def capabilities(self) -> Capabilities:
        """Whole-reply with a schema of its own; else tool calls only (see the module)."""
        return Capabilities(
            whole_reply=bool(self.validators) or not self.config.from_request,
            may_reask=True,
            tool_calls=self.config.from_request,
        )

    def needs_whole_reply(self, call: Call) -> bool:
        """True when the request asks for a JSON reply (``response_format``): its
        stream is buffered so the document is validated before any of it leaves."""
        wanted = call.response_format or {}
        return self.config.from_request and wanted.get("type") in ("json_schema", "json_object")

    def tool_call(self, call: Call, tool_call: CompleteToolCall, ctx: CheckContext) -> Verdict:
        """One complete tool call of a progressive stream against its declared tool."""
        verdict = self.output(call, reply_of(tool_call, call.format), ctx)
        verdict.edits = ()  # a repair cannot rewrite arguments already composed
        return verdict

    def bind_telemetry(self, telemetry: Any) -> None:
        """Count failures by finding kind in ``telemetry`` (called by the engine)."""
        self._failures = telemetry.schema_failures

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        """Nothing to check before the reply (request schemas: :meth:`check_request`)."""
        return Verdict(self.name, Action.ALLOW, shadow=self.shadow)

    def check_request(self, call: Call) -> Verdict | None:
        """A 400 refusal when the request's own schemas cannot be compiled, else ``None``."""
        if not self.config.from_request:
            return None
        try:
            request_targets(call, self.config)
        except SchemaInvalid as exc:
            return self._invalid_request(exc)
        return None

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
        """Validate every choice's text and, with ``from_request``, every tool call."""
        try:
            message_validators, tools = request_targets(call, self.config)
        except SchemaInvalid as exc:
            return self._invalid_request(exc)
        message_validators = [*self.validators, *message_validators]
        findings: list[Finding] = []
        lines: list[str] = []
        edits: list[Edit] = []
        segment = 0
        for choice in reply.choices:
            if message_validators and (choice.text or not choice.tool_calls):
                self._document(segment, choice.text, message_validators, "", findings, lines, edits)
            segment += 1
            for tool_call in choice.tool_calls:
                if self.config.from_request:
                    label = f"tool call '{tool_call.name}' arguments "
                    if tool_call.name not in tools:
                        findings.append(self._finding("tool_unknown", segment, "", 0))
                        # The name is the model's text, not a declared one: not quoted.
                        lines.append("a tool call names a tool that was not declared")
                    elif (validator := tools[tool_call.name]) is not None:
                        # A tool declared without parameters (a custom, free-text tool)
                        # takes any input: nothing to validate.
                        self._document(
                            segment, tool_call.arguments, [validator], label, findings, lines, edits
                        )
                segment += 1
        if not findings:
            return Verdict(self.name, Action.ALLOW, edits=tuple(edits), shadow=self.shadow)
        if any(c.finish_reason in _TRUNCATED for c in reply.choices):
            # Cut by the length limit: asking again with the same budget cuts it again.
            findings = [self._finding("truncated", -1, "", 0)]
            lines = ["the reply was cut off by its length limit (raise max_tokens)"]
        self._count(findings)
        action = (
            Action.BLOCK
            if findings[0].kind == "schema.truncated" and (self.action is Action.REASK)
            else self.action
        )
        findings = [_with_action(f, action) for f in findings]
        reason = (
            f"check '{self.name}': the reply does not match its schema ("
            + "; ".join(lines[:_REASON_PROBLEMS])
            + (f"; {len(lines) - _REASON_PROBLEMS} more" if len(lines) > _REASON_PROBLEMS else "")
        )
        reason += ")"
        feedback = (
            "Your previous reply did not match the required JSON schema:\n"
            + "\n".join(f"- {line}" for line in lines)
            + "\nReply again with only the corrected JSON, no other text."
        )
        return Verdict(
            self.name,
            action,
            tuple(findings),
            edits=tuple(edits),
            reason=reason,
            feedback=feedback if action is Action.REASK else "",
            shadow=self.shadow,
        )

    # -- helpers ---------------------------------------------------------------------------

    def _document(
        self,
        segment: int,
        text: str,
        validators: list[Validator],
        label: str,
        findings: list[Finding],
        lines: list[str],
        edits: list[Edit],
    ) -> None:
        """Parse (and repair) one document and validate it; append what is wrong."""
        try:
            document = parse_document(text, self.config.repair, self.config.max_chars)
        except DocumentError as exc:
            findings.append(self._finding(exc.kind, segment, "", len(text)))
            lines.append(f"{label}{exc.message}".strip())
            return
        if document.repaired:
            edits.append(Edit(segment, 0, len(text), document.text))
        problems: list[Problem] = []
        every = len(text) <= _EVERY_PROBLEM_CHARS
        try:
            for validator in validators:
                problems.extend(validator.problems(document.value, every=every))
        except (UnicodeError, ValueError, OverflowError, RecursionError):
            # JSON Python reads but the validator cannot (an unpaired surrogate escape).
            findings.append(self._finding("json", segment, "", len(text)))
            lines.append(f"{label}the document holds text that is not valid Unicode".strip())
            return
        for problem in problems:
            findings.append(self._finding(problem.keyword, segment, problem.pointer, len(text)))
            lines.append(f"{label}{problem.pointer or '(root)'}: {problem.message}")

    def _finding(self, kind: str, segment: int, rule: str, end: int) -> Finding:
        return Finding(self.name, f"schema.{kind}", segment, 0, end, action=self.action, rule=rule)

    def _invalid_request(self, exc: SchemaInvalid) -> Verdict:
        finding = Finding(self.name, "schema.invalid_schema", action=Action.BLOCK)
        return Verdict(
            self.name,
            Action.BLOCK,
            (finding,),
            reason=f"check '{self.name}': the request's schema is invalid ({exc})",
            status=400,
            code="invalid_request_error",
            shadow=self.shadow,
        )

    def _count(self, findings: list[Finding]) -> None:
        if self._failures is None:
            return
        for finding in findings:
            child = self._failure_children.get(finding.kind)
            if child is None:
                child = self._failure_children[finding.kind] = self._failures.labels(
                    self.name, finding.kind
                )
            child.inc()


def _with_action(finding: Finding, action: Action) -> Finding:
    if finding.action is action:
        return finding
    return Finding(
        finding.check, finding.kind, finding.segment, finding.start, finding.end,
        finding.score, action, finding.rule,
    )  # fmt: skip


def schema_check(
    schema: dict[str, Any] | type[BaseModel],
    *,
    action: Literal["block", "warn", "reask"] = "block",
    telemetry: Any = None,
) -> SchemaCheck:
    """A schema check for one in-process call: a JSON Schema (compiled once, cached by
    content) or a pydantic model class (its own validators run too)."""
    # No schema in the config: the one given here is added below (validation would refuse).
    config = SchemaConfig.model_construct(check="schema", action=action)
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        check = SchemaCheck(config, model=schema)
    elif isinstance(schema, dict):
        check = SchemaCheck(config)
        try:
            check.validators.append(REQUEST_SCHEMAS.get(schema, strict=False))
        except SchemaInvalid as exc:
            raise ValueError(f"schema= is not a valid JSON Schema: {exc}") from None
    else:
        raise TypeError(
            f"schema= takes a JSON Schema dict or a pydantic model class, not "
            f"{type(schema).__name__}"
        )
    if telemetry is not None:
        check.bind_telemetry(telemetry)
    return check


__all__ = ["REQUEST_SCHEMAS", "SchemaCheck", "SchemaConfig", "schema_check"]
