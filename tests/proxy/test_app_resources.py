"""The app's resources: opened at start-up in order, closed at shutdown in reverse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from guard.proxy.app import ProxyApp, Resource
from guard.proxy.config import load_config


async def run_lifespan(app: ProxyApp) -> list[str]:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    return sent


async def test_resources_open_in_order_and_close_in_reverse(tmp_path: Path) -> None:
    config = load_config(
        None,
        env={},
        overrides={"upstream": "http://127.0.0.1:9", "audit_log": str(tmp_path / "a.jsonl")},
    )
    app = ProxyApp(config, registry=CollectorRegistry())
    assert [r.name for r in app.resources] == ["audit_log", "upstream default"]
    events: list[str] = []

    async def opened() -> None:
        events.append("open store")

    async def closed() -> None:
        events.append("close store")

    app.resources.append(Resource("store", close=closed, open=opened))
    assert await run_lifespan(app) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["open store", "close store"]


async def test_a_resource_that_fails_to_open_fails_the_start_up() -> None:
    app = ProxyApp(load_config(None, env={}), registry=CollectorRegistry())

    async def refuse() -> None:
        raise OSError("store unreachable")

    async def nothing() -> None:
        return None

    app.resources.append(Resource("store", close=nothing, open=refuse))
    assert await run_lifespan(app) == ["lifespan.startup.failed"]
