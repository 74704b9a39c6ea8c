"""Precision and recall of the pii check, and of plain Presidio, on labelled sets.

    python -m bench.pii_eval [SET.jsonl ...] [--variants]
    python -m bench.pii_eval --conll FILE [--conll FILE ...] [--entities PERSON,LOCATION]

Default sets: tests/data/pii/set-*.jsonl (made by tests/data/pii/generate.py),
faker-*.jsonl (made independently by tests/data/pii/generate_faker.py) and openers.jsonl
(greetings before common words and names, by tests/data/pii/generate_openers.py). Both
sides use the same entity list and the same score thresholds (the pii check's
defaults: 0.5, phone numbers 0.4); plain Presidio is ``AnalyzerEngine`` on a blank
spaCy pipeline with its predefined recognizers. A prediction counts when its type
matches a labelled entity it overlaps (each labelled entity counts once); predictions
of types not labelled in the set are false positives under ``other``. ``--variants``
also scores evasion variants of every text with entities: zero-width characters,
full-width forms, soft hyphens, homoglyph digits and letters, spaced-out digits.

``--conll`` reads human-labelled NER data in the CoNLL column format (a token per line,
its IOB tag last, a blank line between sentences; ``-DOCSTART-`` lines skipped): each
sentence is one text (tokens joined by spaces), PER/person becomes PERSON and
LOC/location LOCATION, other types are unlabelled (a PERSON or LOCATION found there
is a false positive). Sources and licences: ``tests/data/pii/README.md``.
``--entities`` sets the pii check's entity list (default: the check's default).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from guard import Guard
from guard.checks._pii_engine import analyzer_engine
from guard.checks.pii import PiiCheck
from guard.policy import Policy

Entity = tuple[str, int, int]
Row = dict[str, Any]
_DATA = Path(__file__).parent.parent / "tests" / "data" / "pii"
SETS = [
    *sorted(_DATA.glob("set-*.jsonl")),
    *sorted(_DATA.glob("faker-*.jsonl")),
    _DATA / "openers.jsonl",
]
NUMBERS = {"CREDIT_CARD", "US_SSN", "UK_NHS", "PHONE_NUMBER"}
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
CYRILLIC = str.maketrans("aeocp", "аеоср")


def _fullwidth(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


def _interleave(mark: str) -> Callable[[str, random.Random], str]:
    def apply(value: str, rng: random.Random) -> str:
        out = value[0]
        for char in value[1:]:
            out += (mark if rng.random() < 0.35 else "") + char
        return out

    return apply


def _homoglyph(value: str, rng: random.Random) -> str:
    table = ARABIC_INDIC if rng.random() < 0.5 else DEVANAGARI
    return value.translate(table).translate(CYRILLIC)


def _spaced(value: str, rng: random.Random) -> str:
    return " ".join(c for c in value if not c.isspace())


VARIANTS: dict[str, tuple[Callable[[str, random.Random], str], set[str] | None]] = {
    "zero-width": (_interleave("\u200b"), None),
    "full-width": (lambda v, _: _fullwidth(v), None),
    "soft-hyphen": (_interleave("\u00ad"), None),
    "homoglyph": (_homoglyph, None),
    "spaced-digits": (_spaced, NUMBERS),
}


def variant(row: Row, name: str, seed: int) -> Row | None:
    """``row`` with each (applicable) entity value transformed; ``None`` if none is."""
    transform, only = VARIANTS[name]
    rng = random.Random(seed)
    text, entities, changed = row["text"], [], False
    out, last = "", 0
    for entity in sorted(row["entities"], key=lambda e: e["start"]):
        start, end = entity["start"], entity["end"]
        value = text[start:end]
        if only is None or entity["type"] in only:
            value, changed = transform(value, rng), True
        out += text[last:start]
        entities.append({"type": entity["type"], "start": len(out), "end": len(out) + len(value)})
        out += value
        last = end
    out += text[last:]
    return {**row, "text": out, "entities": entities} if changed else None


#: CoNLL / WNUT entity types read as the pii check's entities.
CONLL_TYPES = {"PER": "PERSON", "person": "PERSON", "LOC": "LOCATION", "location": "LOCATION"}


def load_conll(path: Path) -> list[Row]:
    """Sentences of a CoNLL-format file as labelled rows (see the module docstring)."""
    rows: list[Row] = []
    tokens: list[tuple[str, str]] = []

    def flush() -> None:
        if not tokens:
            return
        text, kind, start, end = "", "", -1, -1
        entities: list[dict[str, Any]] = []
        for token, tag in tokens:
            if text:
                text += " "
            inside = tag.startswith("I-") and tag[2:] == kind
            if not inside and kind:
                entities.append({"type": CONLL_TYPES[kind], "start": start, "end": end})
                kind = ""
            if not inside and tag[:2] in ("B-", "I-") and tag[2:] in CONLL_TYPES:
                kind, start = tag[2:], len(text)
            text += token
            end = len(text)
        if kind:
            entities.append({"type": CONLL_TYPES[kind], "start": start, "end": end})
        rows.append({"id": len(rows), "lang": "en", "text": text, "entities": entities})
        tokens.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            flush()
            continue
        tokens.append((parts[0], parts[-1] if parts[-1][:2] in ("B-", "I-", "O") else parts[1]))
    flush()
    return rows


def load(paths: list[Path]) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            rows.extend(json.loads(line) for line in lines)
    return rows


def score(
    rows: list[Row], predict: Callable[[str], list[Entity]]
) -> tuple[dict[str, Counter[str]], float, float]:
    """Per entity type: tp, fp, fn; the share of exact spans among hits; seconds."""
    counts: dict[str, Counter[str]] = {}
    exact = hits = 0
    started = time.perf_counter()
    predictions = [predict(row["text"]) for row in rows]
    elapsed = time.perf_counter() - started
    labelled = {e["type"] for row in rows for e in row["entities"]}
    for row, predicted in zip(rows, predictions, strict=True):
        gold = [(e["type"], e["start"], e["end"]) for e in row["entities"]]
        matched: set[int] = set()
        for kind, start, end in predicted:
            key = kind if kind in labelled else "other"
            hit = next((i for i, (k, s, e) in enumerate(gold)
                        if i not in matched and k == kind and s < end and start < e), None)  # fmt: skip
            if hit is None:
                counts.setdefault(key, Counter())["fp"] += 1
                continue
            matched.add(hit)
            counts.setdefault(key, Counter())["tp"] += 1
            hits += 1
            exact += gold[hit][1:] == (start, end)
        for i, (kind, _, _) in enumerate(gold):
            if i not in matched:
                counts.setdefault(kind, Counter())["fn"] += 1
    return counts, exact / hits if hits else 1.0, elapsed


def _pr(counter: Counter[str]) -> tuple[float, float]:
    tp, fp, fn = counter["tp"], counter["fp"], counter["fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def predictors(
    entities: list[str] | None = None,
) -> tuple[Callable[[str], list[Entity]], Callable[[str], list[Entity]]]:
    """guardwire's pii check (default entities, or ``entities``), and plain Presidio with
    the same entities and thresholds."""
    listed = f"\n    entities: [{', '.join(entities)}]" if entities else ""
    guard = Guard(
        Policy.from_yaml(f"name: eval\ninput:\n  - check: pii{listed}\n"),
        registry=CollectorRegistry(),
    )
    check = guard.input_checks[0]
    assert isinstance(check, PiiCheck)

    def guardwire(text: str) -> list[Entity]:
        return [(f.kind, f.start, f.end) for f in guard.check_input(text).findings]

    engine = analyzer_engine("en", "blank")
    wanted = list(check.entities)
    thresholds = check.thresholds

    def presidio(text: str) -> list[Entity]:
        found = engine.analyze(text, language="en", entities=wanted)
        return [(r.entity_type, r.start, r.end) for r in found
                if r.score >= thresholds.get(r.entity_type, 0.5)]  # fmt: skip

    return guardwire, presidio


def report(title: str, rows: list[Row], sides: dict[str, Callable[[str], list[Entity]]]) -> None:
    results = {name: score(rows, predict) for name, predict in sides.items()}
    kinds = sorted({k for counts, _, _ in results.values() for k in counts})
    print(f"\n## {title}: {len(rows)} texts, {sum(len(r['entities']) for r in rows)} entities")
    header = "| entity | n | " + " | ".join(f"{n} P | {n} R" for n in sides) + " |"
    print(header)
    print("|" + "---|" * (2 + 2 * len(sides)))
    for kind in kinds:
        n = sum(1 for r in rows for e in r["entities"] if e["type"] == kind)
        cells = []
        for counts, _, _ in results.values():
            precision, recall = _pr(counts.get(kind, Counter()))
            cells += [f"{precision:.3f}", f"{recall:.3f}" if n else "-"]
        print(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    cells = []
    for counts, _, _ in results.values():
        total = sum(counts.values(), Counter())
        precision, recall = _pr(total)
        cells += [f"**{precision:.3f}**", f"**{recall:.3f}**"]
    print("| all | | " + " | ".join(cells) + " |")
    for name, (_, exact, seconds) in results.items():
        print(f"{name}: exact spans {exact:.3f} of hits; {seconds / len(rows) * 1000:.2f} ms/text")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pii_eval", description=__doc__)
    parser.add_argument("sets", nargs="*", type=Path, default=SETS)
    parser.add_argument("--variants", action="store_true", help="also score evasion variants")
    parser.add_argument("--conll", type=Path, action="append", default=[],
                        help="a CoNLL-format NER file (PER/LOC scored as PERSON/LOCATION)")  # fmt: skip
    parser.add_argument("--entities", help="the pii check's entities, comma-separated")
    args = parser.parse_args()
    entities = args.entities.split(",") if args.entities else None
    guardwire, presidio = predictors(entities)
    sides = {"guardwire": guardwire, "presidio": presidio}
    for path in args.conll:
        report(path.name, load_conll(path), sides)
    for path in args.sets if not args.conll else []:
        rows = load([path])
        report(path.name, rows, sides)
        if args.variants:
            for name in VARIANTS:
                changed = [v for i, r in enumerate(rows) if (v := variant(r, name, i)) is not None]
                report(f"{path.name} / {name}", changed, sides)


if __name__ == "__main__":
    main()
