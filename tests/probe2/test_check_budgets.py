"""Checking text without calling a model spends nothing from a budget.

``guardwire check``, ``POST /guardwire/v1/check``, ``Guard.check_input`` /
``check_output`` and ``guardwire test`` run a policy's stages on text; no model is
called. A policy with a budget reserved for such a call and, since no reply came,
settled the reservation as spent: two ``guardwire check --model gpt-4o "hello"`` runs took
$0.33 of a $25 daily budget (the whole ``max_tokens`` clamp, priced), and a script that
checks every prompt with ``Guard.check_input`` would exhaust it without one model call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks._windows import counter_key, scope_value, window_bounds
from guard.cli import main
from guard.policy_tests import evaluate
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

POLICY = """\
name: budgeted
budgets:
  - name: team-daily
    scope: global
    window: day
    limit_usd: 25.0
"""


def _spent_and_held(store: object) -> tuple[int, int]:
    window, _ = window_bounds("day", time.time(), None)
    key = counter_key("team-daily", scope_value(None), window, "usd")
    return asyncio.run(store.get(key)), asyncio.run(store.reserved(key))  # type: ignore[attr-defined]


def test_in_process_checks_spend_nothing(tmp_path: Path) -> None:
    policy = tmp_path / "budgeted.yaml"
    policy.write_text(POLICY)
    engine = guard.Guard(policy, registry=CollectorRegistry(), store="memory://")
    asyncio.run(engine.store.open())  # as a first model call would (checks need not)
    assert not engine.check_input("hello").blocked
    assert not engine.check_output("hi there").blocked
    evaluation = evaluate(engine, "input", text="hello", model="gpt-4o")
    assert not evaluation.decision.blocked
    assert _spent_and_held(engine.store) == (0, 0)


def test_the_check_endpoint_spends_nothing(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy = tmp_path / "budgeted.yaml"
    policy.write_text(POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    for _ in range(3):
        answer = httpx.post(
            proxy.url + "/guardwire/v1/check",
            json={"stage": "input", "text": "hello", "model": "gpt-4o"},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["action"] == "allow"
    assert not fake_upstream.requests
    assert _spent_and_held(proxy.app.state.store) == (0, 0)


def test_the_cli_check_spends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "budgeted.yaml"
    policy.write_text(POLICY)
    config = tmp_path / "guardwire.yaml"
    # The store Guard() opens by default, in the working directory.
    config.write_text(f"policy: {policy}\nstore: sqlite://guardwire-state.db\n")
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["check", "--policy", str(policy), "--model", "gpt-4o", "hello"]) == 0
    capsys.readouterr()
    assert main(["budgets", "--config", str(config), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["budgets"]
    assert (row["spent"], row["reserved"]) == (0.0, 0.0)
