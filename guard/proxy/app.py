"""The sidecar proxy: a pure ASGI app of small handlers.

Routes: ``POST .../chat/completions`` (OpenAI) and ``POST /v1/messages`` (Anthropic)
go through the engine (:mod:`guard.proxy.calls`); ``GET /v1/models`` and other
``/v1/*`` routes are forwarded (or 404, as configured); ``/metrics``, ``/healthz`` and
``/readyz`` serve operations. Every error is rendered in the calling API's own shape.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from guard import formats
from guard.audit import AuditLog
from guard.engine import Guard, new_request_id
from guard.errors import GuardError, RequestError, UpstreamError
from guard.formats.base import WireFormat, dumps
from guard.proxy.asgi import ClientDisconnected, Receive, Scope, Send, header, read_body, respond
from guard.proxy.calls import Exchange, ModelCalls
from guard.proxy.config import ServerConfig
from guard.proxy.demo import DemoUpstream
from guard.proxy.responses import JSON, guard_headers, send_error, send_upstream
from guard.proxy.upstream import HttpUpstream, Router, Upstream
from guard.types import Caller

log = logging.getLogger("guardwire.proxy")

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class Client:
    """What a client key maps to: its engine (policy), tenant and policy header."""

    __slots__ = ("guard", "policy", "tenant")

    def __init__(self, guard: Guard, tenant: str | None) -> None:
        self.guard = guard
        self.tenant = tenant
        self.policy = guard.policy_tag.encode()


class ProxyApp:
    """The ASGI application."""

    def __init__(self, config: ServerConfig, *, registry: Any = None) -> None:
        self.config = config
        self._audit = AuditLog(config.audit_log) if config.audit_log else None
        guards: dict[str, Guard] = {}

        def engine(source: str) -> Guard:
            # One engine per distinct policy, shared by every key that names it.
            if source not in guards:
                guards[source] = Guard(source, audit=self._audit, registry=registry)
            return guards[source]

        self.guard = engine(config.policy)
        self.telemetry = self.guard.telemetry
        self._default = Client(self.guard, None)
        self._clients = {
            key.digest(): Client(
                engine(
                    config.policies.get(key.policy, key.policy) if key.policy else config.policy
                ),
                key.tenant,
            )
            for key in config.keys
        }
        upstreams: dict[str, Upstream] = (
            {"demo": DemoUpstream()}
            if config.demo
            else {
                name: HttpUpstream(name, upstream, forward_client_auth=config.forward_client_auth)
                for name, upstream in config.upstreams.items()
            }
        )
        self.router = Router(upstreams, config)
        self.calls = ModelCalls(self.telemetry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
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
        request_id = raw_id.decode() if raw_id and _REQUEST_ID.match(raw_id) else new_request_id()
        fmt = formats.for_path(path) if "/v1/" in path else None
        try:
            if fmt is not None and method == "POST":
                await self._model_call(scope, receive, send, fmt, request_id)
            elif path == "/healthz":
                await respond(send, 200, [(b"content-type", JSON)], b'{"status":"ok"}')
            elif path == "/readyz":
                await self._ready(send)
            elif path == "/metrics":
                exposition = generate_latest(self.telemetry.registry)
                await respond(
                    send, 200, [(b"content-type", CONTENT_TYPE_LATEST.encode())], exposition
                )
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

    async def _error(
        self,
        send: Send,
        fmt: WireFormat | None,
        status: int,
        message: str,
        code: str,
        request_id: str,
    ) -> None:
        headers = guard_headers(request_id, "error", self._default.policy)
        await send_error(send, fmt, status, message, code, headers)

    def _client(self, scope: Scope) -> Client:
        """The client behind the request's key (401 when keys are configured and it is unknown)."""
        if not self._clients:
            return self._default
        token = header(scope, b"x-api-key")
        authorization = header(scope, b"authorization")
        if authorization is not None and authorization[:7].lower() == b"bearer ":
            token = authorization[7:].strip()
        client = self._clients.get(hashlib.sha256(token).hexdigest()) if token else None
        if client is None:
            raise RequestError(
                "missing or unknown API key for this guardwire proxy",
                status=401,
                code="invalid_api_key",
            )
        return client

    async def _model_call(
        self, scope: Scope, receive: Receive, send: Send, fmt: WireFormat, request_id: str
    ) -> None:
        client = self._client(scope)
        content_type = header(scope, b"content-type")
        if content_type is not None and not content_type.lower().startswith(JSON):
            raise RequestError(
                "the request body must be JSON (Content-Type: application/json)",
                status=415,
                code="unsupported_media_type",
            )
        body = await read_body(
            scope, receive, limit=self.config.max_body_bytes, timeout=self.config.body_timeout
        )
        session = header(scope, b"x-guardwire-session")
        caller = Caller(
            session=session.decode("latin-1")[:128] if session else None, route=fmt.name
        )
        call = fmt.parse_request(body, caller)
        if client.tenant is not None:
            call.caller.tenant = client.tenant  # the key's tenant wins over the request's
        call.request_id = request_id
        headers = scope["headers"]
        exchange = Exchange(
            fmt,
            client.guard,
            call,
            self.router.pick(call.model),
            scope["path"],
            headers,
            client.policy,
        )
        if call.stream:
            await self.calls.stream(exchange, receive, send)
        else:
            await self.calls.complete(exchange, send)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        self._client(scope)
        body = await read_body(
            scope, receive, limit=self.config.max_body_bytes, timeout=self.config.body_timeout
        )
        path = scope["path"]
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        headers = scope["headers"]
        response = await self.calls.timed(
            self.router.pick(None), scope["method"], path, headers, body
        )
        await send_upstream(send, response, request_id)

    async def _ready(self, send: Send) -> None:
        upstreams = {
            name: await upstream.reachable() for name, upstream in self.router.upstreams.items()
        }
        ready = all(upstreams.values())
        body = dumps(
            {
                "status": "ready" if ready else "not ready",
                "policy": self.guard.policy_name,
                "policy_hash": self.guard.policy_hash,
                "upstreams": upstreams,
            }
        )
        await respond(send, 200 if ready else 503, [(b"content-type", JSON)], body)
