"""What the builders of the third-party rows (``external/``, ``external2/``,
``external3/``) share: files read from a repository mirror at a pinned commit, rows in
the set's shape, prose paragraphs of Markdown, and the two JSONL files a builder writes
(with the rows per source it printed)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

#: Texts are cut at this many characters.
MAX_CHARS = 2400

#: source -> (repository, pinned commit, split)
Sources = dict[str, tuple[str, str, str]]


def read_pinned(sources: Sources, mirrors: Path, source: str, path: str) -> str:
    """``path`` of ``source``'s repository at its pinned commit, from ``mirrors``."""
    repo, commit, _ = sources[source]
    git_dir = mirrors / repo.replace("/", "+") / "repo"
    out = subprocess.run(
        ["git", "-C", str(git_dir), "show", f"{commit}:{path}"], check=True, capture_output=True
    )
    return out.stdout.decode("utf-8")


def make_row(sources: Sources, text: str, family: str, where: str, source: str) -> dict[str, str]:
    """One row of the set, with the split its source is in."""
    return {
        "text": text.strip()[:MAX_CHARS],
        "family": family,
        "where": where,
        "source": source,
        "split": sources[source][2],
    }


def paragraphs(markdown: str, minimum: int = 120) -> list[str]:
    """Prose paragraphs of a Markdown file (code blocks, tables and headings dropped)."""
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    kept = []
    for block in re.split(r"\n\s*\n", markdown):
        lines = [line for line in block.splitlines() if not line.lstrip().startswith(("|", "#"))]
        text = " ".join(line.strip() for line in lines).strip()
        if len(text) >= minimum and not text.startswith(("<", "!")):
            kept.append(text)
    return kept


def write_rows(folder: Path, attacks: list[dict[str, str]], benign: list[dict[str, str]]) -> None:
    """``attacks.jsonl`` and ``benign.jsonl`` in ``folder``, a row a line; the rows per
    source are printed."""
    for name, rows in (("attacks.jsonl", attacks), ("benign.jsonl", benign)):
        with (folder / name).open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for row in attacks + benign:
        key = f"{row['source']}/{'benign' if row['family'] == 'benign' else 'attack'}"
        counts[key] = counts.get(key, 0) + 1
    print(json.dumps(counts, indent=1))


def mirrors_argument(argv: list[str], usage: str | None) -> Path:
    """The one argument of a builder: the folder of repository mirrors."""
    if len(argv) != 2:
        raise SystemExit(usage)
    return Path(argv[1])
