"""Build the public human-labelled grounding samples from a local git copy of each source.

Run at build time only, never by the check or the tests (nothing downloads)::

    python -m bench.grounding_sources begin /path/to/BEGIN-dataset.git
    python -m bench.grounding_sources frank /path/to/frank.git

``begin`` writes ``tests/data/grounding/begin_sample.jsonl`` (committed: CC BY 4.0 and
CDLA-Sharing-1.0 data, see the data README). ``frank`` writes
``tests/data/grounding/external/frank_sample.jsonl``, which stays out of git (the news
articles are the publishers'): ``bench.grounding_eval`` reads it when it is there.
Samples are drawn with ``random.Random(21)`` from files read with ``git show``.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import random
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "grounding"
EXTERNAL = DATA / "external"
_SEED = 21

#: BEGIN files and the split they hold: (path in the repository, source name).
_BEGIN_FILES = (
    ("wow/begin_test_wow.tsv", "begin/wow"),
    ("cmu-dog/begin_dev_cmu.tsv", "begin/cmu"),
    ("topicalchat/begin_dev_tc.tsv", "begin/tc"),
)
_BEGIN_PER_LABEL = 50
#: FRANK's annotations and articles as of this commit (the newest tree dropped the
#: article files); summaries per label and dataset.
_FRANK_COMMIT = "5860706bda0641136d10d27ead52c5f6ae79630e"
_FRANK_PER_LABEL = 60


def _show(repo: Path, path: str, commit: str = "HEAD") -> str:
    out = subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    )
    return out.stdout.decode("utf-8")


def begin(repo: Path) -> list[dict[str, Any]]:
    """BEGIN (Dziri et al., 2022): knowledge snippet, dialogue response, attribution label.
    "Generic" responses (no claim) are left out; "Fully attributable" is label 1."""
    rng = random.Random(_SEED)
    cases: list[dict[str, Any]] = []
    for path, source in _BEGIN_FILES:
        rows = list(csv.DictReader(io.StringIO(_show(repo, path)), delimiter="\t"))
        for label, name in ((1, "Fully attributable"), (0, "Not fully attributable")):
            chosen = [r for r in rows if r["begin_label"].strip() == name and r["response"].strip()]
            for n, row in enumerate(rng.sample(chosen, min(_BEGIN_PER_LABEL, len(chosen)))):
                cases.append(
                    {
                        "id": f"{source.replace('/', '-')}-{label}-{n}",
                        "source": source,
                        "passages": [{"id": "1", "text": row["knowledge"].strip()}],
                        "question": row["message"].strip(),
                        "answer": row["response"].strip(),
                        "label": label,
                        "model": row["model_name"],
                    }
                )
    return cases


_SPACE_BEFORE = re.compile(r" (?=[.,;:!?%)]|'s\b|n't\b|'re\b|'ve\b|'ll\b|'d\b|'m\b)")


def _detokenize(text: str) -> str:
    text = text.replace("``", '"').replace("''", '"').replace("\\'", "'")
    text = _SPACE_BEFORE.sub("", text)
    return text.replace("( ", "(").replace(" - ", "-").replace("£ ", "£").replace("$ ", "$")


def _recase(summary: str, article: str) -> str:
    """A lower-cased, tokenised summary in the article's casing: each word as the article
    writes it most often (after the first word of its sentences), sentence starts capital."""
    seen: Counter[str] = Counter()
    for sentence in re.split(r"(?<=[.!?])\s+", article):
        for word in re.findall(r"[\w'’-]+", sentence)[1:]:
            seen[word] += 1
    casing: dict[str, str] = {}
    for word, _ in seen.most_common():
        casing.setdefault(word.lower(), word)
    words = re.split(r"(\s+)", summary)
    out = [casing.get(w.lower(), w) if w.strip() else w for w in words]
    text = "".join(out)
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def frank(repo: Path) -> list[dict[str, Any]]:
    """FRANK (Pagnoni et al., 2021): CNN/DM and XSum (BBC) articles with model summaries,
    each annotated for factual errors; ``Factuality`` 1.0 (no error) is label 1."""
    rng = random.Random(_SEED)
    annotations = list(
        csv.DictReader(io.StringIO(_show(repo, "data/human_annotations.csv", _FRANK_COMMIT)))
    )
    cases: list[dict[str, Any]] = []
    for dataset in ("cnndm", "bbc"):
        rows = [r for r in annotations if r["dataset"] == dataset]
        for label in (1, 0):
            chosen = [r for r in rows if (float(r["Factuality"]) == 1.0) == bool(label)]
            for n, row in enumerate(rng.sample(chosen, min(_FRANK_PER_LABEL, len(chosen)))):
                article = json.loads(
                    _show(repo, f"data/articles-wdep-json/{row['hash']}.json", _FRANK_COMMIT)
                )
                lines = article[row["model_name"]]
                if isinstance(lines, str):
                    lines = ast.literal_eval(lines)
                summary = _recase(_detokenize(" ".join(lines)), article["article"])
                cases.append(
                    {
                        "id": f"frank-{dataset}-{label}-{n}",
                        "source": f"frank/{dataset}",
                        "passages": [{"id": "1", "text": article["article"].strip()}],
                        "answer": summary,
                        "label": label,
                        "factuality": float(row["Factuality"]),
                        "model": row["model_name"].removesuffix("_lines"),
                    }
                )
    return cases


def _write(cases: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"{path}: {len(cases)} cases")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grounding_sources", description=__doc__)
    parser.add_argument("source", choices=("begin", "frank"))
    parser.add_argument("repo", type=Path, help="the source's git directory")
    args = parser.parse_args()
    if args.source == "begin":
        _write(begin(args.repo), DATA / "begin_sample.jsonl")
    else:
        _write(frank(args.repo), EXTERNAL / "frank_sample.jsonl")


if __name__ == "__main__":
    main()
