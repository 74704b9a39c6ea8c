"""The words the PERSON / LOCATION recognizer reads: runs of capitalised words and
street addresses (see :mod:`guard.checks._pii_names`)."""

from __future__ import annotations

import re
from typing import NamedTuple

from guard.checks._pii_name_lists import PARTICLES, TITLES, fold

UPPER = "".join(c for c in map(chr, range(0x41, 0x250)) if c.isupper())
#: Markdown emphasis (``**``, ``__``, ``*``, ``_``) opening before a capital: after the
#: text's start, white space or opening punctuation (``a*B``, ``x_Ann``, ``._Name``
#: are code). Each form is a fixed-width look-behind, as ``re`` needs.
_EMPHASIS = "|".join(
    rf"(?<={before}[*_]{{{width}}}.)" for width in (1, 2, 3) for before in ("^", r"[\s(\[|\"]")
)
#: A capitalised word (letters, inner apostrophes and hyphens), an abbreviation
#: (``U.S.``) or an initial; not inside an identifier, path, address or number; in
#: markdown emphasis too (``**Ann Lee**``, ``_Ann_``: an ``_`` after it is no identifier
#: when no letter or digit follows).
# Written to start with one character class (the rest checked by a look-behind) so that
# ``re`` skips to capitals in C instead of trying the pattern at every position.
TOKEN = re.compile(
    rf"[{UPPER}](?:(?<![\w@/\\.#$%&*+=<>'’-].)|{_EMPHASIS})"
    rf"(?:(?:\.[{UPPER}])+\.|(?:[^\W\d_]|['’\-](?=[^\W\d_]))*)(?![^\W_]|_+[^\W_])"
)
LETTERS = re.compile(r"[^\W\d_]{2,}")
HAS_UPPER = re.compile(f"[{UPPER}]")
_POSSESSIVE = ("'s", "’s")
_SENTENCE_END = frozenset(".!?:;\"“”'‘’([{*-•>#|\n")


class Word(NamedTuple):
    """One capitalised word of a run: its span and its lower-case form (possessive
    dropped), or a particle between two of them. (A tuple: a text has many of them,
    and a frozen dataclass costs several times as much to build.)"""

    start: int
    end: int
    key: str
    particle: bool = False
    #: A hyphenated given name's first part (``jean`` of ``Jean-Luc``), else ``key``.
    head: str = ""


def key_of(token: str) -> str:
    """The form of ``token`` the lists are looked up by: lower case, no possessive, no
    accents."""
    if token.isascii() and "'" not in token:
        return token.lower()  # the common case, in C
    for suffix in _POSSESSIVE:
        if token.endswith(suffix):
            token = token[: -len(suffix)]
    return fold(token.lower())


def runs(text: str, heads: frozenset[str]) -> list[list[Word]]:
    """Capitalised words joined by one space (or a particle, or a title's/initial's dot)."""
    runs: list[list[Word]] = []
    run: list[Word] = []
    for match in TOKEN.finditer(text):
        start, end = match.span()
        token = match.group()
        key = key_of(token)
        if (
            token.isupper()
            and len(token) > 1
            and "." not in token
            and ((len(token) <= 3 and key not in heads) or not shouting(text, start, end))
        ):
            if run:
                runs.append(run)
            run = []
            continue  # an acronym (``API``, ``YARA``), not a name
        if token[-1:] == "s" and token[-2:-1] in ("'", "’"):
            end -= 2
        hyphen = token.find("-")
        head = key[:hyphen] if 0 < hyphen < len(token) - 1 and token[hyphen + 1].isupper() else key
        word = Word(start, end, key, False, head)
        if run:
            last = run[-1]
            gap = text[last.end : start]
            dotted = gap == ". " and (len(last.key) == 1 or last.key in TITLES)
            if gap == " " or dotted:
                run.append(word)
                continue
            inner = gap[1:-1].split(" ") if len(gap) <= 11 and gap[:1] == " " == gap[-1:] else ()
            if 0 < len(inner) <= 2 and all(particle in PARTICLES for particle in inner):
                # ``Maria de la Cruz``, ``Rio de Janeiro``: the particles join the run.
                position = last.end + 1
                for particle in inner:
                    run.append(Word(position, position + len(particle), particle, True, particle))
                    position += len(particle) + 1
                run.append(word)
                continue
            runs.append(run)
        run = [word]
    if run:
        runs.append(run)
    return runs


def shouting(text: str, start: int, end: int) -> bool:
    """Whether the words around ``text[start:end]`` are in capitals too (a headline,
    a form filled in capitals), so that a word in capitals there may be a name."""
    near = LETTERS.findall(text, max(0, start - 24), start)[-1:]
    near += LETTERS.findall(text, end, end + 24)[:1]
    return all(w.isupper() for w in near)


def sentence_start(text: str, start: int) -> bool:
    """Whether ``text[start:]`` begins a sentence (emphasis before it skipped)."""
    position = start - 1
    while position >= 0 and text[position] in " \t*_":
        position -= 1
    return position < 0 or text[position] in _SENTENCE_END
