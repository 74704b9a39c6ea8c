"""Engine overhead of a policy on texts of 200 B, 2 KB and 20 KB."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from bench._runner import Result, measure
from bench.texts import prose
from guard import Guard


def run(seconds: float) -> list[Result]:
    guard = Guard("default", registry=CollectorRegistry())
    results = []
    for size in (200, 2_000, 20_000):
        text = prose(size)
        results.append(
            measure(
                f"engine.default.input.{size}B",
                lambda t=text: guard.check_input(t),
                seconds=seconds,
            )
        )
        results.append(
            measure(
                f"engine.default.output.{size}B",
                lambda t=text: guard.check_output(t),
                seconds=seconds,
            )
        )
    return results
