"""Reaching upstreams through an egress (forward) proxy: ``HTTPS_PROXY`` / ``HTTP_PROXY``.

The standard environment variables are honoured (``NO_PROXY`` too); loopback addresses
never go through a proxy. The proxy is asked for a ``CONNECT`` tunnel, over which the
upstream connection (TLS included) then runs end to end.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from guard.errors import ConfigError, UpstreamError

_MAX_HEAD = 16 * 1024


@dataclass(frozen=True, slots=True)
class EgressProxy:
    """A forward proxy from the environment."""

    host: str
    port: int
    authorization: bytes | None = None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_for(scheme: str, host: str) -> EgressProxy | None:
    """The proxy the environment names for ``scheme://host``, if any."""
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if _is_loopback(host) or bypass(host):
        return None
    url = urllib.request.getproxies_environment().get(scheme)
    if not url:
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        return None
    if parts.scheme != "http":
        # A CONNECT in clear to an https:// proxy would carry its credentials unencrypted.
        raise ConfigError(
            f"the egress proxy for {scheme}:// upstreams uses the scheme '{parts.scheme}'; "
            "only http:// egress proxies are supported (the tunnel itself carries TLS "
            "to the upstream): set HTTPS_PROXY/HTTP_PROXY to an http:// URL"
        )
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = b"Basic " + base64.b64encode(credentials.encode())
    return EgressProxy(parts.hostname, parts.port or 8080, authorization)


def authority(host: str, port: int) -> bytes:
    """``host:port`` for a request target or ``Host`` header (IPv6 literals bracketed)."""
    return (f"[{host}]:{port}" if ":" in host else f"{host}:{port}").encode("idna")


async def tunnel(proxy: EgressProxy, host: str, port: int, name: str) -> socket.socket:
    """A connected socket to ``host:port`` through ``proxy`` (``CONNECT``)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(proxy.host, proxy.port, type=socket.SOCK_STREAM)
    family, kind, protocol, _, address = infos[0]
    sock = socket.socket(family, kind, protocol)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, address)
        target = authority(host, port)
        request = b"CONNECT " + target + b" HTTP/1.1\r\nhost: " + target + b"\r\n"
        if proxy.authorization:
            request += b"proxy-authorization: " + proxy.authorization + b"\r\n"
        await loop.sock_sendall(sock, request + b"\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            data = await loop.sock_recv(sock, 4096)
            if not data or len(head) > _MAX_HEAD:
                raise UpstreamError(f"the egress proxy closed the tunnel to upstream '{name}'")
            head += data
        status = head.split(b"\r\n", 1)[0].split(b" ", 2)[1:2] if head.startswith(b"HTTP/") else []
        if not (status and len(status[0]) == 3 and status[0].startswith(b"2")):
            raise UpstreamError(
                f"the egress proxy refused a tunnel to upstream '{name}' "
                f"(status {status[0][:3].decode('latin-1') if status else 'unknown'})"
            )
    except BaseException:
        sock.close()
        raise
    return sock
