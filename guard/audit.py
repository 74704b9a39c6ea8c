"""The audit log: one JSON line per checked stage, never a raw value.

Records hold the time, request id, policy name and hash, stage, the verdict of each
check with its findings (kinds, rule names, spans, scores) and latencies. Off by
default; enabled by giving a path.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guard.decision import Decision


class AuditLog:
    """Append-only JSON-lines writer, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def record(self, decision: Decision, **extra: Any) -> None:
        """Write one decision (and value-free extras such as frontend or format)."""
        entry = {
            "time": round(time.time(), 6),
            "request_id": decision.request_id,
            "policy": decision.policy,
            "policy_hash": decision.policy_hash,
            "stage": decision.stage.value,
            "action": decision.action.label,
            "latency_ms": round(decision.latency * 1000, 4),
            "checks": [
                {
                    "check": v.check,
                    "action": v.action.label,
                    "shadow": v.shadow,
                    "errored": v.errored,
                    "latency_ms": round(v.latency * 1000, 4),
                    "findings": [f.as_record() for f in v.findings],
                }
                for v in decision.verdicts
            ],
            **extra,
        }
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            self._file.close()
