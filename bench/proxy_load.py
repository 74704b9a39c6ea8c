"""Proxy load: added latency and requests per second of ``guardwire serve``.

A zero-delay fake upstream (``tests/fake_upstream.py``, 1 KB reply) and the proxy
(default policy, default config: one worker) run as subprocesses; a load generator
(``wrk``, or the Python one in ``bench._load``) posts a 1 KB prompt at concurrency 1,
16 and 64, streaming and not, first straight to the fake (direct), then through the
proxy. Each point runs for ``seconds``. Rows ``proxy.{nonstream,stream}.cN`` carry the
proxy's p50/p99 latency; ``extra`` has the direct figures and the differences. Two more
rows, ``proxy.nonstream.cN.workers2``, repeat c16 and c64 with ``--workers 2``.

Everything shares the machine's cores (load generator, proxy, fake upstream), so the
rows also say how much CPU each used during the proxied run (in cores), the proxy's CPU
time per request (the figure least disturbed by noisy neighbours) and ``cpu_other``:
what the rest of the machine took meanwhile.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

from bench._load import (
    Load,
    LoadGenerator,
    Server,
    check_once,
    children_cpu_seconds,
    cpu_seconds,
    fake_upstream,
    load_generator,
    machine_busy_seconds,
    proxy,
    request_body,
)
from bench._runner import Result
from bench.texts import prose

CONCURRENCY = (1, 16, 64)
PROMPT_BYTES = 1024
REPLY_BYTES = 1024
#: Extra non-streamed points with ``guardwire serve --workers 2``.
WORKERS2_CONCURRENCY = (16, 64)
#: The targets of the proxy issue: (row, extra field, comparison, bound).
TARGETS = (
    ("proxy.nonstream.c1", "added_p50_ms", "<", 1.0),
    ("proxy.nonstream.c16", "rps", ">=", 2500.0),
)


def _round(value: float, digits: int = 3) -> float:
    return round(value, digits) if math.isfinite(value) else value


def run(seconds: float) -> list[Result]:
    """Measure every (stream mode, concurrency) point, direct and through the proxy."""
    prompt = prose(PROMPT_BYTES)
    bodies = {
        mode: request_body(prompt, stream=mode == "stream") for mode in ("nonstream", "stream")
    }
    results: list[Result] = []
    with fake_upstream(REPLY_BYTES) as upstream, load_generator() as load:
        print(
            f"proxy_load: {load.name} load generator, {os.cpu_count()} cores shared by "
            f"load generator, proxy and fake upstream; {seconds:g} s per point",
            file=sys.stderr,
            flush=True,
        )
        with proxy(upstream.url) as guarded:
            for mode, body in bodies.items():
                _check(upstream, guarded, body, stream=mode == "stream")
                load.run(guarded.url, body, 16, 1)  # warm up pools and first-call paths
                for connections in CONCURRENCY:
                    name = f"proxy.{mode}.c{connections}"
                    results.append(
                        _point(name, load, upstream, guarded, body, connections, seconds)
                    )
        with proxy(upstream.url, workers=2) as guarded:
            body = bodies["nonstream"]
            _check(upstream, guarded, body, stream=False)
            load.run(guarded.url, body, 16, 1)
            for connections in WORKERS2_CONCURRENCY:
                name = f"proxy.nonstream.c{connections}.workers2"
                results.append(_point(name, load, upstream, guarded, body, connections, seconds))
    print(summary(results))
    return results


def _check(upstream: Server, guarded: Server, body: bytes, *, stream: bool) -> None:
    """Fail early and readably when a single request does not work or is not allowed."""
    check_once(upstream.url, body, stream=stream)
    verdict = check_once(guarded.url, body, stream=stream).get("x-guardwire-verdict")
    if verdict != "allow":
        raise RuntimeError(f"the proxy's verdict on the benchmark prompt is {verdict!r}")


def _point(
    name: str,
    load: LoadGenerator,
    upstream: Server,
    guarded: Server,
    body: bytes,
    connections: int,
    seconds: float,
) -> Result:
    """One point: direct, then proxied with CPU accounting."""
    direct = load.run(upstream.url, body, connections, seconds)

    def sample() -> tuple[float, ...]:
        return (
            cpu_seconds(guarded.pid),
            cpu_seconds(upstream.pid),
            children_cpu_seconds(),
            machine_busy_seconds(),
        )

    before, started = sample(), time.perf_counter()
    proxied = load.run(guarded.url, body, connections, seconds)
    # The run's wall time includes the generator's start-up (and warm-up, for the Python
    # one), and so does the CPU time: divide by the wall time, not by ``seconds``.
    wall = time.perf_counter() - started
    used = [b - a for a, b in zip(before, sample(), strict=True)]
    result = _result(name, direct, proxied, used, wall, load.name)
    print(result.line(), file=sys.stderr, flush=True)
    return result


def _result(
    name: str, direct: Load, proxied: Load, used: list[float], wall: float, generator: str
) -> Result:
    proxy_cpu, upstream_cpu, loadgen_cpu, machine = used
    extra: dict[str, Any] = {
        "rps": round(proxied.rps, 1),
        "direct_p50_ms": _round(direct.p50_ms),
        "added_p50_ms": _round(proxied.p50_ms - direct.p50_ms),
        "added_p99_ms": _round(proxied.p99_ms - direct.p99_ms),
        "direct_rps": round(direct.rps, 1),
        "direct_p99_ms": _round(direct.p99_ms),
        # CPU during the proxied run, in cores (1.0 = one core busy all the time).
        "cpu_proxy": _round(proxy_cpu / wall, 2),
        "cpu_upstream": _round(upstream_cpu / wall, 2),
        "cpu_loadgen": _round(loadgen_cpu / wall, 2),
        "cpu_other": _round((machine - proxy_cpu - upstream_cpu - loadgen_cpu) / wall, 2),
        "proxy_cpu_us_per_request": round(proxy_cpu / proxied.completed * 1e6)
        if proxied.completed and math.isfinite(proxy_cpu)
        else None,
        "loadgen": generator,
    }
    failures = [
        f"{label}: {load.failure}"
        for label, load in (("direct", direct), ("proxy", proxied))
        if load.failure
    ]
    if failures:
        extra["failed"] = "; ".join(failures)
    return Result(name, proxied.requests, proxied.p50_ms, proxied.p99_ms, proxied.mean_ms, extra)


def summary(results: list[Result]) -> str:
    """The measured points against the issue's targets, PASS/FAIL per target."""
    rows = {r.name: r for r in results}
    lines = ["", "proxy_load summary (latency in ms; +p50/+p99 = proxy minus direct):"]
    header = ("point", "p50", "p99", "+p50", "+p99", "req/s", "direct req/s", "proxy CPU µs/req")
    lines.append("  {:<32}{:>9}{:>9}{:>9}{:>9}{:>8}{:>14}{:>18}".format(*header))
    for r in results:
        e = r.extra
        lines.append(
            f"  {r.name:<32}{r.median_ms:9.3f}{r.p99_ms:9.3f}{e['added_p50_ms']:9.3f}"
            f"{e['added_p99_ms']:9.3f}{e['rps']:8.0f}{e['direct_rps']:14.0f}"
            f"{e['proxy_cpu_us_per_request'] or float('nan'):18.0f}"
        )
        if "failed" in e:
            lines.append(f"    FAILED: {e['failed']}")
    for name, field, op, bound in TARGETS:
        row = rows.get(name)
        if row is None:
            continue
        value = row.extra[field]
        met = value < bound if op == "<" else value >= bound
        verdict = "PASS" if met and "failed" not in row.extra else "FAIL"
        why = " (errors during the run)" if "failed" in row.extra else ""
        lines.append(f"  {verdict}  {name} {field} = {value:g} (target {op} {bound:g}){why}")
    return "\n".join(lines)
