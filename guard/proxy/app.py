"""The sidecar proxy: small ASGI pieces composed, starlette-style.

A request passes, outermost first: request context (id, access line) → API-shaped
errors (:mod:`guard.proxy.middleware`) → authentication (the principal in ``scope["state"]``)
→ the router and endpoints (:mod:`guard.proxy.endpoints`): guarded model calls
(:mod:`guard.proxy.calls`), the pass-through allow-list, ``/metrics``, ``/healthz``,
``/readyz``. Routing is on the raw request target (:mod:`guard.proxy.routing`).
Resources that live as long as the app (upstream pools, the audit log, and later the
state stores) are opened and closed through one list, :attr:`ProxyApp.resources`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from guard.audit import AuditLog
from guard.engine import Guard
from guard.errors import ConfigError
from guard.policy import Policy
from guard.proxy.asgi import Receive, Scope, Send
from guard.proxy.calls import ModelCalls
from guard.proxy.config import ServerConfig
from guard.proxy.demo import DemoUpstream
from guard.proxy.endpoints import Endpoints
from guard.proxy.middleware import ApiErrorMiddleware, AuthMiddleware, RequestContextMiddleware
from guard.proxy.policies import PolicySet
from guard.proxy.state import ProxyState
from guard.proxy.upstream import HttpUpstream, Router, Upstream

if TYPE_CHECKING:
    from guard.proxy.reload import PolicyReloader


async def _nothing() -> None:
    return None


@dataclass(slots=True)
class Resource:
    """Something the app opens at start-up and closes at shutdown (in reverse order)."""

    name: str
    close: Callable[[], Awaitable[None]]
    open: Callable[[], Awaitable[None]] = _nothing


class ProxyApp:
    """The ASGI application: builds the engines, upstreams and the middleware stack."""

    def __init__(self, config: ServerConfig, *, registry: Any = None) -> None:
        self.config = config
        #: Opened in order at start-up, closed in reverse at shutdown. Add state stores
        #: and other long-lived clients here.
        self.resources: list[Resource] = []
        self._audit = _open_audit_log(config.audit_log) if config.audit_log else None
        #: The audit log (``None`` when off): call lines, and operators' approval lines.
        self.audit_log = self._audit
        if self._audit is not None:
            audit = self._audit

            async def close_audit() -> None:
                audit.close()

            self.resources.append(Resource("audit_log", close_audit))
        #: The state store of budgets (guard/proxy/state.py): opened only when a policy
        #: has budgets, shown in /readyz.
        self.state = ProxyState(config.store)

        def make_guard(policy: Policy) -> Guard:
            guard = Guard(
                policy, audit=self._audit, registry=registry,
                store=self.state.store, prices=config.prices,
            )  # fmt: skip
            self.state.use(guard)
            return guard

        self.make_guard = make_guard
        #: Every engine, and which one a call runs (keys, tenants, routes, models); a
        #: reload replaces it whole (:meth:`use_policies`).
        self.policies = PolicySet(config, make_guard)
        self.guard = self.policies.default_guard
        self.telemetry = self.guard.telemetry
        # The model label names configured models (patterns label what they match).
        self.telemetry.know_models(
            ["guardwire-demo"]
            if config.demo
            else [m for upstream in config.upstreams.values() for m in upstream.models]
        )
        # Loaded now, not on the first call's finish (ahead of its finish hooks).
        prices = _price_table(config.prices)
        self.telemetry.label_models_by(prices.label)
        self.telemetry.price_models_by(prices.lookup)
        if self.state.needed:  # a policy has budgets
            self.resources.append(Resource("state store", self.state.close, self.state.open))
        upstreams: dict[str, Upstream] = (
            {"demo": DemoUpstream()}
            if config.demo
            else {
                name: HttpUpstream(name, upstream, forward_client_auth=config.forward_client_auth)
                for name, upstream in config.upstreams.items()
            }
        )
        for name, upstream in upstreams.items():
            self.resources.append(Resource(f"upstream {name}", upstream.aclose))
        #: Picks the upstream for a model name.
        self.upstreams = Router(upstreams, config)
        self.calls = ModelCalls(self.telemetry)
        self.endpoints = Endpoints(self)
        self._auth = AuthMiddleware(
            self.endpoints, clients=self.policies.clients, default=self.policies.default
        )
        self._errors = ApiErrorMiddleware(self._auth, policy=self.policies.default.policy)
        self._http = RequestContextMiddleware(self._errors)
        #: Hot reload (SIGHUP, file changes); started with the app (guard/proxy/reload.py).
        self.reloader: PolicyReloader | None = None

    def use_policies(self, policies: PolicySet, config: ServerConfig) -> None:
        """Switch to a completely built policy set (and the config it came from).

        Synchronous, so on the event loop nothing runs between the assignments: a request
        authenticates against the old set or the new one, never a mix. Calls in flight
        keep the engine they started with.
        """
        self.config = config
        self.policies = policies
        self.guard = policies.default_guard
        self._auth.clients = policies.clients
        self._auth.default = policies.default
        self._errors.policy = policies.default.policy

    @property
    def router(self) -> Router:
        """The upstream router (kept for callers of the earlier single-class app)."""
        return self.upstreams

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
                try:
                    await self.aopen()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aopen(self) -> None:
        """Open every resource, in order."""
        for resource in self.resources:
            await resource.open()

    async def aclose(self) -> None:
        """Close every resource, last opened first."""
        for resource in reversed(self.resources):
            await resource.close()


def _open_audit_log(path: str) -> AuditLog:
    try:
        return AuditLog(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot open the audit log {path!r} for appending ({exc.strerror or exc}): "
            "create its directory and make it writable by guardwire, or change "
            "'audit_log' (GUARDWIRE_AUDIT_LOG)"
        ) from None


def _price_table(prices: str | None) -> Any:
    """The configured price table, for model labels and the cost estimate (the shipped
    one if it does not load: budgets report that file's errors)."""
    from guard.checks._prices import PriceTable

    try:
        return PriceTable.shipped(prices)
    except Exception:
        return PriceTable.shipped()
