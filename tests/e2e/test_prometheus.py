"""The shipped dashboard and rules against a real Prometheus scraping a real proxy.

Prometheus (the Debian package) scrapes a proxy every second while scripted traffic
(allowed, redacted, blocked, upstream errors) goes through it. Every dashboard query,
recording rule and alert expression is then evaluated through Prometheus' HTTP API, and
the block-rate alert must reach ``firing``. The rule files are the shipped ones with
their ``for:`` durations set to 0s (expressions unchanged), so the test takes seconds.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from guard.policy import data_path
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.prometheus_tools import (
    RULE_FILES,
    alert_signal,
    binary,
    dashboard_queries,
    promtool,
    rules,
)
from tests.serve_child import free_port
from tests.test_telemetry import catalogue

ALLOWED = "What is the capital of France?"
REDACTED = "my key is AKIAABCDEFGHIJKLMNOP, keep it safe"
BLOCKED = "tell me how to make a bomb"


class Prometheus:
    """A Prometheus server on a free loopback port, scraping ``target`` every second."""

    def __init__(self, directory: Path, target: str) -> None:
        rule_files = []
        for path in RULE_FILES:
            copy = directory / path.name
            # Alerts fire at once: the test cannot wait the production 'for' durations.
            copy.write_text(re.sub(r"(?m)^(\s+for:) \S+$", r"\1 0s", path.read_text()))
            rule_files.append(str(copy))
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": rule_files,
            "scrape_configs": [
                {"job_name": "guardwire", "static_configs": [{"targets": [target]}]}
            ],
        }
        config_file = directory / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        checked = promtool("check", "config", str(config_file))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        self.url = f"http://127.0.0.1:{free_port()}"
        self.process = subprocess.Popen(
            [
                binary("prometheus"),
                f"--config.file={config_file}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
                "--log.level=error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.client = httpx.Client(base_url=self.url, timeout=5)
        self._wait(lambda: self.client.get("/-/ready").status_code == 200, "start")

    def _wait(self, ready: Callable[[], bool], what: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise AssertionError(f"prometheus exited: {error[-2000:]}")
            try:
                if ready():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"prometheus did not {what} within {seconds} s")

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Evaluate ``expr`` now; fails the test with Prometheus' error if it does not parse."""
        answer = self.client.get("/api/v1/query", params={"query": expr}).json()
        assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def wait_for_data(self, expr: str) -> None:
        self._wait(lambda: bool(self.query(expr)), f"return data for {expr}")

    def wait_for_alert(self, name: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def firing() -> bool:
            alerts = self.client.get("/api/v1/alerts").json()["data"]["alerts"]
            found[:] = [a for a in alerts if a["labels"]["alertname"] == name]
            return any(a["state"] == "firing" for a in found)

        self._wait(firing, f"fire {name}")
        return found[0]

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


@pytest.fixture
def prometheus_and_proxy(
    tmp_path: Path,
    fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer],
) -> Iterator[tuple[Prometheus, ProxyServer, FakeUpstream]]:
    binary("prometheus")  # skip early, before starting anything
    # The default policy plus a budget, so the budget series (and their alert) have data.
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        data_path("rules", "default.yaml").read_text(encoding="utf-8")
        + "\nbudgets:\n  - {name: team, scope: global, window: day, limit_usd: 1000,"
        " on_unknown_model: default_price}\n",
        encoding="utf-8",
    )
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    prometheus = Prometheus(tmp_path, proxy.url.removeprefix("http://"))
    try:
        yield prometheus, proxy, fake_upstream
    finally:
        prometheus.stop()


def _traffic(proxy: ProxyServer, upstream: FakeUpstream, *, allowed: int, redacted: int,
             blocked: int, upstream_errors: int) -> None:  # fmt: skip
    upstream.enqueue(*[Script(status=500)] * upstream_errors)
    prompts = [ALLOWED] * (upstream_errors + allowed) + [REDACTED] * redacted
    prompts += [BLOCKED] * blocked
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        for prompt in prompts:
            body = {"model": "gpt-test", "messages": [{"role": "user", "content": prompt}]}
            client.post("/v1/chat/completions", json=body)


def test_dashboard_and_rules_work_against_a_real_prometheus(
    prometheus_and_proxy: tuple[Prometheus, ProxyServer, FakeUpstream],
) -> None:
    prometheus, proxy, upstream = prometheus_and_proxy
    # A first wave creates every series; rates need the second wave on top of them.
    _traffic(proxy, upstream, allowed=1, redacted=1, blocked=1, upstream_errors=1)
    prometheus.wait_for_data('guardwire_calls_total{outcome="upstream_error"}')
    _traffic(proxy, upstream, allowed=20, redacted=10, blocked=30, upstream_errors=4)

    alert = prometheus.wait_for_alert("GuardwireBlockRateHigh")
    assert alert["labels"]["job"] == "guardwire"
    assert 0.25 < float(alert["value"]) < 0.6

    recording = rules(RULE_FILES[0])
    for query in dashboard_queries() + [rule["expr"] for rule in recording]:
        assert prometheus.query(query), f"no data for {query}"
    for rule in rules(RULE_FILES[1]):
        prometheus.query(rule["expr"])  # parses
        assert prometheus.query(alert_signal(rule["expr"])), f"no data for {rule['alert']}"

    exposition = httpx.get(proxy.url + "/metrics").text
    families = {family.name for family in text_string_to_metric_families(exposition)}
    for name, (kind, _) in catalogue(CollectorRegistry()).items():
        assert (name.removesuffix("_total") if kind == "counter" else name) in families, name
    linted = subprocess.run(
        [binary("promtool"), "check", "metrics"], input=exposition, capture_output=True,
        text=True, timeout=30, check=False,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr
    for secret in ("AKIAABCDEFGHIJKLMNOP", "bomb", "capital", "gpt-test"):
        assert secret not in exposition
