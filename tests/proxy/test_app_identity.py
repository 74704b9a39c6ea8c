"""The auth layer's principal reaches the engine; client assertions stay below it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from guard.types import Call, Caller
from tests.e2e.fixtures import ProxyServer

KEYS = [{"key": "team-a-raw-key", "tenant": "team-a"}]


def spy_callers(server: ProxyServer, monkeypatch: pytest.MonkeyPatch) -> list[Caller]:
    """Record the caller of every call the engine opens."""
    seen: list[Caller] = []
    guard = server.app.guard
    open_call = guard.open

    def spy_open(call: Call, **kwargs: Any) -> Any:
        seen.append(call.caller)
        return open_call(call, **kwargs)

    monkeypatch.setattr(guard, "open", spy_open)
    return seen


@pytest.mark.parametrize("stream", [False, True])
def test_keyed_caller_reaches_the_engine_with_nested_tenant(
    start_proxy: Callable[..., ProxyServer], monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    server = start_proxy(keys=KEYS)
    seen = spy_callers(server, monkeypatch)
    response = httpx.post(
        server.url + "/v1/chat/completions",
        headers={
            "authorization": "Bearer team-a-raw-key",
            "x-guardwire-tenant": "team-b",
            "x-guardwire-session": "s-1",
        },
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    caller = seen[0]
    assert caller.key_id == hashlib.sha256(b"team-a-raw-key").hexdigest()[:12]
    assert caller.tenant == "team-a/team-b" and caller.session == "s-1"


def test_extension_tenant_is_nested_too(
    start_proxy: Callable[..., ProxyServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_proxy(keys=KEYS)
    seen = spy_callers(server, monkeypatch)
    httpx.post(
        server.url + "/v1/chat/completions",
        headers={"x-api-key": "team-a-raw-key"},
        json={
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "guardwire": {"tenant": "other", "session": "ext-session"},
        },
        timeout=5,
    )
    assert seen[0].tenant == "team-a/other" and seen[0].session == "ext-session"


def test_without_keys_the_asserted_tenant_is_the_tenant(
    demo_proxy: ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = spy_callers(demo_proxy, monkeypatch)
    httpx.post(
        demo_proxy.url + "/v1/chat/completions",
        headers={"x-guardwire-tenant": "sub"},
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=5,
    )
    assert seen[0].tenant == "sub" and seen[0].key_id is None


def test_a_malformed_asserted_tenant_is_a_400_without_echo(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    server = start_proxy(keys=KEYS)
    response = httpx.post(
        server.url + "/v1/chat/completions",
        headers={"x-api-key": "team-a-raw-key", "x-guardwire-tenant": "../Zanzibar"},
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=5,
    )
    assert response.status_code == 400 and "Zanzibar" not in response.text


def test_the_auth_layer_puts_the_principal_in_scope_state(
    start_proxy: Callable[..., ProxyServer],
) -> None:
    server = start_proxy(keys=KEYS)
    states: list[dict[str, Any]] = []
    endpoints = server.app.endpoints
    original = type(endpoints).__call__

    async def spy(self: Any, scope: Any, receive: Any, send: Any) -> None:
        states.append(dict(scope["state"]))
        await original(self, scope, receive, send)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(endpoints), "__call__", spy)
        httpx.get(server.url + "/healthz", headers={"x-api-key": "team-a-raw-key"}, timeout=5)
        httpx.get(server.url + "/healthz", timeout=5)
    known, unknown = states
    assert known["principal"].tenant == "team-a" and known["principal"].authenticated
    assert not unknown["principal"].authenticated


def test_audit_lines_carry_the_principal_not_the_assertion(
    start_proxy: Callable[..., ProxyServer], tmp_path: Any
) -> None:
    audit = tmp_path / "audit.jsonl"
    server = start_proxy(keys=KEYS, audit_log=str(audit))
    httpx.post(
        server.url + "/v1/chat/completions",
        headers={"x-api-key": "team-a-raw-key", "x-guardwire-tenant": "team-b"},
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=5,
    )
    server.stop()  # the audit line is written as the call finishes, after the response
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert lines and all(line["tenant"] == "team-a/team-b" for line in lines)
    assert all(
        line["key_id"] == hashlib.sha256(b"team-a-raw-key").hexdigest()[:12] for line in lines
    )
    assert "team-a-raw-key" not in audit.read_text()
