"""The proxy's endpoints, and the router app that picks one per request.

Guarded model calls (:mod:`guard.proxy.calls` drives them), the pass-through allow-list,
``/metrics``, ``/healthz`` and ``/readyz``. Every error is raised, never rendered here:
:class:`~guard.proxy.middleware.ApiErrorMiddleware` renders it in the API's shape.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from guard.errors import RequestError
from guard.exporter import exposed_registry
from guard.formats.base import WireFormat, dumps
from guard.identity import bind_caller
from guard.proxy.asgi import Receive, Scope, Send, declares_json, header, read_body, respond
from guard.proxy.calls import Exchange
from guard.proxy.middleware import authenticated_client, context_of
from guard.proxy.responses import JSON, send_upstream
from guard.proxy.routing import Kind, RouteTable, Target, request_target
from guard.types import Caller

if TYPE_CHECKING:
    from guard.proxy.app import ProxyApp

#: Seconds a ``/readyz`` answer is reused: the endpoint is unauthenticated, so each hit
#: must not open a connection to every upstream (core review D20).
READY_CACHE_SECONDS = 2.0
_HEADER_VALUE_LIMIT = 128


class Endpoints:
    """The innermost ASGI app: route on the raw target, then run the endpoint."""

    def __init__(self, app: ProxyApp) -> None:
        self.app = app
        self.config = app.config
        self.routes = RouteTable(app.config.passthrough)
        self._ready: tuple[float, int, bytes] | None = None
        self._ready_lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = context_of(scope)
        target = request_target(scope)
        method: str = scope["method"]
        route = context.route = self.routes.route(method, target)
        kind = route.kind
        if kind is Kind.MODEL_CALL:
            assert route.fmt is not None
            await self.model_call(scope, receive, send, route.fmt, target)
        elif kind is Kind.PASSTHROUGH:
            await self.passthrough(scope, receive, send, target)
        elif kind is Kind.HEALTHZ:
            await self.healthz(send)
        elif kind is Kind.READYZ:
            await self.readyz(send)
        elif kind is Kind.METRICS:
            await self.metrics(send)
        elif kind is Kind.APPROVAL:
            from guard.proxy.approvals import decide_approval

            await decide_approval(self.app, scope, receive, send, target)
        elif kind is Kind.CHECK:
            from guard.proxy.check_endpoint import check

            await check(self.app, scope, receive, send)
        elif kind is Kind.APPROVALS:
            from guard.proxy.approvals import list_approvals

            await list_approvals(self.app, scope, send, target)
        elif kind is Kind.METHOD_NOT_ALLOWED:
            raise RequestError(
                f"this model API endpoint accepts POST, not {method}",
                status=405,
                code="method_not_allowed",
            )
        elif kind is Kind.UNCHECKED_API:
            raise RequestError(
                f"guardwire does not check this model API ({route.template}): add the route "
                "to the 'passthrough' config key to forward it unchecked",
                status=404,
                code="not_found",
            )
        else:
            # Never echo the path: it is the client's text.
            raise RequestError(
                f"no route for this {method} request on the guardwire proxy",
                status=404,
                code="not_found",
            )

    async def model_call(
        self, scope: Scope, receive: Receive, send: Send, fmt: WireFormat, target: Target
    ) -> None:
        """A guarded call: parse, bind the caller's identity, then check and forward."""
        client = authenticated_client(scope)
        if not declares_json(scope):
            raise RequestError(
                "the request body must be JSON (Content-Type: application/json)",
                status=415,
                code="unsupported_media_type",
            )
        body = await read_body(
            scope, receive, limit=self.config.max_body_bytes, timeout=self.config.body_timeout
        )
        asserted = Caller(
            tenant=_header_text(scope, b"x-guardwire-tenant"),
            session=_header_text(scope, b"x-guardwire-session"),
            route=fmt.name,
        )
        call = fmt.parse_request(body, asserted)  # the extension may assert tenant/session
        call.caller = bind_caller(scope["state"]["principal"], call.caller)
        context = context_of(scope)
        call.request_id = context.request_id
        upstream = self.app.upstreams.pick(call.model)
        context.upstream = upstream.name
        # The policy is chosen once: the call keeps it even if a reload swaps the set.
        guard = self.app.policies.select(client, fmt.name, call.model)
        exchange = Exchange(
            fmt,
            guard,
            call,
            upstream,
            target.upstream,
            scope["headers"],
            client.policy if guard is client.guard else guard.policy_tag.encode(),
        )
        try:
            if call.stream:
                await self.app.calls.stream(exchange, receive, send)
            else:
                await self.app.calls.complete(exchange, send)
        finally:
            context.outcome = exchange.outcome or "error"

    async def passthrough(self, scope: Scope, receive: Receive, send: Send, target: Target) -> None:
        """An allow-listed route, forwarded unchecked (the caller must still be known)."""
        authenticated_client(scope)
        body = await read_body(
            scope, receive, limit=self.config.max_body_bytes, timeout=self.config.body_timeout
        )
        upstream = self.app.upstreams.pick(None)
        context = context_of(scope)
        context.upstream = upstream.name
        response = await self.app.calls.timed(
            upstream, scope["method"], target.upstream, scope["headers"], body
        )
        context.outcome = "passthrough"
        await send_upstream(send, response, context.request_id)

    async def healthz(self, send: Send) -> None:
        """Liveness: the process answers."""
        await respond(send, 200, [(b"content-type", JSON)], b'{"status":"ok"}')

    async def metrics(self, send: Send) -> None:
        """The Prometheus exposition of the proxy's registry (all workers)."""
        # With several workers: every worker's values, summed (guard.exporter).
        exposition = generate_latest(exposed_registry(self.app.telemetry.registry))
        await respond(send, 200, [(b"content-type", CONTENT_TYPE_LATEST.encode())], exposition)

    async def readyz(self, send: Send) -> None:
        """Ready when every upstream accepts connections; probed at most every 2 s."""
        async with self._ready_lock:  # concurrent hits share one probe
            cached = self._ready
            now = time.monotonic()
            if cached is None or now - cached[0] > READY_CACHE_SECONDS:
                upstreams = {
                    name: await upstream.reachable()
                    for name, upstream in self.app.upstreams.upstreams.items()
                }
                ready = all(upstreams.values())
                guard = self.app.guard
                report: dict[str, object] = {
                    "policy": guard.policy_name,
                    "policy_hash": guard.policy_hash,
                    "upstreams": upstreams,
                }
                store = await self.app.state.ready()  # budgets' state store, when used
                if store is not None:
                    report["store"] = store
                    ready = ready and bool(store["ok"])
                body = dumps({"status": "ready" if ready else "not ready", **report})
                cached = self._ready = (now, 200 if ready else 503, body)
        await respond(send, cached[1], [(b"content-type", JSON)], cached[2])


def _header_text(scope: Scope, name: bytes) -> str | None:
    value = header(scope, name)
    return value.decode("latin-1")[:_HEADER_VALUE_LIMIT] if value else None
