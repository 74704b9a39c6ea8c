"""Timing helpers: per-operation samples, median and p99, JSON results."""

from __future__ import annotations

import gc
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Result:
    """One benchmarked operation."""

    name: str
    samples: int
    median_ms: float
    p99_ms: float
    mean_ms: float
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        extra = "  ".join(f"{k}={v}" for k, v in self.extra.items())
        return f"{self.name:<48} median {self.median_ms:8.4f} ms   p99 {self.p99_ms:8.4f} ms   n={self.samples:<6} {extra}"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest-rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure(
    name: str,
    operation: Callable[[], object],
    *,
    seconds: float = 1.0,
    warmup: int = 50,
    **extra: Any,
) -> Result:
    """Call ``operation`` repeatedly for about ``seconds``; time each call."""
    for _ in range(warmup):
        operation()
    samples: list[float] = []
    gc.collect()
    deadline = time.perf_counter() + seconds
    clock = time.perf_counter
    while clock() < deadline or len(samples) < 50:
        started = clock()
        operation()
        samples.append(clock() - started)
    ms = [s * 1000 for s in samples]
    return Result(
        name, len(ms), statistics.median(ms), percentile(ms, 0.99), statistics.fmean(ms), extra
    )


def from_samples(name: str, seconds_list: list[float], **extra: Any) -> Result:
    """A result from externally collected per-operation durations (seconds)."""
    ms = [s * 1000 for s in seconds_list]
    return Result(
        name, len(ms), statistics.median(ms), percentile(ms, 0.99), statistics.fmean(ms), extra
    )


def write(results: list[Result], path: Path) -> None:
    """Write results plus machine facts as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": [asdict(r) for r in results],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
