"""A budget's ceiling holds whatever ``max_tokens`` a client sends.

A zero or negative ``max_tokens`` is no bound: an upstream that takes it for "no limit"
(some OpenAI-compatible servers do) replies at any length, and the reservation made for
it (zero or less output) let spend run far past the ceiling (40x in the probe). The budget
reserves and forwards its own clamp instead, as when no ``max_tokens`` is sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard.checks._windows import counter_key, scope_value, window_bounds
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

LIMIT_USD = 0.003
POLICY = f"""\
name: budgets
budgets:
  - name: team-daily
    scope: tenant
    window: day
    limit_usd: {LIMIT_USD}
"""
LIMIT_FIELD = {
    "/v1/chat/completions": "max_tokens",
    "/v1/messages": "max_tokens",
    "/v1/responses": "max_output_tokens",
}


def _body(path: str, field: str, limit: int) -> dict[str, Any]:
    if path == "/v1/responses":
        return {"model": "gpt-4o-mini", "input": "q", field: limit}
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "q"}], field: limit}


@pytest.mark.parametrize(
    ("path", "field"),
    [*LIMIT_FIELD.items(), ("/v1/chat/completions", "max_completion_tokens")],
)
@pytest.mark.parametrize("limit", [0, -5])
def test_a_non_positive_max_tokens_cannot_pass_the_ceiling(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    path: str,
    field: str,
    limit: int,
) -> None:
    forwarded: list[object] = []

    def lenient_usage(payload: dict[str, Any]) -> tuple[int, int]:
        bound = payload.get(field)
        forwarded.append(bound)
        # Like a server that reads a bound below 1 as "no limit".
        return 20, 3000 if not isinstance(bound, int) or bound < 1 else min(bound, 3000)

    fake_upstream.usage_for = lenient_usage
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    statuses = [
        httpx.post(proxy.url + path, json=_body(path, field, limit), timeout=10).status_code
        for _ in range(5)
    ]
    assert 200 in statuses and 429 in statuses
    assert forwarded and all(isinstance(b, int) and b >= 1 for b in forwarded), forwarded
    window, _ = window_bounds("day", time.time(), None)
    key = counter_key("team-daily", scope_value(None), window, "usd")
    store = proxy.app.state.store
    assert asyncio.run(store.reserved(key)) == 0
    assert asyncio.run(store.get(key)) <= round(LIMIT_USD * 1e9)
