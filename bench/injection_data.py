"""The labelled injection rows and how they are split (shared by the evaluation and by
``scripts/train_injection.py``, so both read the same split).

Every row is ``{"text", "family", "where", "source"}``. The split is by *source*:

- ``heldout``: sources the model never trained on (third-party sets in
  ``tests/data/injection/external*`` folders marked so, and ``heldout2``, our own set written
  after the grammar froze and never used to change anything);
- ``fit`` / ``test``: the training sources; a fixed fifth of their rows (by a hash of
  the text) is kept out of training as the in-distribution test.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent.parent / "tests" / "data" / "injection"
#: (folder under DATA, split of its rows; None: the row's own "split" field).
FOLDERS: tuple[tuple[str, str | None], ...] = (
    (".", "train"),
    ("heldout", "train"),
    ("own", "train"),
    ("external", None),
    ("external2", None),
    ("external3", None),
    ("external4", None),
    ("heldout2", "heldout"),
)
#: Share of the training sources' rows kept for the in-distribution test.
TEST_SHARE = 5


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    # split("\n"), not splitlines(): a text may hold U+2028 and friends, which JSON
    # keeps unescaped and splitlines() would cut at.
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def split_of(row: dict[str, Any], folder_split: str | None) -> str:
    """``fit``, ``test`` or ``heldout`` for one row."""
    split = folder_split or row.get("split", "train")
    if split == "heldout":
        return "heldout"
    digest = hashlib.sha256(row["text"].encode("utf-8")).digest()
    return "test" if digest[0] % TEST_SHARE == 0 else "fit"


def load_rows(data: Path = DATA) -> list[dict[str, Any]]:
    """Every labelled row, each with ``label`` (1 attack, 0 benign) and ``split``."""
    rows = []
    for folder, folder_split in FOLDERS:
        for name, label in (("attacks.jsonl", 1), ("benign.jsonl", 0)):
            for row in _read(data / folder / name):
                row["label"] = label
                row["split"] = split_of(row, folder_split)
                rows.append(row)
    return rows
