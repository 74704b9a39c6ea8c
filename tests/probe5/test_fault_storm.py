"""32 calls at once against an upstream that fails in every way, through a budget on the
SQLite store: every call gets an answer in its API's own shape (a JSON error envelope, or
a stream that ends with its terminal or error event), nothing hangs, the budget's ceiling
holds with nothing left reserved, and the process's file descriptors and memory come back
to where they were. Run twice, so what the first storm leaves behind (pools, caches) is
the baseline of the second.

(The storm waits out the upstream timeouts: about 2 s in all, on purpose.)
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard.checks._windows import counter_key, scope_value, window_bounds
from guard.stores import open_store
from tests.e2e.fixtures import ProxyServer
from tests.probe3._upstream import answer_fault, chunk, head, reply_parts
from tests.proxy.faults import FaultUpstream, Request

FAULTS = ("ok", "read_timeout", "reset_before", "reset_mid_body", "status_500", "status_503",
          "not_json", "truncated_json", "no_final_event", "gzip", "slow_loris", "text_plain")  # fmt: skip
LIMIT = 20
POLICY = f"""\
name: storm
budgets:
  - {{name: storm-daily, scope: session, window: day, limit_requests: {LIMIT}}}
"""
TIMEOUTS = {"connect": 1.0, "read": 0.5, "total": 1.2, "pool": 1.0, "keep_alive": 0.3}
CALLS, AT_ONCE = 96, 32
HEADERS = {"anthropic-version": "2023-06-01"}
ROUTES = ("/v1/chat/completions", "/v1/messages")


class Storm:
    """The upstream: the n-th request gets the n-th fault, round robin."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        path = request.head.split(b" ", 2)[1]
        body = json.loads(request.body)
        fault = FAULTS[self.count % len(FAULTS)]
        self.count += 1
        if fault == "ok":
            complete, events = reply_parts(path, body)
            if body.get("stream"):
                data = head(200, b"text/event-stream") + b"".join(map(chunk, events))
                writer.write(data + b"0\r\n\r\n")
            else:
                writer.write(head(200, b"application/json", length=len(complete)) + complete)
            await writer.drain()
            return True
        if fault == "read_timeout":  # past the proxy's 0.5 s read timeout, not longer
            await asyncio.sleep(0.8)
            return False
        if fault == "text_plain":  # a reply in the wrong content type
            page = b"upstream says hello"
            writer.write(head(200, b"text/plain", length=len(page)) + page)
            await writer.drain()
            return True
        return await answer_fault(fault, path, body, writer)


@pytest.fixture
def storm_proxy(
    start_proxy: Callable[..., ProxyServer], tmp_path: Path
) -> Iterator[tuple[ProxyServer, str, int]]:
    policy = tmp_path / "storm.yaml"
    policy.write_text(POLICY)
    store = f"sqlite://{tmp_path / 'state.db'}"
    with FaultUpstream(Storm()).threaded() as upstream:
        upstreams = {"default": {"url": upstream.url, "timeouts": TIMEOUTS}}
        proxy = start_proxy(upstreams=upstreams, policy=str(policy), store=store)
        yield proxy, store, int(upstream.url.rsplit(":", 1)[1])


def _answer_shape(route: str, status: int, body: bytes, stream: bool) -> str:
    """What the client got, after checking it is in the API's own shape."""
    if stream and status == 200:
        text = body.decode()
        events = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
        assert events, text
        last = events[-1]
        if last == "[DONE]":
            return "ok"
        parsed = json.loads(last)
        if parsed.get("type") == "message_stop":
            return "ok"
        assert "error" in parsed, text  # the API's own error event ends the stream
        return "stream_error"
    parsed = json.loads(body)
    if status == 200:
        return "ok"
    if route == "/v1/messages":
        assert parsed["type"] == "error" and parsed["error"]["type"], parsed
    else:
        assert parsed["error"]["message"], parsed
    assert 400 <= status < 600
    return str(status)


