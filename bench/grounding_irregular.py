"""Build ``guard/grounding/irregular.txt`` from Open English WordNet (build time only).

    python -m bench.grounding_irregular /path/to/english-wordnet.git

Open English WordNet (https://github.com/globalwordnet/english-wordnet, CC BY 4.0,
derived from Princeton WordNet under the WordNet licence) lists, per word and part of
speech, its senses and, for verbs, their irregular forms.

``irregular.txt`` holds the irregular forms WordNet lists for common verbs (at least
:data:`MIN_VERB_SENSES` senses) that the suffix stemmer does not bring to the verb's
stem (``fell`` / ``fall``, ``bought`` / ``buy``), less :data:`AMBIGUOUS_FORMS`, forms
mostly read as another word (``ground``, ``saw``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from guard.grounding.text import STOPWORDS, suffix_stem

FORMS_OUT = Path(__file__).resolve().parent.parent / "guard" / "grounding" / "irregular.txt"
MIN_VERB_SENSES = 3
AMBIGUOUS_FORMS = frozenset(
    "ground stove clove feed gan rove pent dove bit saw smelt drunk bound lay lying spat "
    "shat found".split()
)
_WORD = re.compile(r"[a-z]{3,}")
_POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}
_FORMS_HEADER = """\
# Irregular verb forms for guard.grounding's stemmer (one a line: the form, the verb).
# Derived by bench/grounding_irregular.py from Open English WordNet
# (https://github.com/globalwordnet/english-wordnet), (c) the Open English WordNet
# contributors, CC BY 4.0, itself derived from Princeton WordNet 3.0 (c) 2006 Princeton
# University under the WordNet 3.0 licence (https://wordnet.princeton.edu/license-and-commercial-use).
"""


def _yaml(repo: Path, path: str) -> Any:
    text = subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"HEAD:{path}"], check=True, capture_output=True
    ).stdout
    return yaml.load(text, Loader=yaml.CSafeLoader)


_SENSES: dict[str, dict[str, list[str]]] = {}
_FORMS: dict[str, list[str]] = {}


def irregular_forms() -> dict[str, str]:
    """Irregular verb form -> the verb, from what :func:`read` read."""
    out: dict[str, str] = {}
    for lemma, forms in _FORMS.items():
        if not _WORD.fullmatch(lemma) and not re.fullmatch(r"[a-z]{2}", lemma):
            continue
        if sum(map(len, _SENSES.get(lemma, {}).values())) < MIN_VERB_SENSES:
            continue
        for form in forms:
            if (
                re.fullmatch(r"[a-z]{2,}", form)
                and form not in STOPWORDS
                and form not in AMBIGUOUS_FORMS
                and suffix_stem(form) != suffix_stem(lemma)
            ):
                out.setdefault(form, lemma)
    return out


def read(repo: Path) -> None:
    """Read every entry's senses and irregular forms."""
    names = subprocess.run(
        ["git", "--git-dir", str(repo), "ls-tree", "--name-only", "HEAD", "src/yaml/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for name in names:
        base = name.rsplit("/", 1)[-1]
        if base.startswith("entries-"):
            for lemma, poses in _yaml(repo, name).items():
                for pos, entry in poses.items():
                    if pos in _POS:
                        found = _SENSES.setdefault(str(lemma), {}).setdefault(_POS[pos], [])
                        found += [s["synset"] for s in entry.get("sense", [])]
                    if pos == "v" and entry.get("form"):
                        _FORMS[str(lemma)] = [str(f) for f in entry["form"]]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.grounding_irregular", description=__doc__
    )
    parser.add_argument("repo", type=Path, help="Open English WordNet's git directory")
    args = parser.parse_args()
    read(args.repo)
    forms = irregular_forms()
    with FORMS_OUT.open("w", encoding="utf-8") as out:
        out.write(_FORMS_HEADER)
        for form in sorted(forms):
            out.write(f"{form} {forms[form]}\n")
    print(f"{FORMS_OUT}: {len(forms)} forms")


if __name__ == "__main__":
    main()
