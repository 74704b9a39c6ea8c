"""Upstreams: where checked requests go. A model API over HTTP, or the demo model.

Each configured model API gets one keep-alive connection pool
(:mod:`guard.proxy.http1`); the client's hop-by-hop headers and credentials are
dropped and the upstream's own key is set. Headers stay bytes end to end: they come
from the ASGI scope and go to the socket without being decoded.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from guard import formats
from guard.proxy.config import ApiFamily, ServerConfig, UpstreamConfig
from guard.proxy.decoding import decode, decode_stream, decoder_for
from guard.proxy.http1 import ConnectionPool, Headers
from guard.proxy.routing import unchecked_api

# Headers that describe one connection, not the message (RFC 9110 section 7.6.1, and
# the non-standard proxy-connection), plus those the proxy sets itself. A message's
# ``Connection`` header names more of them: :func:`connection_options`.
HOP_BY_HOP = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
        b"trailer", b"transfer-encoding", b"upgrade", b"host", b"content-length",
        b"content-encoding", b"accept-encoding", b"expect", b"proxy-connection",
    }
)  # fmt: skip
CLIENT_AUTH = frozenset({b"authorization", b"x-api-key", b"api-key"})
_API_FAMILIES: tuple[ApiFamily, ...] = ("openai", "anthropic")


@dataclass(slots=True)
class UpstreamResponse:
    """A complete or streaming upstream response."""

    status: int
    headers: Headers
    body: bytes = b""
    #: For streams: the body chunks as they arrive (``None`` for complete bodies).
    chunks: AsyncIterator[bytes] | None = None
    #: Called once when the response is done with (releases the connection).
    release: Callable[[], None] | None = field(default=None, repr=False)

    def header(self, name: bytes) -> bytes | None:
        """First value of a header (``name`` in lower case)."""
        return next((v for k, v in self.headers if k.lower() == name), None)

    async def aclose(self) -> None:
        """Release the upstream connection (closing it if the body was not read to the end)."""
        release, self.release = self.release, None
        if release is not None:
            release()


class Upstream(Protocol):
    """Where a checked request goes: a model API, or the built-in demo model."""

    name: str

    async def request(
        self, method: str, path: str, headers: Headers, body: bytes, *, stream: bool
    ) -> UpstreamResponse:
        """Send a request; with ``stream`` a 200 body arrives through ``chunks``."""
        ...

    async def reachable(self) -> bool:
        """Whether the upstream accepts connections at all (for ``/readyz``)."""
        ...

    async def aclose(self) -> None:
        """Close pooled connections."""
        ...


class HttpUpstream:
    """A model API reached over HTTP/1.1 with a keep-alive connection pool."""

    def __init__(self, name: str, config: UpstreamConfig, *, forward_client_auth: bool) -> None:
        self.name = name
        self.config = config
        url = config.url
        # Accept base URLs given with or without the API version segment.
        self._pool = ConnectionPool(
            name,
            url[: -len("/v1")] if url.endswith("/v1") else url,
            connect_timeout=config.timeouts.connect,
            read_timeout=config.timeouts.read,
            max_connections=config.max_connections,
            pool_timeout=config.timeouts.pool,
            keep_alive_expiry=config.timeouts.keep_alive,
            max_response_bytes=config.max_response_bytes,
            ca_file=config.ca_file,
        )
        self._forward_client_auth = forward_client_auth
        # The credential header of each API, built once: (api, azure) -> headers.
        self._credentials: dict[tuple[ApiFamily, bool], Headers] = {}
        for api in _API_FAMILIES:
            key = config.api_key(api)
            for azure in (False, True):
                scheme = _auto_scheme(api, azure) if config.auth == "auto" else config.auth
                self._credentials[api, azure] = _credential(scheme, key) if key else []

    def outgoing_headers(self, path: str, headers: Headers) -> Headers:
        """Client headers minus hop-by-hop ones, with the credentials of the route's API.

        ``path`` is the raw target; its API (not a path suffix) picks the key and, with
        ``auth: auto``, the header carrying it: an Anthropic route never gets the OpenAI
        key, nor the reverse.
        """
        drop_auth = not self._forward_client_auth
        named = client_connection_options(headers)
        out = [
            (name, value)
            for name, value in headers
            if name not in HOP_BY_HOP
            and not name.startswith(b"x-guardwire")
            and not (drop_auth and name in CLIENT_AUTH)
        ]
        if named:  # rare: a header of the client's hop only (RFC 9110 7.6.1)
            out = [(name, value) for name, value in out if name not in named]
        out.append((b"accept-encoding", b"identity"))
        if drop_auth:
            route = path.partition("?")[0]
            out += self._credentials[api_of(route, headers), route.startswith(AZURE_PREFIX)]
        return out

    async def request(
        self, method: str, path: str, headers: Headers, body: bytes, *, stream: bool
    ) -> UpstreamResponse:
        pool = self._pool
        outgoing = self.outgoing_headers(path, headers)
        # One timer per connection bounds the whole exchange (deadline) and each wait for
        # data (read timeout); a stream is bounded by the read timeout between events.
        loop = asyncio.get_running_loop()
        deadline = None if stream else loop.time() + self.config.timeouts.total
        connection = await pool.exchange(method, path, outgoing, body, deadline=deadline)
        try:
            decoder = decoder_for(self.name, connection.headers, pool.max_response_bytes)
            if stream and connection.status == 200:
                connection.events_only = True
                chunks = connection.chunks()
                if decoder is not None:
                    chunks = decode_stream(chunks, decoder)
                return UpstreamResponse(
                    200, connection.headers, chunks=chunks, release=lambda: pool.release(connection)
                )
            data = await connection.body()
            if decoder is not None:
                data = decode(decoder, data)
        except BaseException:
            pool.release(connection)  # closed unless complete: cancellation frees the slot
            raise
        pool.release(connection)
        return UpstreamResponse(connection.status, connection.headers, data)

    async def reachable(self) -> bool:
        """Whether a connection like a request's (egress proxy, TLS) can be made now."""
        return await self._pool.probe()

    async def aclose(self) -> None:
        await self._pool.close()


