"""The shipped monitoring files: valid for promtool and structurally sound for Grafana.

Grafana cannot be installed here, so the dashboard is checked for what Grafana needs
(datasource on every panel and target, known units, layout) and its queries are parsed
by promtool; tests/e2e/test_prometheus.py runs them against a real Prometheus.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from tests.prometheus_tools import (
    DASHBOARD,
    METRICS,
    RULE_FILES,
    alert_signal,
    dashboard,
    dashboard_queries,
    promtool,
    rules,
)
from tests.test_telemetry import catalogue

_DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
#: Grafana unit ids the dashboard may use.
_UNITS = {"reqps", "percentunit", "s", "short", "none"}


def test_promtool_accepts_the_config_and_rule_files() -> None:
    checked = promtool("check", "config", str(METRICS / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    checked = promtool("check", "rules", *map(str, RULE_FILES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    # promtool parses PromQL of rule files: wrap each query in a recording rule.
    queries = dashboard_queries()
    group = {"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{n}", "expr": expr} for n, expr in enumerate(queries)
    ]}  # fmt: skip
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [group]}))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(queries)} rules found" in checked.stdout


def test_dashboard_panels_have_a_datasource_targets_units_and_a_place() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["job"]["datasource"] == _DATASOURCE
    ids, cells = set(), set()
    for panel in board["panels"]:
        assert panel["id"] not in ids
        ids.add(panel["id"])
        assert panel["datasource"] == _DATASOURCE, panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"] in _UNITS, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(set(refs)) == len(refs), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == _DATASOURCE, panel["title"]
            assert target["expr"].strip() and "legendFormat" in target
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"panel {panel['title']!r} overlaps another"
                cells.add((x, y))


def test_dashboard_covers_what_operators_watch() -> None:
    text = DASHBOARD.read_text()
    for needed in (
        "guardwire_calls_total",  # traffic by outcome
        "guardwire_verdicts_total",  # block/redact by check
        "guardwire_added_duration_seconds_bucket",  # added latency p50/p99
        "guardwire_upstream_duration_seconds_bucket",  # upstream latency
        'status!=\\"2xx\\"',  # upstream errors
        "guardwire_check_duration_seconds_bucket",  # check latency
        "guardwire_policy_info",  # policy version per replica
    ):
        assert needed in text, needed


def test_files_name_only_catalogued_metrics() -> None:
    known = set(catalogue(CollectorRegistry()))
    texts = [DASHBOARD.read_text(), *(path.read_text() for path in RULE_FILES)]
    used = {m for text in texts for m in re.findall(r"(?<![\w:])guardwire_[a-z_]+(?![\w:])", text)}
    suffixes = ("_bucket", "_count", "_sum")
    for metric in used:
        base = next((metric.removesuffix(s) for s in suffixes if metric.endswith(s)), metric)
        assert metric in known or base in known, f"{metric} is not in the catalogue"


@pytest.mark.parametrize("alert", rules(RULE_FILES[1]), ids=lambda rule: rule["alert"])
def test_alerts_compare_a_signal_with_a_threshold_and_explain_themselves(alert: dict) -> None:  # type: ignore[type-arg]
    assert alert_signal(alert["expr"])
    assert alert["labels"]["severity"] in ("warning", "critical")
    assert alert["annotations"]["summary"]


def test_the_required_alerts_exist() -> None:
    names = {rule["alert"] for rule in rules(RULE_FILES[1])}
    assert {
        "GuardwireBlockRateHigh",
        "GuardwireCheckErrors",
        "GuardwireUpstreamErrors",
        "GuardwireAddedLatencySLO",
        "GuardwirePolicyDiverged",
    } <= names
