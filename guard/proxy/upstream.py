"""Upstream clients: one pooled connection set per configured model API.

The proxy's hot path is the upstream call, so it uses aiohttp's client, which measured
several times faster than httpx's async pool under concurrency (see ``bench/``). The
in-process transport keeps httpx, which the SDKs require.

Both the real upstream and the offline demo model implement :class:`Upstream`.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from guard.errors import UpstreamError, UpstreamTimeout
from guard.proxy.config import ServerConfig, UpstreamConfig

# Headers that describe one connection, not the message (RFC 9110 section 7.6.1), plus
# those the proxy recomputes or must not forward.
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "host", "content-length",
        "content-encoding", "accept-encoding",
    }
)  # fmt: skip
CLIENT_AUTH = frozenset({"authorization", "x-api-key", "api-key"})


@dataclass(slots=True)
class UpstreamResponse:
    """A complete or streaming upstream response."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    #: For streams: the body chunks as they arrive (``None`` for complete bodies).
    chunks: AsyncIterator[bytes] | None = None
    close: list[object] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive name)."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    async def aclose(self) -> None:
        """Release the upstream connection (cancelling a stream that is still open)."""
        for closer in self.close:
            release = getattr(closer, "release", None)
            if release is not None:
                release()
            else:
                close = getattr(closer, "close", None)
                if close is not None:
                    close()
        self.close.clear()


class Upstream(Protocol):
    """Where a checked request goes: a model API, or the built-in demo model."""

    name: str

    async def request(
        self,
        method: str,
        path: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        *,
        stream: bool,
    ) -> UpstreamResponse:
        """Send a request; with ``stream`` the body arrives through ``chunks``."""
        ...

    async def reachable(self) -> bool:
        """Whether the upstream answers at all (for ``/readyz``)."""
        ...

    async def aclose(self) -> None:
        """Close pooled connections."""
        ...


class HttpUpstream:
    """A model API reached over HTTP with one pooled aiohttp session."""

    def __init__(self, name: str, config: UpstreamConfig, *, forward_client_auth: bool) -> None:
        try:
            import aiohttp
        except ImportError:  # pragma: no cover - the proxy extra installs it
            from guard.errors import MissingDependency

            raise MissingDependency("the proxy", "proxy") from None
        self.name = name
        self.config = config
        self._aiohttp = aiohttp
        self._key = config.api_key()
        self._forward_client_auth = forward_client_auth
        base = config.url
        # Accept base URLs given with or without the API version segment.
        self._base = base[: -len("/v1")] if base.endswith("/v1") else base
        self._timeout = aiohttp.ClientTimeout(
            total=config.timeouts.total,
            connect=config.timeouts.connect,
            sock_read=config.timeouts.read,
        )
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, connect=config.timeouts.connect, sock_read=config.timeouts.read
        )
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> object:
        if self._session is None or self._session.closed:
            connector = self._aiohttp.TCPConnector(
                limit=self.config.max_connections, keepalive_timeout=30, ttl_dns_cache=300
            )
            self._session = self._aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    def outgoing_headers(self, path: str, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Client headers minus hop-by-hop ones, with the upstream's credentials."""
        out: dict[str, str] = {}
        for name, value in headers:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower.startswith("x-guardwire"):
                continue
            if lower in CLIENT_AUTH and not self._forward_client_auth:
                continue
            out[lower] = value
        if self._key and not self._forward_client_auth:
            scheme = self.config.auth
            if scheme == "auto":
                scheme = "x-api-key" if path.rstrip("/").endswith("/v1/messages") else "bearer"
            if scheme == "bearer":
                out["authorization"] = f"Bearer {self._key}"
            else:
                out["x-api-key"] = self._key
        return out

    async def request(
        self,
        method: str,
        path: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        *,
        stream: bool,
    ) -> UpstreamResponse:
        aiohttp = self._aiohttp
        session = self._client()
        assert isinstance(session, aiohttp.ClientSession)
        try:
            response = await session.request(
                method,
                self._base + path,
                data=body if body else None,
                headers=self.outgoing_headers(path, headers),
                timeout=self._stream_timeout if stream else self._timeout,
                allow_redirects=False,
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise UpstreamTimeout(f"upstream '{self.name}' did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"upstream '{self.name}' could not be reached ({type(exc).__name__})"
            ) from None
        headers_out = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
        if stream and response.status == 200:
            return UpstreamResponse(
                response.status, headers_out, chunks=self._chunks(response), close=[response]
            )
        try:
            data = await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError):
            response.close()
            raise UpstreamTimeout(
                f"upstream '{self.name}' did not finish its answer in time"
            ) from None
        except aiohttp.ClientError as exc:
            response.close()
            raise UpstreamError(
                f"upstream '{self.name}' broke off its answer ({type(exc).__name__})"
            ) from None
        response.release()
        return UpstreamResponse(response.status, headers_out, data)

    async def _chunks(self, response: object) -> AsyncIterator[bytes]:
        aiohttp = self._aiohttp
        assert isinstance(response, aiohttp.ClientResponse)
        try:
            async for chunk in response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise UpstreamTimeout(f"upstream '{self.name}' stopped sending") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"upstream '{self.name}' broke off the stream ({type(exc).__name__})"
            ) from None

    async def reachable(self) -> bool:
        from urllib.parse import urlsplit

        parts = urlsplit(self._base)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, port), self.config.timeouts.connect
            )
        except (TimeoutError, OSError):
            return False
        writer.close()
        return True

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class Router:
    """Picks the upstream for a model name (shell patterns, first match wins)."""

    def __init__(self, upstreams: dict[str, Upstream], config: ServerConfig) -> None:
        self.upstreams = upstreams
        self._default = upstreams[config.default_upstream()] if config.upstreams else None
        self._routes = [
            (pattern, upstreams[name])
            for name, upstream in config.upstreams.items()
            for pattern in upstream.models
        ]

    def pick(self, model: str | None) -> Upstream:
        """The upstream that serves ``model``."""
        if model:
            for pattern, upstream in self._routes:
                if fnmatch.fnmatchcase(model, pattern):
                    return upstream
        if self._default is None:
            return next(iter(self.upstreams.values()))
        return self._default
