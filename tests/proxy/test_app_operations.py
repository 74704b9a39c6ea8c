"""Operations: access log, upstream errors logged by name, readiness cache, start-up checks."""

from __future__ import annotations

import argparse
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from guard.proxy import server as server_module
from tests.e2e.fixtures import ProxyServer
from tests.proxy.raw_upstream import RawUpstream

SECRET = "Zanzibar-4471"
HELLO = {"model": "m", "messages": [{"role": "user", "content": f"hello {SECRET}"}]}
BOMB = {"model": "m", "messages": [{"role": "user", "content": "how to build a bomb"}]}


def test_one_value_free_access_line_per_request(
    demo_proxy: ProxyServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="guardwire.access")
    url = demo_proxy.url
    httpx.post(url + "/v1/chat/completions", json=HELLO, headers={"x-request-id": "rid-1"})
    httpx.post(url + "/v1/chat/completions", json=BOMB, headers={"x-request-id": "rid-2"})
    httpx.post(url + "/v1/chat/completions", json={**HELLO, "stream": True})
    httpx.get(url + f"/v1/{SECRET}?q={SECRET}", headers={"x-request-id": "rid-4"})
    lines = [r.getMessage() for r in caplog.records if r.name == "guardwire.access"]
    assert len(lines) == 4, lines
    assert lines[0].startswith("POST openai.chat 200 allowed ")
    assert lines[0].endswith(" upstream=demo request_id=rid-1")
    assert lines[1].startswith("POST openai.chat 400 blocked ")
    assert lines[1].endswith(" upstream=demo request_id=rid-2")
    assert lines[2].startswith("POST openai.chat 200 allowed ")
    assert lines[3].startswith("GET not_found 404 - ")
    assert lines[3].endswith(" upstream=- request_id=rid-4")
    assert all(SECRET not in line and "bomb" not in line for line in lines)


def test_upstream_failures_are_logged_with_the_upstreams_name(
    start_proxy: Callable[..., ProxyServer], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_proxy(upstreams={"openai-main": {"url": f"http://127.0.0.1:{port}"}})
    caplog.set_level(logging.WARNING, logger="guardwire.proxy")
    response = httpx.post(server.url + "/v1/chat/completions", json=HELLO, timeout=5)
    assert response.status_code == 502
    logged = [r.getMessage() for r in caplog.records if r.name == "guardwire.proxy"]
    assert any("upstream openai-main: 502" in line for line in logged), logged
    assert all(SECRET not in line for line in logged)


def test_readiness_probe_is_cached(start_proxy: Callable[..., ProxyServer]) -> None:
    """D20: each unauthenticated /readyz hit opened a connection to every upstream."""
    upstream = RawUpstream().start()
    try:
        server = start_proxy(upstream=upstream.url)
        for _ in range(5):
            response = httpx.get(server.url + "/readyz", timeout=5)
            assert response.status_code == 200 and response.json()["upstreams"] == {"default": True}
        assert upstream.connections == 1
    finally:
        upstream.stop()


def run_serve(monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> dict[str, str]:
    """Run ``serve`` up to uvicorn (not started); return the environment it would hand on."""
    handed_on: dict[str, str] = {}

    def fake_run(*args: Any, **kwargs: Any) -> None:
        handed_on.update(os.environ)

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_run)
    options = {"config": None, "upstream": None, "policy": None, "host": None, "port": None}
    options |= {"workers": None, **overrides}
    assert server_module.serve(argparse.Namespace(**options)) == 0
    return handed_on


def test_raw_client_keys_never_travel_through_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """D19, R19: GUARDWIRE_RESOLVED_CONFIG carried raw keys to every worker."""
    config = tmp_path / "c.yaml"
    config.write_text("keys:\n  - {key: team-a-raw-key, tenant: team-a}\n")
    monkeypatch.delenv(server_module._RESOLVED, raising=False)
    environment = run_serve(monkeypatch, config=str(config))
    assert server_module._RESOLVED in environment
    assert not any("team-a-raw-key" in value for value in environment.values())


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_serving_beyond_loopback_without_keys_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, host: str, warned: bool
) -> None:
    monkeypatch.delenv(server_module._RESOLVED, raising=False)
    caplog.set_level(logging.WARNING, logger="guardwire.proxy")
    run_serve(monkeypatch, host=host)
    warnings = [r.getMessage() for r in caplog.records if "without client keys" in r.getMessage()]
    assert bool(warnings) is warned


def test_a_stream_that_breaks_half_way_is_logged_with_its_upstream(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.fake_upstream import Script

    server = start_proxy(upstreams={"openai-main": {"url": fake_upstream.url}})
    caplog.set_level(logging.INFO, logger="guardwire.access")
    fake_upstream.enqueue(Script(text="one two three four", chunk_size=4, break_stream_after=2))
    with httpx.stream(
        "POST", server.url + "/v1/chat/completions", json={**HELLO, "stream": True}, timeout=5
    ) as response:
        response.read()
    server.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "guardwire.access"]
    assert lines and lines[-1].startswith("POST openai.chat 200 upstream_error ")
    assert "upstream=openai-main " in lines[-1]
