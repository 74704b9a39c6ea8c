"""A budget refusal waits for its window: its ``retry-after`` can be hours. The anthropic
SDK sleeps for any ``retry-after`` it is given before it retries (the openai SDK only
up to two minutes), so a budget-refused call hung for the rest of the day. Refusals whose
wait is longer than a retry should take say ``x-should-retry: false``, which both SDKs
obey; a short wait (a per-minute window) is still retried.

The waits the SDKs choose are recorded, not slept, so a regression fails instead of
hanging.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

DAY_BUDGET = """\
name: budgets
budgets:
  - name: team-daily
    scope: tenant
    window: day
    limit_usd: 0.0000001
"""


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the SDKs chose before a retry (each then retries at once)."""
    waits: list[float] = []
    for module in (anthropic._base_client, openai._base_client):
        chosen = module.BaseClient._calculate_retry_timeout

        def record(self: Any, *args: Any, chosen: Any = chosen, **kwargs: Any) -> float:
            waits.append(chosen(self, *args, **kwargs))
            return 0.0

        monkeypatch.setattr(module.BaseClient, "_calculate_retry_timeout", record)
    return waits


def _ask_both(anthropic_client: anthropic.Anthropic, openai_client: openai.OpenAI) -> None:
    with pytest.raises(anthropic.RateLimitError) as refused:
        anthropic_client.messages.create(
            model="gpt-4o-mini", max_tokens=10, messages=[{"role": "user", "content": "q"}]
        )
    assert refused.value.response.headers["x-should-retry"] == "false"
    assert int(refused.value.response.headers["retry-after"]) > 120
    with pytest.raises(openai.RateLimitError) as rate_limited:
        openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "q"}]
        )
    assert rate_limited.value.code == "budget_exceeded"


def test_the_sdks_do_not_sleep_on_a_budget_refusal_through_the_proxy(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    sleeps: list[float],
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(DAY_BUDGET)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    _ask_both(
        anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=2),
        openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=2),
    )
    assert sleeps == []
    assert fake_upstream.requests == []


def test_the_sdks_do_not_sleep_on_a_budget_refusal_in_process(
    fake_upstream: FakeUpstream, tmp_path: Path, sleeps: list[float]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(DAY_BUDGET)
    client = httpx2.Client(transport=guard.transport(str(policy), store="memory://"))
    _ask_both(
        anthropic.Anthropic(base_url=fake_upstream.url, api_key="k", http_client=client),
        openai.OpenAI(base_url=fake_upstream.url + "/v1", api_key="k", http_client=client),
    )
    assert sleeps == []
    assert fake_upstream.requests == []
