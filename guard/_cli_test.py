"""``guardwire test [PATH]``: run the policy test cases (``*.cases.yaml``) at PATH.

Prints one row per case and a summary; exits 0 when every case passes, 1 when one
fails, 2 when a case file or a policy does not load.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from guard.engine import Guard


def add_parser(commands: Any) -> None:
    """The ``test`` subcommand."""
    parser = commands.add_parser(
        "test",
        help="run the policy test cases (*.cases.yaml) in a folder or file",
        description="Run policy test cases: each NAME.cases.yaml lists texts or messages "
        "with the action and finding kinds its policy (NAME.yaml beside it, or the file's "
        "'policy:') must produce. Exits 0 when all pass, 1 when any fails, 2 when a case "
        "file or policy does not load.",
    )
    parser.add_argument(
        "path", metavar="PATH", nargs="?", default=".", help="case file or folder (default: .)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print failures only")


def run(args: argparse.Namespace) -> int:
    """Run the cases and print the table; the exit status."""
    from guard.policy_tests import Result, discover, run_file

    files = discover(args.path)
    if not files:
        print(f"no *.cases.yaml files under {args.path}")
        return 2
    guards: dict[str, Guard] = {}
    results: list[Result] = []
    for path in files:
        results.extend(run_file(path, guards))
    shown = [r for r in results if not (args.quiet and r.passed)]
    _table(shown, base=Path(args.path))
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed ({len(files)} case files)")
    return 1 if failed else 0


def _table(results: list[Any], *, base: Path) -> None:
    if not results:
        return
    rows = [("RESULT", "FILE", "CASE", "EXPECTED", "GOT")]
    for r in results:
        file = r.file
        with contextlib.suppress(ValueError):  # outside the folder: the path as given
            file = str(Path(r.file).relative_to(base if base.is_dir() else base.parent))
        rows.append(("pass" if r.passed else "FAIL", file, r.case, r.expected, r.got))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        print("  ".join([*cells, row[4]]).rstrip())
