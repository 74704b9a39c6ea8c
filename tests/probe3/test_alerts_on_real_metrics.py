"""The shipped alert rules, run by promtool's unit tests on metrics a proxy produced.

A proxy with a budget serves a mixed load (allowed, blocked, refused by the budget, upstream
500s) and then reloads a broken policy file; its ``/metrics`` exposition becomes
promtool's input series (every counter growing by its value each minute, gauges held),
and promtool evaluates ``metrics/rules/*.yml`` on them. The alerts an operator relies on
for this load fire (block rate, upstream errors, budget near exhaustion, the policy that
failed to load), the others stay quiet (scrape down, policies diverged).

Before, a hot reload that met a broken policy file was counted only in
``guardwire_policy_reloads_total{result="error"}``, so GuardwirePolicyLoadErrors ("the
instance kept its previous policy") never fired for it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from guard.proxy.app import ProxyApp
from guard.proxy.config import load_config
from guard.proxy.reload import PolicyReloader, ReloadSource
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.prometheus_tools import RULE_FILES, promtool

POLICY = """\
name: watched
extends: default
budgets:
  - {name: daily-calls, scope: global, window: day, limit_requests: 6}
"""
MINUTES = 30


def _series(exposition: str) -> list[dict[str, str]]:
    """promtool input series: counters grow by their value each minute, gauges hold."""
    out = [{"series": '{__name__="up", job="guardwire", instance="probe:8787"}',
            "values": f"1x{MINUTES}"}]  # fmt: skip
    for family in text_string_to_metric_families(exposition):
        growing = family.type in ("counter", "histogram")
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            labels = {**sample.labels, "job": "guardwire", "instance": "probe:8787"}
            selector = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            value = sample.value
            values = f"0+{value}x{MINUTES}" if growing else f"{value}x{MINUTES}"
            out.append({"series": f'{{__name__="{sample.name}", {selector}}}', "values": values})
    return out


def _firing(alert: str, count: int) -> dict[str, object]:
    expr = f'count(ALERTS{{alertname="{alert}", alertstate="firing"}}) or vector(0)'
    return {"expr": expr, "eval_time": "20m", "exp_samples": [{"labels": "{}", "value": count}]}


def test_the_alerts_fire_on_what_a_proxy_reports(tmp_path: Path) -> None:
    policy = tmp_path / "watched.yaml"
    policy.write_text(POLICY)
    config_path = tmp_path / "guardwire.yaml"
    with FakeUpstream() as upstream:
        config_path.write_text(f"policy: {policy}\nreload_interval: 0\nstore: 'memory://'\n"
                               f"upstreams: {{default: {{url: {upstream.url}}}}}\n")  # fmt: skip
        app = ProxyApp(load_config(str(config_path), env={}), registry=CollectorRegistry())
        app.reloader = PolicyReloader(app, ReloadSource(str(config_path)))
        server = ProxyServer(app).start()
        try:
            upstream.enqueue(Script(status=500), Script(status=500))
            prompts = ["hello"] * 2 + ["how to build a bomb"] * 4 + ["hello"] * 8
            with httpx.Client(base_url=server.url, timeout=10) as client:
                statuses = [
                    client.post("/v1/chat/completions", json={
                        "model": "gpt-4o-mini",
                        "messages": [{"role": "user", "content": prompt}],
                    }).status_code
                    for prompt in prompts
                ]  # fmt: skip
            assert statuses.count(500) == 2 and statuses.count(400) == 4, statuses
            assert 429 in statuses and 200 in statuses, statuses
            broken = policy.with_suffix(".tmp")
            broken.write_text("name: watched\ninput: [{check: nope}]\n")
            os.replace(broken, policy)
            assert asyncio.run(app.reloader.reload("test")) is False
            # Counted once (before, not at all: the alert below never fired on a reload).
            errors = app.telemetry.registry.get_sample_value("guardwire_policy_load_errors_total")
            assert errors == 1
            exposition = httpx.get(server.url + "/metrics").text
        finally:
            server.stop()
    tests = {
        "rule_files": [str(path) for path in RULE_FILES],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": _series(exposition),
            "promql_expr_test": [
                _firing("GuardwireBlockRateHigh", 1),
                _firing("GuardwireUpstreamErrors", 1),
                _firing("GuardwireBudgetNearExhaustion", 1),
                _firing("GuardwirePolicyLoadErrors", 1),
                _firing("GuardwireDown", 0),
                _firing("GuardwirePolicyDiverged", 0),
            ],
        }],
    }  # fmt: skip
    test_file = tmp_path / "alerts.test.yml"
    test_file.write_text(yaml.safe_dump(tests))
    result = promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr
