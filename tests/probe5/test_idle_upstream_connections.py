"""Idle upstream connections are closed once ``timeouts.keep_alive`` has passed, even when
no further call comes to reuse them.

Before, the pool dropped a connection past its keep-alive expiry only when a later call
looked for an idle one: after a burst, a quiet proxy kept every connection of the burst
(up to ``max_connections`` per upstream), each a descriptor, and, once the upstream closed
its end, a socket stuck in CLOSE_WAIT until traffic came back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe5.test_fault_storm import _proxy_fds

KEEP_ALIVE = 0.2
BURST = 8


async def _burst(url: str) -> list[int]:
    body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
    async with httpx.AsyncClient(timeout=10) as client:
        calls = [client.post(url + "/v1/chat/completions", json=body) for _ in range(BURST)]
        return [response.status_code for response in await asyncio.gather(*calls)]


def test_idle_upstream_connections_close_after_keep_alive(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(*[Script(delay=0.1) for _ in range(BURST)])  # all at once
    timeouts = {"keep_alive": KEEP_ALIVE}
    proxy = start_proxy(upstreams={"default": {"url": fake_upstream.url, "timeouts": timeouts}})
    assert asyncio.run(_burst(proxy.url)) == [200] * BURST
    port = fake_upstream.port
    assert _proxy_fds(port)[1] > 1  # the burst opened several connections
    deadline = time.monotonic() + KEEP_ALIVE + 2
    while _proxy_fds(port)[1] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _proxy_fds(port)[1] == 0
