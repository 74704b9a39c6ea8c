"""A chat request that sends both ``max_completion_tokens`` and ``max_tokens`` is reserved
for the larger, and a clamp bounds both.

Upstreams disagree on which one they honour: OpenAI reads the newer field, but several
OpenAI-compatible servers read only ``max_tokens``. Before, the budget reserved by
``max_completion_tokens`` alone: ``max_completion_tokens: 16, max_tokens: 1000`` was
granted 16 tokens while such an upstream wrote up to 1,000, and complete calls (which no
stream meter cuts) passed a 2,000-token ceiling.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

LIMIT = 2000
POLICY = f"""\
name: bounds
budgets:
  - {{name: tokens, scope: global, window: day, limit_tokens: {LIMIT}}}
"""


@pytest.mark.parametrize("honoured", ["max_tokens", "max_completion_tokens"])
def test_either_bound_an_upstream_honours_keeps_the_ceiling(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    honoured: str,
) -> None:
    billed: list[int] = []

    def usage(payload: dict[str, Any]) -> tuple[int, int]:
        billed.append(10 + int(payload[honoured]))  # the reply uses all it may
        return 10, int(payload[honoured])

    fake_upstream.usage_for = usage
    policy = tmp_path / "bounds.yaml"
    policy.write_text(POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    body = {"model": "gpt-4o-mini", "max_completion_tokens": 16, "max_tokens": 1000,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        statuses = [client.post("/v1/chat/completions", json=body).status_code for _ in range(8)]
    assert 200 in statuses, statuses
    assert sum(billed) <= LIMIT, (billed, statuses)


@pytest.mark.parametrize(
    "sent",
    [
        {"max_completion_tokens": 0, "max_tokens": 50},  # zero bounds nothing
        {"max_completion_tokens": 30, "max_tokens": 9000},
        {"max_completion_tokens": 9000, "max_tokens": 30},
        {"max_tokens": 9000},
        {"max_completion_tokens": 9000},
        {"max_completion_tokens": 30, "max_tokens": 60},  # within the budget: unchanged
    ],
)
def test_a_clamp_bounds_every_field_sent(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    sent: dict[str, int],
) -> None:
    policy = tmp_path / "bounds.yaml"
    policy.write_text(POLICY.replace(str(LIMIT), "5000"))
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    body = {"model": "gpt-4o-mini", **sent, "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(proxy.url + "/v1/chat/completions", json=body)
    assert response.status_code == 200
    clamp = response.headers.get("x-guardwire-max-tokens-clamped")
    assert (clamp is None) == (sent == {"max_completion_tokens": 30, "max_tokens": 60})
    got = fake_upstream.requests[-1].json
    for name, value in sent.items():
        if clamp is None:
            assert got[name] == value, got
        else:
            assert got[name] == (min(value, int(clamp)) if value >= 1 else int(clamp)), got
