"""Server configuration: one typed object from a YAML file plus ``GUARDWIRE_*`` variables.

Environment variables win over the file. The simple case needs no file at all:
``GUARDWIRE_UPSTREAM=https://api.openai.com guardwire serve``. With no upstream at all
the proxy answers from the built-in offline demo model.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from guard._yaml import load_yaml
from guard._yaml_bools import bool_error
from guard.errors import ConfigError
from guard.proxy._config_paths import anchor_config_paths
from guard.proxy._upstream_config import ApiFamily as ApiFamily
from guard.proxy._upstream_config import Timeouts as Timeouts
from guard.proxy._upstream_config import UpstreamConfig as UpstreamConfig

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

#: The guarded API formats, the keys ``route_policies`` accepts (with their families).
ROUTE_NAMES = (
    "openai.chat",
    "openai.responses",
    "openai.input_tokens",
    "anthropic.messages",
    "anthropic.count_tokens",
)


class ClientKey(BaseModel):
    """A client key that may use the proxy, with its tenant and policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The key itself, or the variable holding it, or its SHA-256 (hex): give one.
    key: str | None = None
    key_env: str | None = None
    key_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    tenant: str = Field(default="default", pattern=_NAME)
    policy: str | None = None
    #: May decide agent approvals (``POST /guardwire/v1/approvals/{id}``).
    operator: bool = False

    @model_validator(mode="after")
    def _one_key(self) -> ClientKey:
        if sum(v is not None for v in (self.key, self.key_env, self.key_sha256)) != 1:
            raise ValueError("give exactly one of 'key', 'key_env' or 'key_sha256'")
        return self

    def digest(self) -> str:
        """SHA-256 of the key: keys are compared by digest and never kept in memory raw."""
        if self.key_sha256:
            return self.key_sha256
        value = self.key if self.key is not None else os.environ.get(self.key_env or "", "")
        if not value:
            raise ConfigError(f"client key variable {self.key_env!r} is not set")
        return hashlib.sha256(value.encode()).hexdigest()