async def _call(client: httpx.AsyncClient, url: str, number: int, session: str) -> str:
    route = ROUTES[number % 2]
    stream = number % 4 >= 2
    body: dict[str, Any] = {"model": "gpt-4o-mini", "max_tokens": 20, "stream": stream,
                            "messages": [{"role": "user", "content": f"call {number}"}]}  # fmt: skip
    headers = {**HEADERS, "x-guardwire-session": session}
    async with client.stream("POST", url + route, json=body, headers=headers) as response:
        data = await response.aread()
    return _answer_shape(route, response.status_code, data, stream)


async def _storm(url: str, session: str) -> list[str]:
    limits = httpx.Limits(max_connections=AT_ONCE, max_keepalive_connections=AT_ONCE)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        return await asyncio.gather(*(_call(client, url, n, session) for n in range(CALLS)))


async def _ledger(store_url: str, session: str) -> tuple[int, int]:
    store = open_store(store_url)
    await store.open()
    try:
        window, _ = window_bounds("day", time.time(), None)
        key = counter_key("storm-daily", scope_value(session), window, "requests")
        deadline = time.monotonic() + 5
        while await store.reserved(key) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return await store.get(key), await store.reserved(key)
    finally:
        await store.close()


def _sockets() -> dict[str, tuple[int, int]]:
    """This process's TCP sockets by inode: (local port, remote port)."""
    found: dict[str, tuple[int, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                found[fields[9]] = (int(fields[1][-4:], 16), int(fields[2][-4:], 16))
    return found


def _proxy_fds(upstream_port: int) -> tuple[int, int]:
    """(descriptors but the test upstream's sockets, proxy-to-upstream sockets). The test
    upstream runs in this process too; its own sockets are not the proxy's."""
    sockets = _sockets()
    others = pooled = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        local, remote = sockets.get(target.removeprefix("socket:[").rstrip("]"), (0, 0))
        if local == upstream_port:
            continue
        if remote == upstream_port:
            pooled += 1
        else:
            others += 1
    return others, pooled


def _settled_fds(upstream_port: int, baseline: int) -> tuple[int, int]:
    """What :func:`_proxy_fds` counts once the calls' connections are closed."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        counted = _proxy_fds(upstream_port)
        if counted[0] <= baseline:
            return counted
        time.sleep(0.05)
    return _proxy_fds(upstream_port)


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1])


def _one_storm(proxy: ProxyServer, store_url: str, session: str) -> None:
    started = time.monotonic()
    outcomes = asyncio.run(_storm(proxy.url, session))
    took = time.monotonic() - started
    assert took < 8, f"the storm took {took:.1f} s: something waited on a dead upstream"
    spent, reserved = asyncio.run(_ledger(store_url, session))
    assert reserved == 0 and spent <= LIMIT, (spent, reserved)
    # Every fault was met, and the budget ran out during the storm.
    assert {"ok", "stream_error", "429", "500", "502", "503", "504"} <= set(outcomes), outcomes


def test_storms_of_faults_get_answers_keep_the_ceiling_and_leak_nothing(
    storm_proxy: tuple[ProxyServer, str, int],
) -> None:
    proxy, store_url, upstream_port = storm_proxy
    # The first storm fills what is kept on purpose (worker threads' SQLite connections,
    # idle upstream connections): it is the baseline of the next two.
    _one_storm(proxy, store_url, "storm-1")
    settled, _ = _settled_fds(upstream_port, 0)
    rss = _rss_kib()
    for session in ("storm-2", "storm-3"):
        _one_storm(proxy, store_url, session)
        others, pooled = _settled_fds(upstream_port, settled)
        assert others <= settled + 2, (settled, others)
        assert pooled <= AT_ONCE, pooled
    grown = _rss_kib() - rss
    assert grown < 20_000, f"RSS grew {grown} KiB over two more storms"
