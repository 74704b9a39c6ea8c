"""A budget store that cannot be reached, seen through the official SDKs: the service is
unavailable, not the caller's content.

The call is answered 503 in the API's own error shape (OpenAI ``server_error``,
Anthropic ``overloaded_error``) with code ``store_unavailable`` and a ``retry-after``, so
both SDKs retry it (they retry any 5xx that does not say ``x-should-retry: false``); it
is counted as outcome ``unavailable``; nothing is sent upstream (fail closed stays the
default); the store URL's password never reaches the error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

POLICY = """\
name: outage
budgets:
  - {name: team-daily, scope: tenant, window: day, limit_usd: 1.0}
"""
#: Port 1 on loopback refuses at once: a Redis that is down. The password must not leak.
REDIS_DOWN = "redis://:hunter2pw@127.0.0.1:1/0"
WORDS = "zebracornflake"


def _stores(tmp: Path) -> dict[str, str]:
    # A file that is not a database where the state should be: SQLite cannot use it.
    unusable = tmp / "state.db"
    unusable.write_bytes(b"this is not an SQLite database\n" * 64)
    return {"redis": REDIS_DOWN, "sqlite": f"sqlite://{unusable}"}


def _openai_call(client: openai.OpenAI) -> Any:
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": WORDS}], max_tokens=20
    )


def _anthropic_call(client: anthropic.Anthropic) -> Any:
    return client.messages.create(
        model="claude-sonnet-4", max_tokens=20, messages=[{"role": "user", "content": WORDS}]
    )


def _assert_unavailable(exc: Any, api: str) -> None:
    assert exc.status_code == 503
    assert exc.response.headers["retry-after"] == "1"
    assert "x-should-retry" not in exc.response.headers
    assert exc.response.headers["x-guardwire-verdict"] == "error"
    body = exc.response.json()
    if api == "openai":
        assert body["error"]["type"] == "server_error"
        assert body["error"]["code"] == "store_unavailable"
    else:
        assert body["error"]["type"] == "overloaded_error"
        assert body["error"]["details"]["error_code"] == "store_unavailable"
    message = body["error"]["message"]
    assert "state store" in message and "budget" in message
    assert "hunter2pw" not in exc.response.text and WORDS not in exc.response.text


@pytest.mark.parametrize("store", ["redis", "sqlite"])
@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_the_proxy_answers_a_store_outage_503_retryable(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    store: str,
    api: str,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=str(policy), store=_stores(tmp_path)[store]
    )
    if api == "openai":
        oai = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
        with pytest.raises(openai.InternalServerError) as caught:
            _openai_call(oai)
    else:
        ant = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)
        with pytest.raises(anthropic.InternalServerError) as caught:
            _anthropic_call(ant)
    _assert_unavailable(caught.value, api)
    assert fake_upstream.requests == []
    metrics = httpx.get(proxy.url + "/metrics").text
    assert 'outcome="unavailable"} 1.0' in metrics
    assert 'outcome="blocked"' not in metrics
    assert "hunter2pw" not in metrics


@pytest.mark.parametrize("store", ["redis", "sqlite"])
@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_the_transport_answers_a_store_outage_503_retryable(
    fake_upstream: FakeUpstream, tmp_path: Path, store: str, api: str
) -> None:
    registry = CollectorRegistry()
    engine = guard.Guard(
        guard.Policy.from_yaml(POLICY), store=_stores(tmp_path)[store], registry=registry
    )
    http = httpx.Client(transport=engine.transport())
    if api == "openai":
        oai = openai.OpenAI(
            base_url=fake_upstream.url + "/v1", api_key="k", http_client=http, max_retries=0
        )
        with pytest.raises(openai.InternalServerError) as caught:
            _openai_call(oai)
    else:
        ant = anthropic.Anthropic(
            base_url=fake_upstream.url,
            api_key="k",
            http_client=httpx2.Client(transport=engine.transport()),
            max_retries=0,
        )
        with pytest.raises(anthropic.InternalServerError) as caught:
            _anthropic_call(ant)
    _assert_unavailable(caught.value, api)
    assert fake_upstream.requests == []
    fmt = "openai.chat" if api == "openai" else "anthropic.messages"
    labels = {"frontend": "transport", "format": fmt, "outcome": "unavailable"}
    assert registry.get_sample_value("guardwire_calls_total", labels) == 1
    assert registry.get_sample_value("guardwire_store_errors_total", {"store": store}) == 1


def test_the_sdk_retries_a_store_outage(fake_upstream: FakeUpstream) -> None:
    """One retry after the 1 s ``retry-after`` (the only slow part, ~1 s): the SDK took
    the 503 as retryable, where it gave up at once on the 400 before."""
    registry = CollectorRegistry()
    engine = guard.Guard(guard.Policy.from_yaml(POLICY), store=REDIS_DOWN, registry=registry)
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1",
        api_key="k",
        http_client=httpx.Client(transport=engine.transport()),
        max_retries=1,
    )
    with pytest.raises(openai.InternalServerError):
        _openai_call(client)
    labels = {"frontend": "transport", "format": "openai.chat", "outcome": "unavailable"}
    assert registry.get_sample_value("guardwire_calls_total", labels) == 2
    assert fake_upstream.requests == []


def test_on_error_allow_still_sends_the_call_unbudgeted(
    fake_upstream: FakeUpstream,
) -> None:
    engine = guard.Guard(
        guard.Policy.from_yaml("on_error: allow\n" + POLICY),
        store=REDIS_DOWN,
        registry=CollectorRegistry(),
    )
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1",
        api_key="k",
        http_client=httpx.Client(transport=engine.transport()),
        max_retries=0,
    )
    assert _openai_call(client).choices[0].message.content
    assert len(fake_upstream.requests) == 1


def test_the_transport_answers_a_locked_sqlite_store_503(
    fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    """Another process holds the database locked past the store's busy timeout."""
    import sqlite3

    from guard.stores.sqlite import SQLiteStore

    path = tmp_path / "state.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        registry = CollectorRegistry()
        store = SQLiteStore(path, busy_timeout=0.1)
        engine = guard.Guard(guard.Policy.from_yaml(POLICY), store=store, registry=registry)
        client = openai.OpenAI(
            base_url=fake_upstream.url + "/v1",
            api_key="k",
            http_client=httpx.Client(transport=engine.transport()),
            max_retries=0,
        )
        with pytest.raises(openai.InternalServerError) as caught:
            _openai_call(client)
    finally:
        holder.rollback()
        holder.close()
    _assert_unavailable(caught.value, "openai")
    assert fake_upstream.requests == []
