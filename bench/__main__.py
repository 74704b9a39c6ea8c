"""Run benchmarks: ``python -m bench [NAME ...] [--seconds S] [--json PATH]``.

Each benchmark module under ``bench/`` exposes ``run(seconds) -> list[Result]``.
Results print as a table (median and p99 per operation) and are written as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from bench._runner import write

BENCHMARKS = (
    "engine", "transport", "proxy_load", "streaming", "stores", "upstream_client", "budget",
    "pii", "schema", "grounding", "agent", "injection", "telemetry", "keywords",
)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})"
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="time per operation (default 2)")
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("bench/results/latest.json"),
        help="where to write results",
    )
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)
    results = []
    for name in names:
        if name not in BENCHMARKS:
            parser.error(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
        module = importlib.import_module(f"bench.{name}")
        for result in module.run(args.seconds):
            print(result.line(), flush=True)
            results.append(result)
    write(results, args.json)
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
