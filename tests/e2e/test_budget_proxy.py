"""Budgets through the proxy and the SDKs: the clamp reaches the upstream, refusals are
the API's own 429, /readyz shows the store, a restart keeps the spend, the in-process
transport raises ``guard.BudgetExceeded``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

POLICY = """\
name: budgets
budgets:
  - name: team-daily
    scope: tenant
    window: day
    tz: Europe/Berlin
    limit_usd: {limit}
"""


def policy_file(tmp: Path, limit: float) -> str:
    path = tmp / "policy.yaml"
    path.write_text(POLICY.format(limit=limit))
    return str(path)


def test_a_request_without_max_tokens_reaches_the_upstream_clamped(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=policy_file(tmp_path, 0.01),
        store=f"sqlite://{tmp_path / 'state.db'}",
    )  # fmt: skip
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    clamped = int(raw.headers["x-guardwire-max-tokens-clamped"])
    assert fake_upstream.requests[-1].json["max_completion_tokens"] == clamped
    assert 16 <= clamped <= 16384
    ready = httpx.get(proxy.url + "/readyz").json()
    assert ready["store"] == {"kind": "sqlite", "ok": True}


def test_refusals_are_429_in_each_apis_shape(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=policy_file(tmp_path, 0.000001), store="memory://"
    )
    chat = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.RateLimitError) as refused:
        chat.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "secret words"}]
        )
    assert refused.value.code == "budget_exceeded"
    assert "team-daily" in refused.value.message and "secret" not in refused.value.message
    assert 0 < int(refused.value.response.headers["retry-after"]) <= 25 * 3600
    messages = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as refused_too:
        messages.messages.create(
            model="claude-haiku-4-5", max_tokens=100,
            messages=[{"role": "user", "content": "hi"}],
        )  # fmt: skip
    assert "team-daily" in str(refused_too.value)
    assert fake_upstream.requests == []
    metrics = httpx.get(proxy.url + "/metrics").text
    assert 'guardwire_budget_refusals_total{budget="team-daily"} 2.0' in metrics


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_restart_in_the_middle_of_the_window_keeps_the_spend(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    backend: str,
) -> None:
    from tests.redis_server import fresh_url

    store = f"sqlite://{tmp_path / 'state.db'}" if backend == "sqlite" else fresh_url()
    settings = {
        "upstream": fake_upstream.url,
        "policy": policy_file(tmp_path, 0.0005),
        "store": store,
    }
    body = {"model": "gpt-4o-mini", "max_tokens": 100,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    fake_upstream.usage_for = lambda payload: (50, 100)  # 67,500 nano-dollars a call
    first = start_proxy(**settings)
    statuses = []
    for _ in range(30):
        statuses.append(httpx.post(first.url + "/v1/chat/completions", json=body).status_code)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429 and statuses.count(200) >= 2
    first.stop()
    again = start_proxy(**settings)
    assert httpx.post(again.url + "/v1/chat/completions", json=body).status_code == 429


def test_the_transport_raises_budget_exceeded(fake_upstream: FakeUpstream) -> None:
    policy = guard.Policy.from_yaml(POLICY.format(limit=0.000001))
    engine = guard.Guard(policy, store="memory://", registry=CollectorRegistry())
    http = httpx.Client(transport=engine.transport())
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1", api_key="k", http_client=http, max_retries=0
    )
    with pytest.raises(guard.BudgetExceeded) as caught, guard.raise_blocked():
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.budget == "team-daily" and caught.value.scope == "tenant"
    assert caught.value.resets_at is not None


@pytest.mark.parametrize("on_error", ["block", "allow"])
def test_a_store_outage_follows_on_error_is_counted_and_shows_in_readyz(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    on_error: str,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(f"on_error: {on_error}\n" + POLICY.format(limit=1.0))
    # Port 1 on loopback refuses at once: the store is down from the start.
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(path),
                        store="redis://:pw@127.0.0.1:1/0")  # fmt: skip
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(proxy.url + "/v1/chat/completions", json=body)
    if on_error == "block":  # fail closed: nothing reaches the upstream unbudgeted
        # The service is unavailable (a 503 the SDKs retry), not the caller's content.
        assert response.status_code == 503 and "budget" in response.json()["error"]["message"]
        assert response.json()["error"]["code"] == "store_unavailable"
        assert fake_upstream.requests == []
    else:
        assert response.status_code == 200
    ready = httpx.get(proxy.url + "/readyz")
    assert ready.status_code == 503 and ready.json()["store"] == {"kind": "redis", "ok": False}
    assert "pw" not in ready.text
    metrics = httpx.get(proxy.url + "/metrics").text
    assert 'guardwire_store_errors_total{store="redis"} 1.0' in metrics


def test_a_starved_store_fails_budget_checks_closed_within_its_deadline(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    """A store that never answers, one pooled connection, three calls at once: the call
    holding the connection and the two waiting for it each end at the store URL's
    deadline (0.5 s), closed, in the API's error shape."""
    import socket
    import time
    from concurrent.futures import ThreadPoolExecutor

    with socket.socket() as stuck:  # listens, never answers
        stuck.bind(("127.0.0.1", 0))
        stuck.listen(16)
        port = stuck.getsockname()[1]
        proxy = start_proxy(
            upstream=fake_upstream.url, policy=policy_file(tmp_path, 1.0),
            store=f"redis://127.0.0.1:{port}/0?max_connections=1&timeout=0.5",
        )  # fmt: skip
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}

        def call(_: int) -> tuple[float, httpx.Response]:
            started = time.monotonic()
            response = httpx.post(proxy.url + "/v1/chat/completions", json=body, timeout=30)
            return time.monotonic() - started, response

        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(call, range(3)))
    for _, response in answers:
        assert response.status_code == 503, response.text
        assert response.json()["error"]["type"] == "server_error"
        assert "budget" in response.json()["error"]["message"]
    assert fake_upstream.requests == []
    # Before: the call holding the connection waited 2 s (redis-py's socket timeout),
    # those behind it 0.5 s for the pool first. Now 0.5 s, and time for the scheduler.
    assert max(elapsed for elapsed, _ in answers) < 1.6


