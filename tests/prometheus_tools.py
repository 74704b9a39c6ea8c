"""Finding the Prometheus binaries and reading the shipped monitoring files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent
METRICS = ROOT / "metrics"
DASHBOARD = METRICS / "grafana-dashboard.json"
RULE_FILES = (METRICS / "rules" / "recording.yml", METRICS / "rules" / "alerts.yml")
#: Where ``./dev`` unpacks the Debian package when it is not installed system-wide.
_UNPACKED = ROOT / ".venv" / "prometheus" / "usr" / "bin"
#: Grafana's template variables, replaced by values Prometheus accepts.
_VARIABLES = {"$__rate_interval": "1m", "$job": ".+"}


def binary(name: str) -> str:
    """Path of ``prometheus`` or ``promtool``; skips the test (visibly) when absent."""
    found = shutil.which(name) or (str(_UNPACKED / name) if (_UNPACKED / name).exists() else None)
    if found is None:
        pytest.skip(
            f"{name} is not installed: './dev test' installs the Debian package 'prometheus' "
            "when it can (root or sudo, apt); install it with apt-get install prometheus"
        )
    return found


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run promtool; the result keeps its output for assertion messages."""
    return subprocess.run(
        [binary("promtool"), *args], capture_output=True, text=True, timeout=60, check=False
    )


def dashboard() -> dict[str, Any]:
    """The shipped Grafana dashboard."""
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def dashboard_queries() -> list[str]:
    """Every panel query, with Grafana's variables replaced."""
    queries = []
    for panel in dashboard()["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in _VARIABLES.items():
                expr = expr.replace(variable, value)
            queries.append(expr)
    return queries


def rules(path: Path) -> list[dict[str, Any]]:
    """The rules of a rule file, all groups."""
    loaded = yaml.safe_load(path.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def alert_signal(expr: str) -> str:
    """An alert's expression without its final threshold comparison (``x > 0.25`` -> ``x``):
    the signal must return data under traffic even when the alert does not fire."""
    match = re.fullmatch(r"(.+?)\s*(?:>|<|>=|<=|==|!=)\s*[0-9.e+-]+\s*", expr.strip(), re.S)
    assert match, f"alert expression is not '<signal> <comparison> <threshold>': {expr}"
    return match.group(1)
