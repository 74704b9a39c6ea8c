"""Egress proxies (CONNECT tunnels) and the readiness probe (D20, D19 of the core review)."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from guard.errors import ConfigError, UpstreamError
from guard.proxy.config import UpstreamConfig
from guard.proxy.egress import EgressProxy, proxy_for, tunnel
from guard.proxy.upstream import HttpUpstream
from tests.proxy.faults import FaultUpstream, ok, reply


class EgressProxyServer:
    """A CONNECT proxy on 127.0.0.1 that answers ``status_line`` and pipes to ``target``."""

    def __init__(self, status_line: bytes, target_port: int | None = None) -> None:
        self.status_line = status_line
        self.target_port = target_port
        self.heads: list[bytes] = []

    async def __aenter__(self) -> EgressProxyServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            self.heads.append(await reader.readuntil(b"\r\n\r\n"))
            if not self.status_line:
                await asyncio.sleep(5)  # never answers
                return
            writer.write(self.status_line + b"\r\n\r\n")
            await writer.drain()
            if self.target_port is None or not self.status_line.split(b" ")[1].startswith(b"2"):
                writer.close()
                return
            far_reader, far_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

            async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
                sink.close()

            await asyncio.gather(pipe(reader, far_writer), pipe(far_reader, writer))
        except (ConnectionError, asyncio.CancelledError):
            pass


@pytest.mark.parametrize(
    "status_line",
    [b"HTTP/1.1 200 Connection established", b"HTTP/1.1 200", b"HTTP/1.0 204 No Content"],
)
async def test_any_2xx_connect_reply_opens_the_tunnel(status_line: bytes) -> None:
    async with EgressProxyServer(status_line) as egress:
        sock = await tunnel(EgressProxy("127.0.0.1", egress.port), "api.example.com", 443, "u")
        sock.close()
    assert egress.heads[0].startswith(b"CONNECT api.example.com:443 HTTP/1.1\r\n")
    assert b"\r\nhost: api.example.com:443\r\n" in egress.heads[0]


async def test_ipv6_targets_are_bracketed_and_refusals_are_clear() -> None:
    async with EgressProxyServer(b"HTTP/1.1 200 OK") as egress:
        sock = await tunnel(EgressProxy("127.0.0.1", egress.port), "2001:db8::1", 443, "u")
        sock.close()
    assert egress.heads[0].startswith(b"CONNECT [2001:db8::1]:443 HTTP/1.1\r\n")
    assert b"\r\nhost: [2001:db8::1]:443\r\n" in egress.heads[0]
    async with EgressProxyServer(b"HTTP/1.1 407 Proxy Authentication Required") as egress:
        with pytest.raises(UpstreamError, match=r"refused a tunnel .* 407"):
            await tunnel(EgressProxy("127.0.0.1", egress.port), "api.example.com", 443, "u")


def test_an_https_egress_proxy_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never a plaintext CONNECT carrying the proxy's credentials."""
    monkeypatch.setenv("HTTPS_PROXY", "https://user:secret@proxy.example.com:3128")
    with pytest.raises(ConfigError, match="only http:// egress proxies") as raised:
        HttpUpstream("u", UpstreamConfig(url="https://api.example.com"), forward_client_auth=False)
    assert "secret" not in str(raised.value)


async def test_environment_proxy_is_wired_into_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY -> proxy_for -> the pool's connections, for a non-loopback upstream."""
    async with FaultUpstream(reply(ok(b"via the tunnel"))) as up:
        port = int(up.url.rsplit(":", 1)[1])
        async with EgressProxyServer(b"HTTP/1.1 200 OK", target_port=port) as egress:
            monkeypatch.setenv("HTTP_PROXY", f"http://u:p@127.0.0.1:{egress.port}")
            assert proxy_for("http", "api.example.com") is not None
            upstream = HttpUpstream(
                "far", UpstreamConfig(url="http://api.example.com"), forward_client_auth=False
            )
            response = await upstream.request("POST", "/v1/x", [], b"{}", stream=False)
            assert response.body == b"via the tunnel"
            assert egress.heads[0].startswith(b"CONNECT api.example.com:80 ")
            assert b"proxy-authorization: Basic dTpw\r\n" in egress.heads[0]  # base64("u:p")
            assert b"host: api.example.com\r\n" in up.requests[0].head
            assert await upstream.reachable()
            assert len(egress.heads) == 2  # readiness went through the proxy too
            await upstream.aclose()


async def test_readiness_checks_the_egress_proxy_and_never_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for status_line in (b"HTTP/1.1 403 Forbidden", b""):
        async with EgressProxyServer(status_line) as egress:
            monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{egress.port}")
            upstream = HttpUpstream(
                "far",
                UpstreamConfig(url="http://api.example.com", timeouts={"connect": 0.2}),
                forward_client_auth=False,
            )
            async with asyncio.timeout(1):
                assert not await upstream.reachable()


async def test_readiness_checks_the_tls_handshake(certificate: tuple[str, str]) -> None:
    key, cert = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0, ssl=context)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        trusted = HttpUpstream(
            "tls", UpstreamConfig(url=url, ca_file=cert), forward_client_auth=False
        )
        untrusted = HttpUpstream("tls", UpstreamConfig(url=url), forward_client_auth=False)
        assert await trusted.reachable()
        assert not await untrusted.reachable()
