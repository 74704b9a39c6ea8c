"""Which policy a call runs: client keys, tenants, routes and models mapped to policies.

Precedence, most specific first: the client **key**'s own ``policy`` → the key's
**tenant** (``tenant_policies``) → the **route** (``route_policies``, by API format such
as ``anthropic.messages``, or a family such as ``openai``) → the requested **model**
(``model_policies``, shell-style patterns, first match in file order) → the default
``policy``. Who the caller is outranks what it asks for: a key's or tenant's policy is
set by the operator for that caller, while route and model are chosen by the request.

The tenant used is the one of the authenticated key, never a tenant the client asserts
(``x-guardwire-tenant``): a client must not pick a weaker policy by naming a tenant.

A :class:`PolicySet` is built completely (every policy loaded and compiled) before it is
used, and never changed afterwards: a reload builds a new one and swaps one reference.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from guard.engine import Guard
from guard.identity import ANONYMOUS, Principal
from guard.policy import Policy, resolve_policy
from guard.proxy.config import ServerConfig
from guard.proxy.middleware import Client

#: Distinct model names whose policy is remembered (client-chosen, so bounded).
_MODEL_CACHE_SIZE = 1024

GuardFactory = Callable[[Policy], Guard]


class PolicySet:
    """Every engine of one config, and the lookup of the engine for a call."""

    def __init__(
        self,
        config: ServerConfig,
        make_guard: GuardFactory,
        previous: PolicySet | None = None,
    ) -> None:
        """Load and compile every policy ``config`` names; raises on the first error
        (:class:`~guard.errors.PolicyError`, :class:`~guard.errors.ConfigError`).

        Engines of ``previous`` whose policy is unchanged (same source and content hash)
        are kept, with their caches and state.
        """
        reusable = previous.guards if previous is not None else {}
        #: Engine per policy source (file path or pack name), one per distinct policy.
        self.guards: dict[str, Guard] = {}

        def engine(source: str) -> Guard:
            source = config.policies.get(source, source)
            if source not in self.guards:
                policy = resolve_policy(source)
                old = reusable.get(source)
                reuse = old is not None and old.policy_hash == policy.hash
                self.guards[source] = old if reuse and old is not None else make_guard(policy)
            return self.guards[source]

        self.default_guard = engine(config.policy)
        self.default = Client(self.default_guard, ANONYMOUS)
        self.clients: dict[str, Client] = {}
        #: Clients whose key names its own policy (nothing else applies to them).
        self._pinned: set[int] = set()
        for key in config.keys:
            digest = key.digest()
            principal = Principal.from_digest(digest, key.tenant)
            client = Client(engine(key.policy) if key.policy else self.default_guard, principal)
            self.clients[digest] = client
            if key.policy:
                self._pinned.add(id(client))
        self._aliases = dict(config.policies)
        self._written = config.written_paths
        for name in config.policies:  # loaded now: errors show at start, /check can use them
            engine(name)
        self._tenants = {t: engine(s) for t, s in config.tenant_policies.items()}
        self._routes = {r: engine(s) for r, s in config.route_policies.items()}
        self._models = [(p, engine(s)) for p, s in config.model_policies.items()]
        self._by_model: dict[str, Guard | None] = {}
        #: Every file the policies were read from (what a reload watches).
        self.files: list[str] = sorted({f for g in self.guards.values() for f in g.policy.files})

    @property
    def tags(self) -> set[tuple[str, str]]:
        """(name, hash) of every active policy."""
        return {(g.policy_name, g.policy_hash) for g in self.guards.values()}

    def select(self, client: Client, route: str, model: str | None) -> Guard:
        """The engine for a call of ``client`` on the API format ``route`` for ``model``."""
        if id(client) in self._pinned:
            return client.guard
        tenant = client.principal.tenant
        if tenant is not None and self._tenants:
            guard = self._tenants.get(tenant)
            if guard is not None:
                return guard
        if self._routes:
            guard = self._routes.get(route) or self._routes.get(route.partition(".")[0])
            if guard is not None:
                return guard
        if self._models and model is not None:
            guard = self._model_guard(model)
            if guard is not None:
                return guard
        return client.guard

    def _model_guard(self, model: str) -> Guard | None:
        try:
            return self._by_model[model]
        except KeyError:
            pass
        guard = next((g for p, g in self._models if fnmatch.fnmatchcase(model, p)), None)
        if len(self._by_model) < _MODEL_CACHE_SIZE:
            self._by_model[model] = guard
        return guard

    def named(self, name: str) -> Guard | None:
        """The engine of a policy by its ``policies:`` name, its source (a path as written
        in the config file, or as anchored) or its policy ``name`` (for ``POST
        /guardwire/v1/check``); ``None`` when no loaded policy fits."""
        source = self._aliases.get(name) or self._written.get(name, name)
        if source in self.guards:
            return self.guards[source]
        for guard in self.guards.values():
            if name == guard.policy_name:
                return guard
        return None
