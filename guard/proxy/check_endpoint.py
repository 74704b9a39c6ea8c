"""``POST /guardwire/v1/check``: the guard as a service, for flows that never call a model.

Runs a policy's input or output stage on given messages or text (and retrieved context)
and answers with the action, the findings and the redacted text. Request::

    {"stage": "input",                    # or "output"; default "input"
     "messages": [{"role": "user", "content": "..."}],   # or "text": "..."
     "context": ["a retrieved passage"],  # optional
     "model": "gpt-4o",                   # optional: model limits and model_policies
     "policy": "strict"}                  # optional: a loaded policy by name

Answer (200 for every completed check, blocked or not)::

    {"action": "redact", "policy": "default@1a2b3c4d5e6f", "stage": "input",
     "findings": [{"check": "secrets", "kind": "regex", "rule": "aws-access-key",
                   "segment": 0, "start": 7, "end": 27, "score": 1.0, "action": "redact"}],
     "messages": [...]}                   # or "text": "...", as redacted

Same authentication as model calls (client keys), same metrics and audit line (frontend
``check``). Without ``policy`` the caller's policy applies (its key, tenant, model).
Errors use the OpenAI error shape (``{"error": {"message", "type", "code"}}``) and
never echo the request's text; a body declared as anything but JSON is a 415.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from guard.errors import RequestError
from guard.formats._json import load_request
from guard.formats.base import dumps
from guard.identity import bind_caller
from guard.proxy.asgi import Receive, Scope, Send, declares_json, read_body, respond
from guard.proxy.middleware import authenticated_client, context_of
from guard.proxy.responses import JSON, guard_headers
from guard.types import Caller

if TYPE_CHECKING:
    from guard.proxy.app import ProxyApp

#: The route's path.
PATH = "/guardwire/v1/check"


class CheckRequest(BaseModel):
    """The body of ``POST /guardwire/v1/check``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Literal["input", "output"] = "input"
    text: str | None = None
    messages: list[dict[str, Any]] | None = Field(default=None, min_length=1)
    context: list[str] = Field(default_factory=list)
    model: str | None = Field(default=None, max_length=256)
    policy: str | None = Field(default=None, max_length=256)

    @model_validator(mode="after")
    def _one_subject(self) -> CheckRequest:
        if (self.text is None) == (self.messages is None):
            raise ValueError("give exactly one of 'text' or 'messages'")
        if self.stage == "output" and self.messages is not None:
            raise ValueError("the output stage checks a reply: give it as 'text'")
        return self


async def check(app: ProxyApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the stage and answer with the decision."""
    from guard.policy_tests import aevaluate

    client = authenticated_client(scope)
    body = await read_body(
        scope, receive, limit=app.config.max_body_bytes, timeout=app.config.body_timeout
    )
    _require_json(scope)  # after the body is read: the connection stays in step
    request = _parse(body)
    policies = app.policies
    if request.policy is not None:
        guard = policies.named(request.policy)
        if guard is None:
            raise RequestError(
                "no loaded policy has this name: use a name from the config's 'policies' "
                "or a policy's 'name'",
                status=404,
                code="unknown_policy",
            )
    else:
        guard = policies.select(client, "", request.model)
    caller = bind_caller(scope["state"]["principal"], Caller(route="check"))
    try:
        # The checks of a big text run in a worker thread, as a model call's stages do
        # (guard.stages.OFF_LOOP_CHARS): the other calls on this event loop go on.
        evaluation = await aevaluate(
            guard,
            request.stage,
            text=request.text,
            messages=request.messages,
            context=request.context,
            model=request.model,
            caller=caller,
            request_id=context_of(scope).request_id,
        )
    except TypeError as exc:  # messages that are not OpenAI-style message objects
        raise RequestError(str(exc).replace("a wrapped function's", "the")) from None
    decision = evaluation.decision
    answer: dict[str, Any] = {
        "action": decision.action.label,
        "policy": guard.policy_tag,
        "stage": request.stage,
        "findings": [_finding(f) for f in decision.findings],
    }
    if evaluation.messages is not None:
        answer["messages"] = evaluation.messages
    else:
        answer["text"] = evaluation.text
    context = context_of(scope)
    context.outcome = "blocked" if decision.blocked else "allowed"
    headers = guard_headers(context.request_id, decision.action.label, guard.policy_tag.encode())
    headers.append((b"content-type", JSON))
    await respond(send, 200, headers, dumps(answer))


def _require_json(scope: Scope) -> None:
    """Refuse a body declared as anything but JSON with a 415 (see
    :func:`~guard.proxy.asgi.declares_json`). The declared type is not echoed: it is the
    client's text."""
    if not declares_json(scope):
        raise RequestError(
            "the check endpoint reads JSON: send the body with Content-Type: application/json",
            status=415,
            code="unsupported_media_type",
        )


def _parse(body: bytes) -> CheckRequest:
    try:
        # The model routes' strict decoder: deep nesting, NaN, invalid UTF-8, a repeated
        # key or a lone surrogate escape is a 400 saying which (a plain json.loads made
        # the first and the last a 500, and read a repeated key as its last value).
        data = load_request(body)
    except RequestError as refused:
        raise RequestError(str(refused), code="invalid_json") from None
    try:
        return CheckRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(map(_field_name, first["loc"])) or "body"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise RequestError(f"invalid check request ({field}): {message}") from None


def _field_name(part: str | int) -> str:
    """A location part of a validation error as the message may show it: the request's
    own field names and list positions; any other key is text the client sent (it may be
    anything, a secret too), so it is not echoed."""
    if isinstance(part, int) or part in CheckRequest.model_fields:
        return str(part)
    return "an unknown field"


def _finding(finding: Any) -> dict[str, Any]:
    return {
        "check": finding.check,
        "kind": finding.kind,
        "rule": finding.rule,
        "segment": finding.segment,
        "start": finding.start,
        "end": finding.end,
        "score": round(finding.score, 4),
        "action": finding.action.label,
    }
