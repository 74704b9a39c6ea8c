"""Bad requests and upstream faults: the right status and error body, and the server lives."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable

import httpx
import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

CHAT = "/v1/chat/completions"
GOOD = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}


def post(server: ProxyServer, path: str = CHAT, **kwargs: object) -> httpx.Response:
    return httpx.post(server.url + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def assert_alive(server: ProxyServer) -> None:
    response = post(server, json=GOOD)
    assert response.status_code == 200, response.text


def openai_error(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, object] = body["error"]
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.mark.parametrize(
    ("content", "headers", "status", "fragment"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "JSON"),
        (b"[1, 2]", {"content-type": "application/json"}, 400, "object"),
        (b'{"model": "m"}', {"content-type": "application/json"}, 400, "messages"),
        (
            b'{"model": "m", "messages": "hi"}',
            {"content-type": "application/json"},
            400,
            "messages",
        ),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": "caf\xe9"}]}',
            {"content-type": "application/json"},
            400,
            "UTF-8",
        ),
        (json.dumps(GOOD).encode(), {"content-type": "text/plain"}, 415, "JSON"),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": "\\ud800"}]}',
            {"content-type": "application/json"},
            400,
            "surrogate",
        ),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": NaN}]}',
            {"content-type": "application/json"},
            400,
            "JSON",
        ),
    ],
)
def test_bad_requests_get_openai_errors(
    demo_proxy: ProxyServer, content: bytes, headers: dict[str, str], status: int, fragment: str
) -> None:
    response = post(demo_proxy, content=content, headers=headers)
    assert response.status_code == status
    assert fragment in str(openai_error(response)["message"])
    assert_alive(demo_proxy)


def test_oversized_body_gets_413(start_proxy: Callable[..., ProxyServer]) -> None:
    server = start_proxy(max_body_bytes=2048)
    big = {"model": "m", "messages": [{"role": "user", "content": "x" * 5000}]}
    response = post(server, json=big)
    assert response.status_code == 413
    assert "2048" in str(openai_error(response)["message"])
    # Also without a Content-Length header (chunked upload).
    chunked = post(
        server,
        content=iter([json.dumps(big).encode()]),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413
    assert_alive(server)


def test_anthropic_errors_use_anthropic_shape(demo_proxy: ProxyServer) -> None:
    response = post(
        demo_proxy, "/v1/messages", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"


def test_unknown_routes_and_operations(demo_proxy: ProxyServer) -> None:
    assert httpx.get(demo_proxy.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(demo_proxy.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert httpx.get(demo_proxy.url + "/nope").status_code == 404
    models = httpx.get(demo_proxy.url + "/v1/models").json()
    assert models["data"][0]["id"] == "guardwire-demo"
    metrics = httpx.get(demo_proxy.url + "/metrics").text
    assert "guardwire_policy_info" in metrics


def test_upstream_timeout_is_504(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.yaml"
    config.write_text(
        f"upstreams:\n  default:\n    url: {fake_upstream.url}\n    timeouts: {{read: 0.3, total: 0.5}}\n"
    )
    from guard.proxy.config import load_config

    server = start_proxy(**load_config(config, env={}).model_dump(include={"upstreams"}))
    fake_upstream.enqueue(Script(delay=2.0))
    started = time.monotonic()
    response = post(server, json=GOOD)
    assert response.status_code == 504
    assert time.monotonic() - started < 1.9
    assert "timed out" in str(openai_error(response)["message"]) or "in time" in str(
        openai_error(response)["message"]
    )
    assert_alive(server)


def test_upstream_down_is_502(start_proxy: Callable[..., ProxyServer]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_proxy(upstream=f"http://127.0.0.1:{port}")
    response = post(server, json=GOOD)
    assert response.status_code == 502
    assert "could not be reached" in str(openai_error(response)["message"])
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 503


def test_upstream_reset_is_502_and_server_keeps_serving(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(reset=True))
    response = post(upstream_proxy, json=GOOD)
    assert response.status_code == 502
    assert_alive(upstream_proxy)


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
def test_upstream_errors_pass_through_with_bodies(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, status: int
) -> None:
    body = {
        "error": {"message": f"upstream says {status}", "type": "x", "param": None, "code": "y"}
    }
    fake_upstream.enqueue(Script(status=status, body=body))
    response = post(upstream_proxy, json=GOOD)
    assert response.status_code == status
    assert response.json() == body


def test_stream_breaking_half_way_ends_with_error_event(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(
        Script(text="one two three four five six seven eight", chunk_size=4, break_stream_after=4)
    )
    client = openai.OpenAI(base_url=upstream_proxy.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIError, match="upstream"):
        for _ in client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "q"}], stream=True
        ):
            pass
    assert_alive(upstream_proxy)


def test_client_disconnect_mid_stream_cancels_upstream(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(text="word " * 200, chunk_size=5, stream_delay=0.02))

    async def read_a_little() -> None:
        async with (
            httpx.AsyncClient(timeout=5) as client,
            client.stream(
                "POST", upstream_proxy.url + CHAT, json={**GOOD, "stream": True}
            ) as response,
        ):
            async for _ in response.aiter_bytes():
                break

    asyncio.run(read_a_little())
    # The stream would last ~4 s: the proxy must close the upstream connection and count
    # the call as disconnected right away (polled, not slept, for slow machines).
    registry = upstream_proxy.app.telemetry.registry
    labels = {"frontend": "proxy", "format": "openai.chat", "outcome": "disconnected"}
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        if fake_upstream._connections == set() and registry.get_sample_value(
            "guardwire_calls_total", labels
        ):
            break
        time.sleep(0.02)
    assert registry.get_sample_value("guardwire_calls_total", labels) == 1
    assert fake_upstream._connections == set()
    assert_alive(upstream_proxy)


def test_client_keys_map_to_tenants_and_reject_unknown(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    server = start_proxy(keys=[{"key": "team-a-key", "tenant": "team-a"}])
    assert post(server, json=GOOD).status_code == 401
    assert post(server, json=GOOD, headers={"authorization": "Bearer wrong"}).status_code == 401
    ok = post(server, json=GOOD, headers={"authorization": "Bearer team-a-key"})
    assert ok.status_code == 200
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=server.url + "/v1", api_key="nope", max_retries=0
        ).chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])


def test_errors_never_echo_user_text(demo_proxy: ProxyServer) -> None:
    secret = "Zanzibar-4471-secret"
    response = post(
        demo_proxy,
        content=(
            '{"model": 1, "messages": [{"role": "user", "content": "' + secret + '"}]'
        ).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and secret not in response.text


def test_slow_body_gets_408(start_proxy: Callable[..., ProxyServer]) -> None:
    server = start_proxy(body_timeout=0.3)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model"'
        )
        data = sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 408")
    assert b"did not arrive" in data
    assert_alive(server)


def test_models_route_to_their_upstreams_and_keys_pick_policies(
    start_proxy: Callable[..., ProxyServer], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        "name: strict\ninput:\n  - check: rules\n    rules:\n      - {name: no-hello, keywords: [hello]}\n"
    )
    with (
        FakeUpstream(reply_text="from gpt") as gpt,
        FakeUpstream(reply_text="from claude") as claude,
    ):
        server = start_proxy(
            upstreams={
                "openai": {"url": gpt.url, "models": ["gpt-*"]},
                "anthropic": {"url": claude.url, "models": ["claude-*"]},
            },
            keys=[
                {"key": "plain", "tenant": "a"},
                {"key": "careful", "tenant": "b", "policy": "strict"},
            ],
            policies={"strict": str(strict)},
        )
        plain = {"authorization": "Bearer plain"}
        assert (
            post(server, json={**GOOD, "model": "gpt-4o"}, headers=plain).json()["choices"][0][
                "message"
            ]["content"]
            == "from gpt"
        )
        assert (
            post(server, json={**GOOD, "model": "claude-x"}, headers=plain).json()["choices"][0][
                "message"
            ]["content"]
            == "from claude"
        )
        assert (
            post(server, json={**GOOD, "model": "other"}, headers=plain).json()["choices"][0][
                "message"
            ]["content"]
            == "from gpt"
        )
        refused = post(server, json=GOOD, headers={"authorization": "Bearer careful"})
        assert refused.status_code == 400 and "no-hello" in refused.text
        assert refused.headers["x-guardwire-policy"].startswith("strict@")
        assert post(server, json=GOOD, headers=plain).status_code == 200


def test_audit_log_records_request_ids_without_values(
    start_proxy: Callable[..., ProxyServer], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    audit = tmp_path / "audit.jsonl"
    server = start_proxy(audit_log=str(audit))
    response = post(
        server,
        json={"model": "m", "messages": [{"role": "user", "content": "key AKIAABCDEFGHIJKLMNOP"}]},
        headers={"x-request-id": "req-42"},
    )
    assert response.headers["x-request-id"] == "req-42"
    server.stop()
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [e["request_id"] for e in entries] == ["req-42"]  # one line per call
    assert entries[0]["outcome"] == "redacted" and entries[0]["frontend"] == "proxy"
    assert entries[0]["input"]["action"] == "redact" and entries[0]["output"] is not None
    assert "AKIAABCDEFGHIJKLMNOP" not in audit.read_text()


def test_outcome_labels_come_from_the_closed_set(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from guard.telemetry import OUTCOMES

    post(upstream_proxy, json=GOOD)
    post(
        upstream_proxy,
        json={"model": "m", "messages": [{"role": "user", "content": "how to build a bomb"}]},
    )
    fake_upstream.enqueue(Script(status=500, body={"error": {"message": "x"}}))
    post(upstream_proxy, json=GOOD)
    post(upstream_proxy, json={**GOOD, "stream": True})
    exposition = httpx.get(upstream_proxy.url + "/metrics").text
    outcomes = {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "guardwire_calls"
        for sample in family.samples
        if sample.name == "guardwire_calls_total"
    }
    assert set(outcomes) <= set(OUTCOMES)
    assert outcomes["blocked"] == 1 and outcomes["upstream_error"] == 1 and outcomes["allowed"] == 2