def connection_options(headers: Headers) -> frozenset[bytes]:
    """The header names a message's ``Connection`` headers list beyond the fixed
    hop-by-hop set (RFC 9110 section 7.6.1: ``Connection: close, X-Secret`` makes
    ``X-Secret`` a header of this hop only, never forwarded), in lower case."""
    named = _NO_OPTIONS
    for name, value in headers:
        if len(name) == 10 and name.lower() == b"connection":
            options = {option.strip().lower() for option in value.split(b",")}
            named = named.union(options - _CONNECTION_TOKENS)
    return named


def client_connection_options(headers: Headers) -> frozenset[bytes]:
    """:func:`connection_options` of a request's headers (lower-case names, as in ASGI
    scopes), without a Python loop over them in the common case: one ``Connection:
    keep-alive`` (or ``close``) found by a C-level dict. Measured (callgrind), the
    loop cost ~11 k instructions a request, this ~1 k."""
    by_name = dict(headers)
    value = by_name.get(b"connection")
    if value is None or (value.lower() in _CONNECTION_TOKENS and len(by_name) == len(headers)):
        return _NO_OPTIONS  # (a repeated name: any of them may be a second Connection)
    return connection_options(headers)


#: ``Connection`` options that name no header the message carries.
_CONNECTION_TOKENS = frozenset({b"close", b"keep-alive", b"upgrade", b""})
_NO_OPTIONS: frozenset[bytes] = frozenset()


#: Azure OpenAI deployment routes take the key in an ``api-key`` header.
AZURE_PREFIX = "/openai/deployments/"


def api_of(path: str, headers: Headers) -> ApiFamily:
    """The API a raw request path belongs to (``anthropic`` or ``openai``).

    By the route's wire format when it has one; for other routes (pass-through), by the
    ``anthropic-version`` header every Anthropic client sends.
    """
    fmt = formats.for_path(path)
    name = fmt.name if fmt is not None else unchecked_api(path)
    if name is None:
        return "anthropic" if any(k == b"anthropic-version" for k, _ in headers) else "openai"
    return "anthropic" if name.startswith("anthropic") else "openai"


def _auto_scheme(api: ApiFamily, azure: bool) -> str:
    if azure:
        return "api-key"
    return "x-api-key" if api == "anthropic" else "bearer"


def _credential(scheme: str, key: str) -> Headers:
    if scheme == "bearer":
        return [(b"authorization", b"Bearer " + key.encode())]
    return [(scheme.encode(), key.encode())]


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