def _settled(proxy: ProxyServer) -> int:
    import time

    from guard.checks._windows import counter_key, scope_value, window_bounds

    window, _ = window_bounds("day", time.time(), "Europe/Berlin")
    store = proxy.app.state.store.sync
    key = counter_key("team-daily", scope_value(None), window, "usd")
    # A stream's settlement runs when the proxy finishes the call, just after the client
    # read the last event: wait for it (bounded) rather than race it.
    deadline = time.monotonic() + 5.0
    while store.reserved(key) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.reserved(key) == 0
    return store.get(key)


def test_streams_settle_with_the_usage_the_provider_streamed(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    fake_upstream.usage_for = lambda payload: (30, 7)
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=policy_file(tmp_path, 1.0), store="memory://"
    )
    chat = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    chunks = list(chat.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    ))  # fmt: skip
    # Usage was asked for upstream, and stripped again: this client did not ask.
    assert fake_upstream.requests[-1].json["stream_options"] == {"include_usage": True}
    assert all(chunk.usage is None for chunk in chunks) and chunks
    assert _settled(proxy) == 30 * 150 + 7 * 600
    messages = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)
    with messages.messages.stream(
        model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        stream.get_final_message()
    # message_start's input tokens and message_delta's output tokens.
    assert _settled(proxy) == 30 * 150 + 7 * 600 + 30 * 1000 + 7 * 5000


def test_the_sync_transport_settles_on_redis(fake_upstream: FakeUpstream) -> None:
    from tests.redis_server import fresh_url

    fake_upstream.usage_for = lambda payload: (30, 7)
    url = fresh_url()
    engine = guard.Guard(
        guard.Policy.from_yaml(POLICY.format(limit=1.0)), store=url, registry=CollectorRegistry()
    )
    http = httpx.Client(transport=engine.transport())
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1", api_key="k", http_client=http, max_retries=0
    )
    for _ in range(3):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    usd = engine.telemetry.registry.get_sample_value(
        "guardwire_budget_spend_usd_total", {"budget": "team-daily", "model": "gpt-4o-mini"}
    )
    assert usd == pytest.approx(3 * (30 * 150 + 7 * 600) / 1e9)
