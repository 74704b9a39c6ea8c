"""A chat call asking for ``n`` choices is reserved for ``n`` replies.

The upstream bounds each choice by ``max_tokens``, so a call with ``n: 8`` may cost eight
times the output a ``max_tokens`` reservation covers. Before, the budget reserved (and
clamped) one reply's worth whatever ``n`` said: with 2,000 tokens left, calls of
``n: 8, max_tokens: 100`` kept being granted ~120 tokens and spent ~810 each, and the
provider billed 2,430 tokens against a 2,000-token ceiling ("spend never passes it").
Now the output reservation is ``n`` × ``max_tokens``, and a clamp divides what is left
between the choices.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

LIMIT = 2000
POLICY = f"""\
name: choices
budgets:
  - {{name: tokens, scope: global, window: day, limit_tokens: {LIMIT}}}
"""


def test_n_choices_never_pass_the_ceiling(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    billed: list[tuple[int, int]] = []

    def usage(payload: dict[str, Any]) -> tuple[int, int]:
        # Every choice uses its whole max_tokens: the worst case the provider may bill.
        used = (10, int(payload.get("n", 1)) * int(payload["max_tokens"]))
        billed.append(used)
        return used

    fake_upstream.usage_for = usage
    policy = tmp_path / "choices.yaml"
    policy.write_text(POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    body = {"model": "gpt-4o-mini", "n": 8, "max_tokens": 100,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    statuses = []
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        for _ in range(6):
            statuses.append(client.post("/v1/chat/completions", json=body).status_code)
    assert 200 in statuses and 429 in statuses, statuses
    assert sum(i + o for i, o in billed) <= LIMIT, (billed, statuses)
    # A clamp divides what is left between the choices (never below a short reply each).
    assert all(o % 8 == 0 and o // 8 >= 16 for _, o in billed), billed


def test_one_choice_is_reserved_as_before(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    fake_upstream.usage_for = lambda payload: (10, int(payload["max_tokens"]))
    policy = tmp_path / "choices.yaml"
    policy.write_text(POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    body = {"model": "gpt-4o-mini", "max_tokens": 100,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    response = httpx.post(proxy.url + "/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert "x-guardwire-max-tokens-clamped" not in response.headers
    assert fake_upstream.requests[-1].json["max_tokens"] == 100


def test_n_that_is_not_an_integer_is_refused(upstream_proxy: ProxyServer) -> None:
    """Lenient upstreams (pydantic's lax mode: vLLM, LiteLLM) read ``"8"`` or ``8.0`` as 8
    choices; the budget would have reserved for one."""
    for n in ("8", 8.0, True):
        body = {"model": "m", "n": n, "messages": [{"role": "user", "content": "hi"}]}
        response = httpx.post(upstream_proxy.url + "/v1/chat/completions", json=body)
        assert response.status_code == 400, (n, response.text)
        assert response.json()["error"]["message"] == "'n' must be an integer"
