"""A state-store outage pages: with the budget's SQLite file unusable, every budgeted call
is a 503 ``store_unavailable``; the shipped alert rules, run by promtool on the proxy's
own ``/metrics``, fire GuardwireStoreErrors (critical) beside GuardwireCheckErrors, and
nothing else.

Before, metrics/README.md listed a store-errors alert that metrics/rules/alerts.yml did
not have: an outage that refused every budgeted call raised only the check-errors
warning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import yaml

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream
from tests.probe3.test_alerts_on_real_metrics import _firing, _series
from tests.prometheus_tools import RULE_FILES, promtool

POLICY = """\
name: watched
budgets:
  - {name: daily, scope: global, window: day, limit_usd: 5}
"""
FIRING = ("GuardwireStoreErrors", "GuardwireCheckErrors")
QUIET = ("GuardwireBlockRateHigh", "GuardwireUpstreamErrors",
          "GuardwireAddedLatencySLO", "GuardwirePolicyDiverged", "GuardwirePolicyLoadErrors",
          "GuardwireBudgetNearExhaustion", "GuardwireDown")  # fmt: skip


def test_a_store_outage_fires_an_alert(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy = tmp_path / "watched.yaml"
    policy.write_text(POLICY)
    unusable = tmp_path / "state.db"
    unusable.write_bytes(b"this is not an SQLite database\n" * 64)
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=str(policy), store=f"sqlite://{unusable}"
    )
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        statuses = [client.post("/v1/chat/completions", json=body).status_code for _ in range(10)]
        exposition = client.get("/metrics").text
    assert statuses == [503] * 10, statuses
    tests = {"rule_files": [str(path) for path in RULE_FILES], "evaluation_interval": "1m",
             "tests": [{"interval": "1m", "input_series": _series(exposition),
                        "promql_expr_test": [*(_firing(alert, 1) for alert in FIRING),
                                             *(_firing(alert, 0) for alert in QUIET)]}]}  # fmt: skip
    test_file = tmp_path / "alerts.test.yml"
    test_file.write_text(yaml.safe_dump(tests))
    result = promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr
