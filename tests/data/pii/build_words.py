"""Build the common English words of the offline PERSON / LOCATION recognizer.

    python tests/data/pii/build_words.py WORDS

writes ``guard/checks/pii_names/words.txt``: the lower-case words of WORDS (Debian's
``wamerican-small``, ``/usr/share/dict/american-english-small``, SCOWL size 35) that are
no given or family name of ``first.txt`` / ``last.txt`` (a name that is also a common
word is marked ``*`` there already). An opener (``Hi``, ``Dear``) makes the capitalised
word after it a name only when it is no such word (``Hello World``, ``Hi Team``).
Re-running it on the same word list rewrites the file byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[3] / "guard" / "checks" / "pii_names"
HEADER = """\
# Common English words that are no given or family name of first.txt / last.txt.
# Source: SCOWL (Spell Checker Oriented Word Lists) size 35 as Debian's wamerican-small
# 2020.12.07: Copyright 2000-2011 by Kevin Atkinson. Permission to use, copy, modify,
# distribute and sell these word lists, the associated scripts, the output created
# from the scripts, and its documentation for any purpose is hereby granted without
# fee, provided that the above copyright notice appears in all copies and that both
# that copyright notice and this permission notice appear in supporting documentation.
# Kevin Atkinson makes no representations about the suitability of this array for any
# purpose. It is provided "as is" without express or implied warranty.
# built by tests/data/pii/build_words.py (lower case ASCII letters, 2 or more)
"""


def _names(name: str) -> set[str]:
    lines = (OUT / name).read_text(encoding="utf-8").splitlines()
    return {line.rstrip("*") for line in lines if line and not line.startswith("#")}


def main() -> None:
    words = Path(sys.argv[1]).read_text(encoding="utf-8").split()
    names = _names("first.txt") | _names("last.txt")
    kept = sorted(
        {w for w in words if w.isascii() and w.isalpha() and w.islower() and len(w) > 1} - names
    )
    (OUT / "words.txt").write_text(HEADER + "\n".join(kept) + "\n", encoding="utf-8")
    print(f"words.txt: {len(kept)} words")


if __name__ == "__main__":
    main()
