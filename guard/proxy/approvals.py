"""The approvals routes, for operators (a client key with ``operator: true``):

- ``GET /guardwire/v1/approvals[?limit=N]`` lists the tool calls waiting for a person's
  yes: id, tool name, arguments hash, session hash, tenant, created and expiry times —
  never the arguments (the store holds only names and hashes).
- ``POST /guardwire/v1/approvals/{id}`` approves or denies one (body ``{"decision":
  "approve" | "deny"}``, default approve).

Every decision is counted (``guardwire_agent_approvals_total``) and written to the audit
log as an ``approval`` line: id, decision, tool name, arguments hash, session hash,
tenant and the deciding key's id.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from guard.errors import RequestError
from guard.formats.base import dumps
from guard.proxy.asgi import Receive, Scope, Send, header, read_body, respond
from guard.proxy.responses import JSON
from guard.proxy.routing import Target

if TYPE_CHECKING:
    from guard.checks._agent_approvals import Decided
    from guard.proxy.app import ProxyApp

#: The route's path prefix (the id follows).
PREFIX = "/guardwire/v1/approvals/"


async def list_approvals(app: ProxyApp, scope: Scope, send: Send, target: Target) -> None:
    """The pending approvals, oldest first (``limit``: 1-3333, default 100)."""
    from guard.checks._agent_approvals import MAX_LISTED, pending
    from guard.checks._agent_state import ensure_open

    _require_operator(app, scope)
    limit = _limit(target.query, MAX_LISTED)
    store = app.state.store
    if store is None:
        listed: list[Any] = []
    else:
        await ensure_open(store)
        listed = await pending(store, limit)
    body = dumps({"approvals": [p.as_record() for p in listed]})
    await respond(send, 200, [(b"content-type", JSON)], body)


async def decide_approval(
    app: ProxyApp, scope: Scope, receive: Receive, send: Send, target: Target
) -> None:
    """Approve or deny the approval id at the end of the path."""
    from guard.checks._agent_approvals import decide, valid_id
    from guard.checks._agent_state import ensure_open

    key_id = _require_operator(app, scope)
    approval_id = target.path[len(PREFIX) :]
    body = await read_body(scope, receive, limit=4096, timeout=app.config.body_timeout)
    approve = _decision(body)
    store = app.state.store
    await ensure_open(store)
    decided = await decide(store, approval_id, approve) if valid_id(approval_id) else None
    if decided is None:
        raise RequestError(
            "no pending approval with this id (unknown, already decided or expired); "
            "repeat the agent's call to get a new one",
            status=404,
            code="approval_not_found",
        )
    event = "approved" if approve else "denied"
    app.telemetry.agent_approvals.labels(decided.about.check, event).inc()
    if app.audit_log is not None:
        app.audit_log.record_event(decision_line(decided, key_id))
    answer = dumps({"id": approval_id, "decision": "approve" if approve else "deny"})
    await respond(send, 200, [(b"content-type", JSON)], answer)


def decision_line(decided: Decided, key_id: str | None) -> dict[str, Any]:
    """The audit line of a decision: names and hashes only, checked against the audit
    vocabulary (a field that does not fit is dropped, never written)."""
    from guard.audit.vocabulary import HASH, ID, NAME

    about = decided.about
    line: dict[str, Any] = {
        "time": round(time.time(), 6),
        "event": "approval",
        "approval_id": decided.id,
        "decision": "approve" if decided.approved else "deny",
        "tool": about.tool if NAME(about.tool) else "other",
    }
    if HASH(about.arguments_hash):
        line["arguments_hash"] = about.arguments_hash
    if HASH(about.session):
        line["session"] = about.session
    if about.tenant is not None and NAME(about.tenant):
        line["tenant"] = about.tenant
    if key_id is not None and ID(key_id):
        line["key_id"] = key_id
    return line


def _require_operator(app: ProxyApp, scope: Scope) -> str:
    """The operator key's id; a 403 for any other caller."""
    token = header(scope, b"x-api-key")
    authorization = header(scope, b"authorization")
    if authorization is not None and authorization[:7].lower() == b"bearer ":
        token = authorization[7:].strip()
    operators = {key.digest() for key in app.config.keys if key.operator}
    digest = hashlib.sha256(token).hexdigest() if token else ""
    if digest not in operators:
        raise RequestError(
            "approvals need an operator key (a 'keys' entry with 'operator: true')",
            status=403,
            code="operator_key_required",
        )
    from guard.identity import Principal

    return Principal.from_digest(digest, None).key_id or ""


def _limit(query: str, most: int) -> int:
    values = parse_qs(query).get("limit")
    if not values:
        return 100
    if not values[-1].isdigit() or not 1 <= int(values[-1]) <= most:
        raise RequestError(
            f"the 'limit' query parameter must be a whole number from 1 to {most}",
            status=400,
            code="invalid_request",
        )
    return int(values[-1])


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
