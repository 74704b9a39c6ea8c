"""Cost of recording one call's metrics (budget: 10 µs), single- and multi-process.

One call of the default policy records: three input verdicts and one output verdict
(counter + check-latency histogram each), the call counter, the per-model call and
token counters, the added-latency histogram and the upstream-latency histogram — the
engine's and proxy's own code paths (``Guard.decide``, ``Guard.count_call``,
``Telemetry.finish_call``, the upstream timer), without the checks themselves.

Multiprocess mode (``serve --workers N``) writes values to mmap'd files; it is measured
in a child process, since prometheus-client picks its value class at import.

``python -m bench.telemetry [--multiprocess]`` prints the per-call cost in µs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from bench._runner import Result, from_samples

_BATCH = 200  # calls per timed sample: one call is too short for the clock


def _recorder() -> object:
    from prometheus_client import CollectorRegistry

    from guard import Guard
    from guard.formats.text import build_call
    from guard.types import Action, Stage, Verdict

    guard = Guard("default", registry=CollectorRegistry())
    telemetry = guard.telemetry
    telemetry.know_models(["gpt-4o*"])
    call = build_call("hello")
    inputs = [
        Verdict(name, Action.ALLOW, latency=0.00002)
        for name in ("denylist", "secrets", "injection")
    ]
    outputs = [Verdict("secrets", Action.ALLOW, latency=0.00002)]
    upstream = telemetry.upstream_seconds.labels("default", "2xx")

    # Guard.decide also builds the Decision (not metrics): time the metric children it
    # resolved, the way it uses them.
    guard.decide(Stage.INPUT, inputs, call, 0.0001)
    guard.decide(Stage.OUTPUT, outputs, call, 0.0001)
    verdict_metrics = list(guard._metric_children.values())

    def record_one_call() -> None:
        for counter, histogram in verdict_metrics:
            counter.inc()
            histogram.observe(0.00002)
        upstream.observe(0.2)
        guard.count_call("proxy", "openai.chat", "allowed")
        telemetry.finish_call("proxy", "gpt-4o-mini", "allowed", (120, 40), 0.0004)

    return record_one_call


def _samples(seconds: float) -> list[float]:
    """Per-call durations (seconds), each the mean of a batch."""
    record = _recorder()
    assert callable(record)
    for _ in range(_BATCH):
        record()
    samples: list[float] = []
    clock = time.perf_counter
    deadline = clock() + seconds
    while clock() < deadline or len(samples) < 20:
        started = clock()
        for _ in range(_BATCH):
            record()
        samples.append((clock() - started) / _BATCH)
    return samples


def run(seconds: float) -> list[Result]:
    single = from_samples("telemetry.record_call.single_process", _samples(seconds), budget_us=10)
    with tempfile.TemporaryDirectory(prefix="guardwire-bench-metrics-") as directory:
        env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=directory, GUARDWIRE_BUFFERED_METRICS="1")
        child = subprocess.run(
            [sys.executable, "-m", "bench.telemetry", "--samples", str(seconds)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    multi = from_samples(
        "telemetry.record_call.multiprocess", json.loads(child.stdout), budget_us=10
    )
    return [single, multi]


def main() -> int:
    if "--samples" in sys.argv:  # the child of run(): print raw samples
        print(json.dumps(_samples(float(sys.argv[-1]))))
        return 0
    for result in run(2.0):
        print(f"{result.name}: median {result.median_ms * 1000:.2f} µs/call, "
              f"p99 {result.p99_ms * 1000:.2f} µs/call (budget 10 µs)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
