"""The SDK's own read timeout, in the in-process transport, ends a call the way the
proxy ends an upstream timeout: outcome ``upstream_error`` with status 504 (the proxy's
``upstream_timeout``), settled as a timed-out call (the request was sent: the provider
may have billed it, so the same estimate is charged) and nothing left reserved.

Before, the transport recorded the call with no status (200 in the audit log) and
released its reservation as if the request had never been sent, so the same fault cost
a budget something through the proxy and nothing through the transport.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.probe3._upstream import BUDGET_POLICY, Faulty, call, faulty_upstream, frontend_for

#: The SDK's timeout here: the upstream answers nothing for 3 s.
SDK_TIMEOUT = 0.3
PROMPT: Any = [{"role": "user", "content": "tell me a story"}]


@pytest.fixture(scope="module")
def silent_upstream() -> Iterator[Faulty]:
    with faulty_upstream() as faulty:
        faulty.fault = "read_timeout"
        yield faulty


def _engine(tmp_path: Path) -> guard.Guard:
    return guard.Guard(
        guard.Policy.from_yaml(BUDGET_POLICY),
        registry=CollectorRegistry(),
        store="memory://",
        audit=tmp_path / "audit.jsonl",
    )


def _audited(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if json.loads(line).get("outcome")]


def _reserved_and_spent(engine: guard.Guard) -> tuple[int, int]:
    from guard.checks._windows import counter_key, scope_value, window_bounds

    window, _ = window_bounds("day", time.time(), None)
    key = counter_key("daily", scope_value(None), window, "usd")
    return int(engine.store.sync.reserved(key)), int(engine.store.sync.get(key))


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_a_read_timeout_is_a_504_upstream_timeout(
    silent_upstream: Faulty, tmp_path: Path, stream: bool
) -> None:
    engine = _engine(tmp_path)
    http = httpx2.Client(transport=engine.transport(), timeout=SDK_TIMEOUT)
    client = openai.OpenAI(
        base_url=silent_upstream.url + "/v1", api_key="k", max_retries=0, http_client=http
    )
    with pytest.raises(openai.APITimeoutError):
        if stream:
            list(client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT, stream=True))
        else:
            client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
    (line,) = _audited(tmp_path)
    assert (line["outcome"], line["status"]) == ("upstream_error", 504)
    reserved, spent = _reserved_and_spent(engine)
    assert reserved == 0
    assert spent > 0  # sent, then timed out: settled from the estimate, as the proxy does


def test_the_async_transport_records_a_read_timeout_as_a_504(
    silent_upstream: Faulty, tmp_path: Path
) -> None:
    engine = _engine(tmp_path)

    async def ask() -> None:
        http = httpx2.AsyncClient(transport=engine.async_transport(), timeout=SDK_TIMEOUT)
        client = openai.AsyncOpenAI(
            base_url=silent_upstream.url + "/v1", api_key="k", max_retries=0, http_client=http
        )
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
        await http.aclose()

    asyncio.run(ask())
    (line,) = _audited(tmp_path)
    assert (line["outcome"], line["status"]) == ("upstream_error", 504)
    assert _reserved_and_spent(engine)[0] == 0


def test_proxy_and_transport_charge_a_read_timeout_alike(
    silent_upstream: Faulty, start_proxy: Callable[..., ProxyServer], tmp_path: Path
) -> None:
    """The same fault, through both frontends (the proxy's read timeout is 1 s, the
    transport's SDK timeout 1 s): the same outcome, nothing reserved, the same charge."""
    settled = []
    for frontend in ("proxy", "transport"):
        (tmp_path / frontend).mkdir()
        clients = frontend_for(frontend, silent_upstream.url, tmp_path / frontend, start_proxy)
        with pytest.raises((openai.APITimeoutError, openai.InternalServerError)):
            call(clients, "chat", stream=False)
        settled.append((clients.settled(calls=1), clients.calls()))
    (proxy_money, proxy_calls), (transport_money, transport_calls) = settled
    assert proxy_calls == transport_calls == {"upstream_error": 1.0}
    assert proxy_money[0] == transport_money[0] == 0
    assert proxy_money[1] == transport_money[1] > 0


def test_a_read_timeout_mid_stream_ends_with_the_upstream_timeout_event(tmp_path: Path) -> None:
    """The stream started (headers came), then a byte every 0.25 s: the SDK's 0.2 s read
    timeout fires inside the body. The stream ends with the API's error event, code
    ``upstream_timeout`` as the proxy's (it said "broke off the stream (ReadTimeout)")."""
    with faulty_upstream() as dripping:
        dripping.fault = "slow_loris"
        engine = _engine(tmp_path)
        http = httpx2.Client(transport=engine.transport(), timeout=0.2)
        client = openai.OpenAI(
            base_url=dripping.url + "/v1", api_key="k", max_retries=0, http_client=http
        )
        with pytest.raises(openai.APIError) as raised:
            list(client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT, stream=True))
        http.close()
    assert not isinstance(raised.value, openai.APITimeoutError)
    assert "did not send the rest of its reply in time" in str(raised.value)
    assert getattr(raised.value, "code", None) == "upstream_timeout"
    (line,) = _audited(tmp_path)
    assert line["outcome"] == "upstream_error"
