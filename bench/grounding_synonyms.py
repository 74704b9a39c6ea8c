"""Build ``guard/grounding/synonyms.txt`` and ``irregular.txt`` from Open English
WordNet (build time only).

    python -m bench.grounding_synonyms /path/to/english-wordnet.git

Open English WordNet (https://github.com/globalwordnet/english-wordnet, CC BY 4.0,
derived from Princeton WordNet under the WordNet licence) lists, per word and part of
speech, its senses most frequent first, and per sense (synset) the words that share it.
Two words are kept as synonyms when they share a sense that is the first sense of one
and among the first :data:`MUTUAL_SENSES` of the other (both mostly mean that), and both
are common: plain lower-case words of three letters or more with at least
:data:`MIN_SENSES` senses in all (polysemy stands in for frequency: rare words have one
sense). Pairs are written as the scorer's stems (:func:`guard.grounding.text.stem`), so
the table is read without stemming; regenerate it when the stemmer changes.

``irregular.txt`` holds the irregular forms WordNet lists for common verbs (at least
:data:`MIN_VERB_SENSES` senses) that the suffix stemmer does not bring to the verb's
stem (``fell`` / ``fall``, ``bought`` / ``buy``), less :data:`AMBIGUOUS_FORMS`, forms
mostly read as another word (``ground``, ``saw``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from guard.grounding.text import STOPWORDS, stem, suffix_stem

OUT = Path(__file__).resolve().parent.parent / "guard" / "grounding" / "synonyms.txt"
FORMS_OUT = OUT.with_name("irregular.txt")
MIN_SENSES = 2
MIN_VERB_SENSES = 3
AMBIGUOUS_FORMS = frozenset(
    "ground stove clove feed gan rove pent dove bit saw smelt drunk bound lay lying spat "
    "shat found".split()
)
MUTUAL_SENSES = 2
_WORD = re.compile(r"[a-z]{3,}")
_POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}
_HEADER = """\
# Synonym stems for guard.grounding (one group a line: a stem, then the stems it may be
# written as). Derived by bench/grounding_synonyms.py from Open English WordNet
# (https://github.com/globalwordnet/english-wordnet), (c) the Open English WordNet
# contributors, CC BY 4.0, itself derived from Princeton WordNet 3.0 (c) 2006 Princeton
# University under the WordNet 3.0 licence (https://wordnet.princeton.edu/license-and-commercial-use).
"""


_FORMS_HEADER = _HEADER.replace(
    "Synonym stems for guard.grounding (one group a line: a stem, then the stems it may be\n"
    "# written as)",
    "Irregular verb forms for guard.grounding's stemmer (one a line: the form, the verb)",
)


def _yaml(repo: Path, path: str) -> Any:
    text = subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"HEAD:{path}"], check=True, capture_output=True
    ).stdout
    return yaml.load(text, Loader=yaml.CSafeLoader)


_SENSES: dict[str, dict[str, list[str]]] = {}
_MEMBERS: dict[str, list[str]] = {}
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
    """Read every entry (senses, irregular forms) and synset of the repository."""
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
        elif base.split(".")[0] in ("noun", "verb", "adj", "adv"):
            for synset, body in _yaml(repo, name).items():
                _MEMBERS[synset] = [str(m) for m in body.get("members", [])]


def pairs() -> set[tuple[str, str]]:
    """Synonym word pairs (sorted within each pair), from what :func:`read` read."""
    senses, members = _SENSES, _MEMBERS

    def common(word: str) -> bool:
        return (
            bool(_WORD.fullmatch(word))
            and word not in STOPWORDS
            and sum(map(len, senses.get(word, {}).values())) >= MIN_SENSES
        )

    out: set[tuple[str, str]] = set()
    for lemma, poses in senses.items():
        if not common(lemma):
            continue
        for pos, synsets in poses.items():
            first = synsets[0]
            for other in members.get(first, ()):
                mutual = first in senses.get(other, {}).get(pos, [])[:MUTUAL_SENSES]
                if other != lemma and common(other) and mutual:
                    a, b = sorted((lemma, other))
                    out.add((a, b))
    return out


def table(word_pairs: set[tuple[str, str]]) -> dict[str, set[str]]:
    """Stem -> the stems of its synonyms."""
    groups: dict[str, set[str]] = defaultdict(set)
    for a, b in word_pairs:
        sa, sb = stem(a), stem(b)
        if sa != sb:
            groups[sa].add(sb)
            groups[sb].add(sa)
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grounding_synonyms", description=__doc__)
    parser.add_argument("repo", type=Path, help="Open English WordNet's git directory")
    args = parser.parse_args()
    read(args.repo)
    groups = table(pairs())
    with OUT.open("w", encoding="utf-8") as out:
        out.write(_HEADER)
        for key in sorted(groups):
            out.write(" ".join([key, *sorted(groups[key])]) + "\n")
    print(f"{OUT}: {len(groups)} stems")
    forms = irregular_forms()
    with FORMS_OUT.open("w", encoding="utf-8") as out:
        out.write(_FORMS_HEADER)
        for form in sorted(forms):
            out.write(f"{form} {forms[form]}\n")
    print(f"{FORMS_OUT}: {len(forms)} forms")


if __name__ == "__main__":
    main()
