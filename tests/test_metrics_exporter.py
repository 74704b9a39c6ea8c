"""Exposing metrics: all workers of ``serve --workers N``, and ``guard.serve_metrics``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from guard import Guard, serve_metrics
from guard._version import __version__
from guard.formats.text import build_call
from guard.types import Choice, Reply
from tests.serve_child import STARTUP_SECONDS, free_port, wait_until_serving


def _calls_per_worker(directory: Path) -> dict[str, float]:
    """``guardwire_calls_total`` as each worker's own file has it (written every
    ``FLUSH_SECONDS``), by worker pid."""
    counted: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        samples = [s for m in MultiProcessCollector.merge([str(path)]) for s in m.samples]
        worker = path.stem.rsplit("_", 1)[-1]
        counted[worker] = sum(s.value for s in samples if s.name == "guardwire_calls_total")
    return counted


def test_two_workers_report_every_request_on_metrics(tmp_path: Path) -> None:
    """newuser-trial §3.3: with --workers 2 scrapes read 14, 14, 6... (one worker each).

    A real ``guardwire serve --workers 2`` (a few seconds to start two processes). Calls
    go on until both workers have served some: ``/healthz`` answers as soon as one
    worker listens, and on a loaded machine the other started seconds later, after a
    fixed number of calls had all gone to the first.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUARDWIRE_", "PROMETHEUS_"))}
    env["TMPDIR"] = str(tmp_path)  # the per-run metrics directory lands here
    process = subprocess.Popen(
        [sys.executable, "-m", "guard.cli", "serve", "--port", str(port), "--workers", "2"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, url)
        deadline = time.monotonic() + STARTUP_SECONDS
        (directory,) = tmp_path.glob("guardwire-metrics-*")
        requests = 0
        while sum(1 for calls in _calls_per_worker(directory).values() if calls) < 2:
            assert time.monotonic() < deadline, f"one worker served all {requests} calls"
            for _ in range(10):
                # A new connection each time, so both workers' accept loops get some.
                body = {"model": "m", "messages": [{"role": "user", "content": f"hi {requests}"}]}
                response = httpx.post(url + "/v1/chat/completions", json=body, timeout=30)
                assert response.status_code == 200
                requests += 1

        def scraped_calls() -> float:
            exposition = httpx.get(url + "/metrics", timeout=30).text
            assert f'guardwire_build_info{{version="{__version__}"}} 1.0' in exposition
            return sum(
                sample.value
                for family in text_string_to_metric_families(exposition)
                for sample in family.samples
                if sample.name == "guardwire_calls_total"
            )

        # The other worker's values reach the files within FLUSH_SECONDS.
        deadline = time.monotonic() + 30
        while scraped_calls() != requests and time.monotonic() < deadline:
            time.sleep(0.05)
        # Each scrape is answered by one worker or the other: all see every request.
        assert [scraped_calls() for _ in range(8)] == [requests] * 8
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert not list(tmp_path.glob("guardwire-metrics-*")), "the metrics directory is removed"


def test_serve_metrics_exposes_the_guards_registry(registry: CollectorRegistry) -> None:
    engine = Guard(registry=registry)
    engine.run_sync(build_call("hello"), lambda call: Reply("text", [Choice(0, "hi")]))
    server = serve_metrics(0, registry=engine.telemetry.registry)
    try:
        assert server.addr == "127.0.0.1"
        text = httpx.get(f"http://127.0.0.1:{server.port}/metrics").text
    finally:
        server.close()
    assert 'guardwire_calls_total{format="text",frontend="run",outcome="allowed"} 1.0' in text


_BUFFERED_CHILD = """
import threading
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from guard import _buffered_values
import guard.telemetry  # installs the buffered values

registry = CollectorRegistry()
counter = Counter("c", "c", ["k"], registry=registry).labels("a")
histogram = Histogram("h", "h", buckets=(1.0,), registry=registry)
gauge = Gauge("g", "g", multiprocess_mode="max", registry=registry)
gauge.set(7)

def work():
    for _ in range(10_000):
        counter.inc()
        histogram.observe(0.5)

threads = [threading.Thread(target=work) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
_buffered_values.flush()
reading = CollectorRegistry()
MultiProcessCollector(reading)
print(generate_latest(reading).decode())
"""


def test_buffered_multiprocess_values_lose_no_increment_across_threads(tmp_path: Path) -> None:
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path), GUARDWIRE_BUFFERED_METRICS="1")
    child = subprocess.run(
        [sys.executable, "-c", _BUFFERED_CHILD], env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(child.stdout)
        for sample in family.samples
    }
    assert samples[("c_total", (("k", "a"),))] == 40_000
    assert samples[("h_count", ())] == 40_000
    assert samples[("h_bucket", (("le", "1.0"),))] == 40_000
    assert samples[("h_sum", ())] == 20_000
    assert samples[("g", ())] == 7
