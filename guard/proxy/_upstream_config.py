"""The upstream part of the server configuration: where model calls go, with which
key, timeouts and limits (re-exported by :mod:`guard.proxy.config`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The API families whose routes carry their own credentials.
ApiFamily = Literal["openai", "anthropic"]


class Timeouts(BaseModel):
    """Upstream timeouts in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect: float = Field(default=10.0, gt=0)
    #: Longest silence between two reads (also between stream events).
    read: float = Field(default=120.0, gt=0)
    #: Whole non-streamed call; streams are bounded by ``read`` per event instead.
    total: float = Field(default=600.0, gt=0)
    #: Longest wait for a free connection when ``max_connections`` are busy (then 503).
    pool: float = Field(default=10.0, gt=0)
    #: Idle connections older than this are closed, not reused: below the 5 s keep-alive
    #: of common servers (uvicorn, gunicorn), so the server never closes one as we send.
    keep_alive: float = Field(default=4.0, gt=0)


class UpstreamConfig(BaseModel):
    """One model API the proxy forwards to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    #: Name of the environment variable holding the upstream API key, or one variable
    #: per API (``{openai: OPENAI_API_KEY, anthropic: ANTHROPIC_API_KEY}``): a route of
    #: an API with no variable of its own gets no key, never another API's.
    api_key_env: str | dict[ApiFamily, str] | None = None
    #: How the key is sent: ``bearer`` (OpenAI), ``x-api-key`` (Anthropic), ``api-key``
    #: (Azure OpenAI), or ``auto``: by the API of the route (Anthropic routes, including
    #: pass-through ones, use ``x-api-key``; Azure deployment paths ``api-key``).
    auth: Literal["auto", "bearer", "x-api-key", "api-key"] = "auto"
    #: Model name patterns (shell-style, ``gpt-*``) routed to this upstream.
    models: list[str] = Field(default_factory=list)
    timeouts: Timeouts = Timeouts()
    #: Connections kept open to this upstream.
    max_connections: int = Field(default=256, ge=1, le=10_000)
    #: Largest response body accepted from this upstream, on the wire and once decoded
    #: (complete replies and streams alike); larger ones end in a 502.
    max_response_bytes: int = Field(default=32 << 20, ge=1024)
    #: PEM file of CA certificates to trust for this upstream (default: the system's).
    ca_file: str | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        # Credentials in the URL would be logged at start-up and never sent: refuse them
        # (without echoing them back in the error).
        if "@" in urlsplit(value).netloc:
            raise ValueError(
                "must not contain 'user:password@'; put the upstream key in an environment "
                "variable named by 'api_key_env'"
            )
        return value.rstrip("/")

    @field_validator("ca_file")
    @classmethod
    def _readable_ca_file(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError("is not a readable file")
        return value

    def api_key(self, api: ApiFamily = "openai") -> str | None:
        """The upstream key for routes of ``api``, from its environment variable.

        Keys are read from the environment when needed, never stored in the config.
        """
        variable = self.api_key_env
        if isinstance(variable, dict):
            variable = variable.get(api)
        return os.environ.get(variable) if variable else None
