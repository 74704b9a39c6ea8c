"""``POST /guardwire/v1/approvals/{id}``: an operator approves or denies a tool call the
agent check stopped for approval (body ``{"decision": "approve" | "deny"}``, default
approve). Only a client key with ``operator: true`` may decide; the id's tool call,
arguments and session are never shown (the store holds only their hashes)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from guard.errors import RequestError
from guard.formats.base import dumps
from guard.proxy.asgi import Receive, Scope, Send, header, read_body, respond
from guard.proxy.responses import JSON
from guard.proxy.routing import Target

if TYPE_CHECKING:
    from guard.proxy.app import ProxyApp

#: The route's path prefix (the id follows).
PREFIX = "/guardwire/v1/approvals/"


async def decide_approval(
    app: ProxyApp, scope: Scope, receive: Receive, send: Send, target: Target
) -> None:
    """Approve or deny the approval id at the end of the path."""
    from guard.checks._agent_approvals import decide, valid_id
    from guard.checks._agent_state import ensure_open

    _require_operator(app, scope)
    approval_id = target.path[len(PREFIX) :]
    body = await read_body(scope, receive, limit=4096, timeout=app.config.body_timeout)
    approve = _decision(body)
    store = app.state.store
    await ensure_open(store)
    if not valid_id(approval_id) or not await decide(store, approval_id, approve):
        raise RequestError(
            "no pending approval with this id (unknown, already decided or expired); "
            "repeat the agent's call to get a new one",
            status=404,
            code="approval_not_found",
        )
    event = "approved" if approve else "denied"
    app.telemetry.agent_approvals.labels("agent", event).inc()
    answer = dumps({"id": approval_id, "decision": "approve" if approve else "deny"})
    await respond(send, 200, [(b"content-type", JSON)], answer)


def _require_operator(app: ProxyApp, scope: Scope) -> None:
    token = header(scope, b"x-api-key")
    authorization = header(scope, b"authorization")
    if authorization is not None and authorization[:7].lower() == b"bearer ":
        token = authorization[7:].strip()
    operators = {key.digest() for key in app.config.keys if key.operator}
    if not token or hashlib.sha256(token).hexdigest() not in operators:
        raise RequestError(
            "deciding approvals needs an operator key (a 'keys' entry with 'operator: true')",
            status=403,
            code="operator_key_required",
        )


def _decision(body: bytes) -> bool:
    """True to approve: an empty body, or ``{"decision": "approve"}``."""
    if not body.strip():
        return True
    try:
        decision = json.loads(body).get("decision", "approve")
    except (ValueError, AttributeError):
        decision = None
    if decision not in ("approve", "deny"):
        raise RequestError(
            'the body must be {"decision": "approve"} or {"decision": "deny"}',
            status=400,
            code="invalid_request",
        )
    return bool(decision == "approve")
