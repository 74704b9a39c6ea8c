"""End-to-end fixtures: the proxy under uvicorn in a thread, and the fake upstream."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from prometheus_client import CollectorRegistry

from guard.proxy.app import ProxyApp
from guard.proxy.config import load_config
from guard.proxy.server import HTTP_PROTOCOL
from tests.fake_upstream import FakeUpstream


class ProxyServer:
    """A running proxy: ``url`` for SDK base URLs, ``app`` for its state."""

    def __init__(self, app: ProxyApp) -> None:
        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # The production protocol: header timeout and connection cap from the app's config.
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", access_log=False, http=HTTP_PROTOCOL
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # The same event loop as production (uvicorn picks uvloop when installed).
        try:
            from uvloop import new_event_loop
        except ImportError:  # pragma: no cover
            new_event_loop = asyncio.new_event_loop
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> ProxyServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("proxy did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@pytest.fixture
def fake_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture
def start_proxy() -> Iterator[Callable[..., ProxyServer]]:
    """Start a proxy with config overrides (``upstream=``, ``policy=``...); stopped after."""
    servers: list[ProxyServer] = []

    def start(env: dict[str, str] | None = None, **overrides: Any) -> ProxyServer:
        config = load_config(None, env=env or {}, overrides=overrides)
        server = ProxyServer(ProxyApp(config, registry=CollectorRegistry())).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def proxy_of(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> Callable[[str], ProxyServer]:
    """Start a proxy in front of the fake upstream with a policy given as YAML text."""

    def start(policy_text: str) -> ProxyServer:
        policy = tmp_path / f"policy{len(list(tmp_path.iterdir()))}.yaml"
        policy.write_text(policy_text)
        return start_proxy(upstream=fake_upstream.url, policy=str(policy))

    return start


@pytest.fixture
def demo_proxy(start_proxy: Callable[..., ProxyServer]) -> ProxyServer:
    return start_proxy()


@pytest.fixture
def upstream_proxy(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> ProxyServer:
    return start_proxy(upstream=fake_upstream.url)
