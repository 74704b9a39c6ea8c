"""The pii check downloads nothing at run time, checked in a fresh interpreter.

Presidio's e-mail validation uses ``tldextract``, which fetches the public-suffix list
on first use and caches it under the user's cache directory. In a new process (nothing
imported or warmed up before), with every outbound connection and name lookup
recorded and refused and an empty home and cache directory, a PII call with e-mail
addresses, URLs and an IP address finds them, tries no connection, resolves no name
and writes no file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, socket, sys
attempts = []
def refuse(kind):
    def call(*args, **kwargs):
        attempts.append(kind)
        raise OSError("offline test: " + kind)
    return call
socket.socket.connect = refuse("connect")
socket.socket.connect_ex = refuse("connect_ex")
socket.getaddrinfo = refuse("getaddrinfo")
socket.create_connection = refuse("create_connection")
from prometheus_client import CollectorRegistry
import guard
engine = guard.Guard("strict", registry=CollectorRegistry())
decision = engine.check_input(
    "mail maria.lopez@mail.example.co.uk or bob@example.org, see https://intranet.example.com/x "
    "and docs.example.de, host 192.168.10.12"
)
output = engine.check_output("reach jane@corp.example.com.au via www.example.io")
print(json.dumps({
    "attempts": attempts,
    "input": sorted(f.kind for f in decision.findings),
    "output": sorted(f.kind for f in output.findings),
}))
"""


def test_a_pii_call_in_a_fresh_process_connects_nowhere_and_writes_nothing(
    tmp_path: Path,
) -> None:
    # ~5 s: a new interpreter builds Presidio's engine; only a fresh process shows what
    # a first call would fetch (the suite's own process has long been warmed up).
    home = tmp_path / "home"
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
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert result["input"] == ["EMAIL_ADDRESS", "EMAIL_ADDRESS", "IP_ADDRESS", "URL", "URL"]
    assert result["output"] == ["EMAIL_ADDRESS", "URL"]
    assert [p.relative_to(home) for p in home.rglob("*")] == []