class ServerConfig(BaseModel):
    """Everything ``guardwire serve`` needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The config file's policy paths as written -> as anchored (see ``_config_paths``).
    _written_paths: dict[str, str] = PrivateAttr(default_factory=dict)

    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    #: Default policy: a file path or a shipped pack name (``default``, ...).
    policy: str = "default"
    #: Named policies that client keys and the maps below can refer to.
    policies: dict[str, str] = Field(default_factory=dict)
    #: Policy per tenant (the tenant of the client key, never one the client asserts).
    #: Precedence: key ``policy`` > ``tenant_policies`` > ``route_policies`` >
    #: ``model_policies`` > ``policy``. Values: a ``policies`` name, a file or a pack.
    tenant_policies: dict[str, str] = Field(default_factory=dict)
    #: Policy per API route: a format name (``openai.chat``, ``openai.responses``,
    #: ``anthropic.messages``...) or an API family (``openai``, ``anthropic``).
    route_policies: dict[str, str] = Field(default_factory=dict)
    #: Policy per requested model: shell-style patterns (``gpt-4o*``), first match wins.
    model_policies: dict[str, str] = Field(default_factory=dict)
    #: Seconds between checks of the config and policy files for changes (hot reload);
    #: 0 turns polling off (SIGHUP still reloads).
    reload_interval: float = Field(default=2.0, ge=0)
    #: Named upstreams; the one called ``default`` (or the first) takes unrouted models.
    #: Empty: the built-in offline demo model answers.
    upstreams: dict[str, UpstreamConfig] = Field(default_factory=dict)
    #: Client keys; when any are configured, requests without a known key get 401.
    keys: list[ClientKey] = Field(default_factory=list)
    #: Forward the client's own ``Authorization`` / ``x-api-key`` to the upstream
    #: (instead of the configured upstream key).
    forward_client_auth: bool = False
    #: Routes forwarded to the upstream *unchecked*, as ``"METHOD /path"``; ``*`` matches
    #: one path segment, a final ``**`` one or more. Everything else not guarded is 404.
    passthrough: list[str] = Field(default_factory=lambda: ["GET /v1/models"])
    #: Request body limit: one large image (OpenAI accepts 20 MB) must fit.
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    #: Seconds a client may take to send its request headers (uvicorn has no such limit).
    header_timeout: float = Field(default=10.0, gt=0)
    #: Seconds a client may take to send its request body.
    body_timeout: float = Field(default=30.0, gt=0)
    #: Open client connections (so concurrent requests) past which a new request gets a
    #: 503 with ``retry-after``.
    max_connections: int = Field(default=1024, ge=1, le=1_000_000)
    #: Seconds in-flight requests get to finish on shutdown.
    shutdown_timeout: float = Field(default=30.0, ge=0)
    #: Seconds a worker process (``workers`` > 1) may take to answer the supervisor's
    #: health ping before it is replaced. uvicorn's 5 s replaced workers busy with a slow
    #: CPU-heavy call, or starting on a starved machine, with their calls in flight.
    worker_healthcheck_timeout: int = Field(default=60, ge=1)
    #: JSON-lines audit log; off when unset.
    audit_log: str | None = None
    #: Where budgets keep their state: ``sqlite:///path/state.db`` (default: a file in
    #: the working directory, shared by every worker), ``memory://`` (one process), or
    #: ``redis://host:6379/0`` (shared by many replicas). Opened only when a policy has
    #: budgets.
    store: str = "sqlite://guardwire-state.db"
    #: A prices file that extends the shipped ``rules/prices.yaml`` (its entries first).
    prices: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("passthrough", mode="before")
    @classmethod
    def _route_list(cls, value: Any) -> Any:
        if value in ("forward", "404"):
            raise ValueError(
                f"'{value}' is no longer supported: list the routes to forward unchecked, "
                "e.g. passthrough: ['GET /v1/models', 'GET /v1/files/*'] ([] forwards nothing)"
            )
        return value

    @field_validator("passthrough")
    @classmethod
    def _route_patterns(cls, value: list[str]) -> list[str]:
        from guard.proxy.routing import parse_route_pattern

        for entry in value:
            parse_route_pattern(entry)  # raises ValueError naming what is wrong
        return value

    @field_validator("route_policies")
    @classmethod
    def _known_routes(cls, value: dict[str, str]) -> dict[str, str]:
        known = sorted({*ROUTE_NAMES, *(name.partition(".")[0] for name in ROUTE_NAMES)})
        for route in value:
            if route not in known:
                raise ValueError(f"unknown route {route!r}: use one of {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _client_auth_without_keys(self) -> ServerConfig:
        if self.forward_client_auth and self.keys:
            raise ValueError(
                "'forward_client_auth: true' would send the clients' guardwire keys to the "
                "upstream: use it without 'keys', or remove it"
            )
        return self

    @property
    def written_paths(self) -> dict[str, str]:
        """The config file's relative policy paths as written, each with the anchored
        path the policies are loaded (and keyed) by."""
        return self._written_paths

    def with_written_paths(self, written: dict[str, str]) -> ServerConfig:
        """This config, remembering ``written`` (see :attr:`written_paths`)."""
        self._written_paths = written
        return self

    def to_worker_json(self) -> str:
        """:meth:`for_workers` as JSON, the paths as written included."""
        config = self.for_workers().model_dump(mode="json")
        return json.dumps({"config": config, "written_paths": self._written_paths})

    @classmethod
    def from_worker_json(cls, text: str) -> ServerConfig:
        """The config :meth:`to_worker_json` wrote."""
        data = json.loads(text)
        return cls.model_validate(data["config"]).with_written_paths(data["written_paths"])

    def for_workers(self) -> ServerConfig:
        """This config with client keys reduced to their digests (what workers receive)."""
        return self.model_copy(
            update={
                "keys": [
                    ClientKey(
                        key_sha256=key.digest(),
                        tenant=key.tenant,
                        policy=key.policy,
                        operator=key.operator,
                    )
                    for key in self.keys
                ]
            }
        )

    @property
    def demo(self) -> bool:
        """True when no upstream is configured: the offline demo model answers."""
        return not self.upstreams

    def default_upstream(self) -> str:
        """Name of the upstream that takes models no pattern routes."""
        return "default" if "default" in self.upstreams else next(iter(self.upstreams))


#: Environment variables that override single fields (env wins over the file).
_ENV = {
    "GUARDWIRE_HOST": "host",
    "GUARDWIRE_PORT": "port",
    "GUARDWIRE_WORKERS": "workers",
    "GUARDWIRE_POLICY": "policy",
    "GUARDWIRE_AUDIT_LOG": "audit_log",
    "GUARDWIRE_STORE": "store",
    "GUARDWIRE_PRICES": "prices",
    "GUARDWIRE_MAX_BODY_BYTES": "max_body_bytes",
    "GUARDWIRE_MAX_CONNECTIONS": "max_connections",
    "GUARDWIRE_PASSTHROUGH": "passthrough",
    "GUARDWIRE_FORWARD_CLIENT_AUTH": "forward_client_auth",
    "GUARDWIRE_LOG_LEVEL": "log_level",
}


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """Build the config: file (optional), then environment, then command-line overrides."""
    env = os.environ if env is None else env
    path = path or env.get("GUARDWIRE_CONFIG")
    data: dict[str, Any] = {}
    written: dict[str, str] = {}
    node = None
    source = str(path) if path else "<environment>"
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        try:
            loaded, node = load_yaml(text, source)
        except Exception as exc:  # PolicyError from the shared YAML loader
            raise ConfigError(str(exc).replace("invalid policy", "invalid config")) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"invalid config ({source}): the top level must be a mapping")
        data = anchor_config_paths(dict(loaded or {}), Path(path).parent, written)
    for variable, field in _ENV.items():
        if variable in env:
            data[field] = env[variable]
    if isinstance(data.get("passthrough"), str) and data["passthrough"] not in ("forward", "404"):
        # GUARDWIRE_PASSTHROUGH="GET /v1/models,GET /v1/files/*"
        data["passthrough"] = [p.strip() for p in data["passthrough"].split(",") if p.strip()]
    upstream = env.get("GUARDWIRE_UPSTREAM")
    if upstream:
        data["upstreams"] = {"default": _simple_upstream(upstream, env)}
    for field, value in (overrides or {}).items():
        if value is None:
            continue
        if field == "upstream":
            data["upstreams"] = {"default": _simple_upstream(value, env)}
        else:
            data[field] = value
    wrong = bool_error(ServerConfig, data, lambda _loc: source, node)
    if wrong is not None:  # pydantic would read it as 1 or 0
        raise ConfigError(str(wrong).replace("invalid policy", "invalid config"))
    try:
        return ServerConfig.model_validate(data).with_written_paths(written)
    except ValidationError as exc:
        from guard._yaml import policy_error

        error = policy_error(exc, source, node, ServerConfig)
        raise ConfigError(str(error).replace("invalid policy", "invalid config")) from None


def _simple_upstream(url: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The one-upstream case: URL from flag or env, key from the usual variables.

    ``GUARDWIRE_UPSTREAM_KEY_ENV`` names the variable holding one key for every route;
    else ``GUARDWIRE_UPSTREAM_KEY`` holds it; else each API gets its own provider's
    variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``), never the other's.
    """
    key_env: str | dict[str, str] | None = env.get("GUARDWIRE_UPSTREAM_KEY_ENV")
    if key_env is None and "GUARDWIRE_UPSTREAM_KEY" in env:
        key_env = "GUARDWIRE_UPSTREAM_KEY"
    if key_env is None:
        per_api = {
            api: variable
            for api, variable in (("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY"))
            if variable in env
        }
        key_env = per_api or None
    return {"url": url, "api_key_env": key_env}
