"""The pii check downloads nothing at run time, checked in a fresh interpreter.

Presidio's e-mail validation uses ``tldextract``, which fetches the public-suffix list
on first use and caches it under the user's cache directory. In a new process (nothing
imported or warmed up before), with every outbound connection and name lookup
recorded and refused and an empty home and cache directory, a PII call with e-mail
addresses, URLs and an IP address finds them, tries no connection, resolves no name
and writes no file. Presidio's start-up lines ("Loaded recognizer", seven of them) do
not reach the log either.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.offline_probe import REFUSE_NETWORK

_PROBE = (
    REFUSE_NETWORK
    + """
import json, logging, sys
# Everything logged, as a deployment with DEBUG logging would see it.
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="LOG %(name)s %(levelname)s %(message)s")
from prometheus_client import CollectorRegistry
import guard
engine = guard.Guard("strict", registry=CollectorRegistry())
decision = engine.check_input(
    "mail maria.lopez@mail.example.co.uk or bob@example.org, see https://intranet.example.com/x "
    "and docs.example.de, host 192.168.10.12"
)
output = engine.check_output("reach jane@corp.example.com.au via www.example.io")
print(json.dumps({
    "presidio_level": logging.getLogger("presidio-analyzer").level,
    "attempts": attempts,
    "input": sorted(f.kind for f in decision.findings),
    "output": sorted(f.kind for f in output.findings),
}))
"""
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object], str]:
    """Run the probe in a fresh interpreter: its home, its result and its log."""
    # ~5 s: a new interpreter builds Presidio's engine; only a fresh process shows what
    # a first call would fetch and log (the suite's own process has long been warmed up).
    home = tmp_path_factory.mktemp("offline") / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TLDEXTRACT_CACHE": str(home / "tldextract"),
    }
    env.pop("TLDEXTRACT_CACHE_TIMEOUT", None)
    finished = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return home, json.loads(finished.stdout.strip().splitlines()[-1]), finished.stderr


def test_a_pii_call_in_a_fresh_process_connects_nowhere_and_writes_nothing(
    probe: tuple[Path, dict[str, object], str],
) -> None:
    home, result, _ = probe
    assert result["attempts"] == []
    assert result["input"] == ["EMAIL_ADDRESS", "EMAIL_ADDRESS", "IP_ADDRESS", "URL", "URL"]
    assert result["output"] == ["EMAIL_ADDRESS", "URL"]
    assert [p.relative_to(home) for p in home.rglob("*")] == []


def test_presidio_start_up_lines_are_not_logged(probe: tuple[Path, dict[str, object], str]) -> None:
    """Building the pipeline logs nothing from Presidio below ERROR (it used to log a
    "Loaded recognizer" line per recognizer and the device it runs on), and leaves
    Presidio's logger at the level it found."""
    _, result, log = probe
    presidio = [line for line in log.splitlines() if line.startswith("LOG presidio-analyzer")]
    assert presidio == []
    assert "Loaded recognizer" not in log
    assert result["presidio_level"] == 0
