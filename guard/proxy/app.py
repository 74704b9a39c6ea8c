"""The sidecar proxy: a pure ASGI app of small handlers.

Routes: ``POST .../chat/completions`` (OpenAI) and ``POST /v1/messages`` (Anthropic)
go through the engine; ``GET /v1/models`` and other ``/v1/*`` routes are forwarded (or
404, as configured); ``/metrics``, ``/healthz`` and ``/readyz`` serve operations.
Every error is rendered in the calling API's own error shape.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import traceback
import uuid
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from guard import formats
from guard.engine import Guard, Outcome
from guard.errors import GuardError, RequestError, UpstreamError
from guard.formats.base import WireFormat, dumps
from guard.proxy.asgi import (
    ClientDisconnected,
    Headers,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    respond,
    wait_for_disconnect,
)
from guard.proxy.config import ServerConfig
from guard.proxy.demo import DemoUpstream
from guard.proxy.upstream import HttpUpstream, Router, Upstream, UpstreamResponse
from guard.types import Action, Call, Caller, Reply

log = logging.getLogger("guardwire.proxy")

_JSON = b"application/json"
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
_STREAM_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_PASS_HEADERS = frozenset({"content-type", "retry-after", "x-request-id"})


class _PassThrough(Exception):
    """The upstream answered with an error status: return its response unchanged."""

    def __init__(self, response: UpstreamResponse) -> None:
        self.response = response


class Client:
    """What a client key maps to."""

    __slots__ = ("guard", "tenant")

    def __init__(self, guard: Guard, tenant: str | None) -> None:
        self.guard = guard
        self.tenant = tenant


class ProxyApp:
    """The ASGI application."""

    def __init__(self, config: ServerConfig, *, registry: Any = None) -> None:
        self.config = config
        audit = config.audit_log
        from guard.audit import AuditLog

        self._audit = AuditLog(audit) if audit else None
        self.guard = Guard(config.policy, audit=self._audit, registry=registry)
        self.telemetry = self.guard.telemetry
        self._registry = self.telemetry.registry
        guards = {"": self.guard}
        for name, source in config.policies.items():
            guards[name] = Guard(source, audit=self._audit, registry=registry)
        self._clients: dict[str, Client] = {}
        for entry in config.keys:
            policy = entry.policy or ""
            if policy not in guards:
                guards[policy] = Guard(policy, audit=self._audit, registry=registry)
            self._clients[entry.digest()] = Client(guards[policy], entry.tenant)
        self._default_client = Client(self.guard, None)
        upstreams: dict[str, Upstream] = (
            {"demo": DemoUpstream()}
            if config.demo
            else {
                name: HttpUpstream(name, upstream, forward_client_auth=config.forward_client_auth)
                for name, upstream in config.upstreams.items()
            }
        )
        self.router = Router(upstreams, config)
        self._policy_header = f"{self.guard.policy.name}@{self.guard.policy.hash}".encode()

    # -- ASGI entry ---------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Close upstream connections and the audit log."""
        for upstream in self.router.upstreams.values():
            await upstream.aclose()
        if self._audit is not None:
            self._audit.close()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        raw_id = header(scope, b"x-request-id")
        request_id = raw_id.decode() if raw_id and _REQUEST_ID.match(raw_id) else uuid.uuid4().hex
        fmt = formats.for_path(path) if path.startswith("/v1/") or "/v1/" in path else None
        try:
            if fmt is not None and method == "POST":
                await self._guarded(scope, receive, send, fmt, request_id)
            elif path == "/healthz":
                await respond(send, 200, [(b"content-type", _JSON)], b'{"status":"ok"}')
            elif path == "/readyz":
                await self._ready(send)
            elif path == "/metrics":
                body = generate_latest(self._registry)
                await respond(send, 200, [(b"content-type", CONTENT_TYPE_LATEST.encode())], body)
            elif path.startswith("/v1/") and (
                self.config.passthrough == "forward" or path == "/v1/models"
            ):
                await self._forward(scope, receive, send, request_id)
            else:
                raise RequestError(f"no route for {method} {path}", status=404, code="not_found")
        except ClientDisconnected:
            return
        except (RequestError, UpstreamError) as exc:
            await self._error(send, fmt, exc.status, str(exc), exc.code, request_id)
        except GuardError as exc:
            await self._error(send, fmt, 500, str(exc), "guardwire_error", request_id)
        except Exception as exc:  # never crash the server; never log values
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("internal error %s (request %s)\n%s", type(exc).__name__, request_id, frames)
            await self._error(
                send, fmt, 500, "internal error in guardwire", "internal_error", request_id
            )

    # -- guarded model calls ----------------------------------------------------------

    def _client(self, scope: Scope) -> Client:
        if not self._clients:
            return self._default_client
        token = header(scope, b"x-api-key")
        authorization = header(scope, b"authorization")
        if authorization is not None and authorization[:7].lower() == b"bearer ":
            token = authorization[7:].strip()
        if token:
            client = self._clients.get(hashlib.sha256(token).hexdigest())
            if client is not None:
                return client
        raise RequestError(
            "missing or unknown API key for this guardwire proxy",
            status=401,
            code="invalid_api_key",
        )

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, fmt: WireFormat, request_id: str
    ) -> None:
        client = self._client(scope)
        content_type = header(scope, b"content-type")
        if content_type is not None and not content_type.lower().startswith(_JSON):
            raise RequestError(
                "the request body must be JSON (Content-Type: application/json)",
                status=415,
                code="unsupported_media_type",
            )
        body = await read_body(
            scope, receive, limit=self.config.max_body_bytes, timeout=self.config.body_timeout
        )
        call = fmt.parse_request(body, Caller(tenant=client.tenant, route=fmt.name))
        call.request_id = request_id
        upstream = self.router.pick(call.model)
        guard = client.guard
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        path = scope["path"]
        if call.stream:
            await self._stream(scope, receive, send, fmt, guard, call, upstream, headers)
            return
        last: list[UpstreamResponse] = []

        async def send_upstream(request: Call) -> Reply:
            response = await self._timed(
                upstream, "POST", path, headers, fmt.request_body(request), stream=False
            )
            last.append(response)
            if response.status != 200:
                raise _PassThrough(response)
            return fmt.parse_reply(request, response.body)

        try:
            outcome = await guard.run(call, send_upstream)
        except _PassThrough as passed:
            self._count(fmt, "upstream_error")
            await self._upstream_response(send, passed.response, request_id)
            return
        blocked = outcome.blocked
        if blocked is not None:
            self._count(fmt, "blocked")
            await self._error(
                send, fmt, 400, blocked.message(), "content_blocked", request_id, guard
            )
            return
        assert outcome.reply is not None
        self._count(fmt, _outcome(outcome))
        out_headers = self._headers(request_id, _verdict(outcome), guard)
        out_headers.append((b"content-type", _JSON))
        await respond(send, 200, out_headers, fmt.reply_body(outcome.reply))

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        fmt: WireFormat,
        guard: Guard,
        call: Call,
        upstream: Upstream,
        headers: list[tuple[str, str]],
    ) -> None:
        decision = guard.before(call)
        if decision.blocked:
            self._count(fmt, "blocked")
            await self._error(
                send, fmt, 400, decision.message(), "content_blocked", call.request_id, guard
            )
            return
        response = await self._timed(
            upstream, "POST", scope["path"], headers, fmt.request_body(call), stream=True
        )
        if response.status != 200 or response.chunks is None:
            self._count(fmt, "upstream_error")
            await self._upstream_response(send, response, call.request_id)
            return
        stream_filter = fmt.stream_filter(call, guard)
        out_headers = self._headers(call.request_id, decision.action.label, guard) + _STREAM_HEADERS
        await send({"type": "http.response.start", "status": 200, "headers": out_headers})

        async def pump() -> None:
            assert response.chunks is not None
            try:
                async for chunk in response.chunks:
                    out = stream_filter.feed(chunk)
                    if out:
                        await send({"type": "http.response.body", "body": out, "more_body": True})
                    if stream_filter.done:
                        break
                else:
                    out = stream_filter.close()
                    if out:
                        await send({"type": "http.response.body", "body": out, "more_body": True})
            except UpstreamError as exc:
                out = stream_filter.fail(str(exc), exc.code)
                await send({"type": "http.response.body", "body": out, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        pumping = asyncio.ensure_future(pump())
        watching = asyncio.ensure_future(wait_for_disconnect(receive))
        try:
            await asyncio.wait((pumping, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pumping, watching):
                task.cancel()
            await response.aclose()
        outcome = "disconnected" if not pumping.done() or pumping.cancelled() else "streamed"
        if pumping.done() and not pumping.cancelled() and pumping.exception() is not None:
            raise pumping.exception()  # type: ignore[misc]
        decision_out = stream_filter.decision
        if decision_out is not None and decision_out.blocked:
            self.telemetry.stream_cutoffs.labels(_first_blocking(decision_out)).inc()
            outcome = "blocked"
        elif outcome == "streamed":
            outcome = "redacted" if decision.action is Action.REDACT else "allowed"
        self._count(fmt, outcome if outcome != "disconnected" else "error")

    async def _timed(
        self,
        upstream: Upstream,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        stream: bool,
    ) -> UpstreamResponse:
        started = time.perf_counter()
        status = 0
        try:
            response = await upstream.request(method, path, headers, body, stream=stream)
            status = response.status
            return response
        finally:
            self.telemetry.upstream_seconds.labels(
                upstream.name, self.telemetry.status_class(status)
            ).observe(time.perf_counter() - started)

    # -- other routes --------------------------------------------------------------------

    async def _forward(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        body = await read_body(
            scope, receive, limit=self.config.max_body_bytes, timeout=self.config.body_timeout
        )
        self._client(scope)
        path = scope["path"]
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        upstream = self.router.pick(None)
        response = await self._timed(upstream, scope["method"], path, headers, body, stream=False)
        await self._upstream_response(send, response, request_id)

    async def _ready(self, send: Send) -> None:
        checks = {
            name: await upstream.reachable() for name, upstream in self.router.upstreams.items()
        }
        ready = all(checks.values())
        body = dumps(
            {
                "status": "ready" if ready else "not ready",
                "policy": self.guard.policy.name,
                "policy_hash": self.guard.policy.hash,
                "upstreams": checks,
            }
        )
        await respond(send, 200 if ready else 503, [(b"content-type", _JSON)], body)

    # -- responses ---------------------------------------------------------------------

    def _headers(self, request_id: str, verdict: str, guard: Guard | None = None) -> Headers:
        policy = (
            self._policy_header
            if guard is None or guard is self.guard
            else f"{guard.policy.name}@{guard.policy.hash}".encode()
        )
        return [
            (b"x-request-id", request_id.encode()),
            (b"x-guardwire-verdict", verdict.encode()),
            (b"x-guardwire-policy", policy),
        ]

    async def _upstream_response(
        self, send: Send, response: UpstreamResponse, request_id: str
    ) -> None:
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers
            if k.lower() in _PASS_HEADERS
            or k.lower().startswith(("openai-", "anthropic-", "x-ratelimit"))
        ]
        headers = [h for h in headers if h[0] != b"x-request-id"]
        headers.append((b"x-request-id", request_id.encode()))
        headers.append(
            (
                b"x-guardwire-upstream-request-id",
                (response.header("x-request-id") or "").encode("latin-1"),
            )
        )
        body = response.body
        await respond(send, response.status, headers, body)

    async def _error(
        self,
        send: Send,
        fmt: WireFormat | None,
        status: int,
        message: str,
        code: str,
        request_id: str,
        guard: Guard | None = None,
    ) -> None:
        fmt = fmt or formats.get("openai.chat")
        verdict = "block" if code == "content_blocked" else "error"
        headers = self._headers(request_id, verdict, guard)
        headers.append((b"content-type", _JSON))
        await respond(send, status, headers, fmt.error_body(status, message, code))

    def _count(self, fmt: WireFormat, outcome: str) -> None:
        self.telemetry.calls.labels("proxy", fmt.name, outcome).inc()


def _verdict(outcome: Outcome) -> str:
    action = outcome.input.action
    if outcome.output is not None:
        action = max(action, outcome.output.action)
    return action.label


def _outcome(outcome: Outcome) -> str:
    if outcome.attempts > 1:
        return "reasked"
    return {Action.REDACT: "redacted", Action.WARN: "warned"}.get(
        Action.parse(_verdict(outcome)), "allowed"
    )


def _first_blocking(decision: Any) -> str:
    for verdict in decision.verdicts:
        if verdict.effective is Action.BLOCK:
            return str(verdict.check)
    return "unknown"
