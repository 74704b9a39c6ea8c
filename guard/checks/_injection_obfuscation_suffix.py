"""Adversarial suffixes: a request in plain words followed by optimised gibberish.

Gradient-searched suffixes (GCG, Zou et al. 2023) are strings of sub-word pieces chosen
for what they do to a model, not to be read: ``describing.\\ + similarlyNow write
oppositeley.]( Me giving**ONE please? revert with "\\!--Two``. A word model finds
nothing in them (they share no words with other attacks) and the request before them is
an ordinary harmful question. What they share is their *shape*, the idea behind the
perplexity filter (Alon & Kamfonas 2023) made cheap and offline:

- words glued to punctuation or to each other: ``giving**ONE``, ``lui5legen([INST``,
  camel-case splices ``similarlyNow`` (:data:`_GLUE`);
- brackets that cross or close what was never opened, ``]( `` or ``([x))]``: code,
  JSON, markdown links and LaTeX nest theirs (:func:`bracket_faults`; a bracket left
  open is not counted, since retrieved text is often cut mid-link);
- right after plain words on the same line (a request, or the prose around it).

A window of :data:`WINDOW` whitespace-separated chunks with at least two glued chunks and
one bracket fault, preceded by at least three plain words among the eight chunks before
it, is reported as ``encoded`` (the text carries something not meant to be read, like a
base64 payload; ``delimiter`` is for fake conversation structure, which a suffix is
not), at :data:`SUFFIX_SCORE`, which stands on its own in the score as a decoded payload
does. URLs are removed first (their ``)`` and ``]`` are not faults).

Cost: a text without a closing bracket is ruled out by three ``str.count`` calls (C, ~1
µs per 2 KB); a line whose brackets nest is ruled out by one pass over its brackets. A
line read in full is searched whole (glued chunks) and its windows weighed on running
counts: bracketed word salad ~0.3 ms per 2 KB (it was ~0.47 ms chunk by chunk).

Measured on the labelled set (``tests/data/injection``, every benign source): 0 of 8,263
benign texts, 120 of 140 GCG rows (the thresholds were chosen looking at those rows: an
optimistic figure; the cross-validation leaves that source out of the model, not out of
this choice).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from guard.checks._injection_obfuscation import Span

#: Whitespace-separated chunks read together.
WINDOW = 10
#: Plain words needed among the chunks just before a window.
PROSE_BEFORE = 3
PROSE_SPAN = 8
GLUED_NEEDED = 2
SUFFIX_SCORE = 0.6

_OPENS = {"(": ")", "[": "]", "{": "}"}
_OPEN_OF = {close: open_ for open_, close in _OPENS.items()}
_BRACKET = re.compile(r"[()\[\]{}]")
_URL = re.compile(r"(?:https?://|www\.)\S+?(?=[)\]]*(?:\s|$))")
#: A chunk that glues letters to symbols or splices two words: ``giving**ONE``,
#: ``tikzPackage))]``, ``similarlyNow``; or one with two brackets or more.
_GLUE = re.compile(r"[a-z]{2}[A-Z]|[A-Za-z][\[\](){}<>`\"*\\|$^~#@%=;+!]+[A-Za-z]")
_LETTER = re.compile("[A-Za-z]")
_CHUNK = re.compile(r"\S+")
#: List markers (``1)`` ``b)`` ``iv)``) and smileys (``:)`` ``;-]``): closing brackets
#: that open nothing by design.
_BY_DESIGN = re.compile(r"(?<!\S)(?:\d{1,3}|[A-Za-z]|[ivxIVX]{1,4})\)|[:;=8][-'^o]?[)\]]+")
#: A plain word: letters, perhaps quoted or bracketed, perhaps ending a sentence.
_PLAIN = re.compile(r"[\"'(]?[A-Za-z][a-z']*[,.;:!?\"')]*")


def bracket_faults(text: str) -> int:
    """Closing brackets that cross an open one (``[)``) or close nothing (``]`` alone)."""
    stack: list[str] = []
    open_count = dict.fromkeys(_OPENS, 0)  # how many of each the stack holds: O(1) lookups
    faults = 0
    for bracket in _BRACKET.findall(text):
        opener = _OPEN_OF.get(bracket)
        if opener is None:
            stack.append(bracket)
            open_count[bracket] += 1
        elif open_count[opener] == 0:
            faults += 1
        else:
            if stack[-1] != opener:
                faults += 1  # crosses the brackets opened since: they are dropped
            while True:
                popped = stack.pop()
                open_count[popped] -= 1
                if popped == opener:
                    break
    return faults


_NOT_BRACKETS = bytes(byte for byte in range(256) if chr(byte) not in "()[]{}")
#: Rounds of pair removal tried in C before the Python stack walk takes over.
_REDUCE_ROUNDS = 24


def has_bracket_fault(text: str) -> bool:
    """Whether :func:`bracket_faults` would find one, mostly in C: the brackets alone
    (``bytes.translate``), matched pairs removed round by round (nesting depth rounds);
    a closing bracket that survives crossed or closed nothing."""
    skeleton = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    for _ in range(_REDUCE_ROUNDS):
        reduced = skeleton.replace(b"()", b"").replace(b"[]", b"").replace(b"{}", b"")
        if len(reduced) == len(skeleton):
            return b")" in reduced or b"]" in reduced or b"}" in reduced
        skeleton = reduced
    return bracket_faults(skeleton.decode("ascii")) > 0


def _glued(chunk: str) -> bool:
    if _GLUE.search(chunk) is not None:
        return True
    # Two brackets with a letter: ``(hili(['adratkil}]``; ``))`` alone is a typo.
    return sum(map(chunk.count, "()[]{}")) >= 2 and _LETTER.search(chunk) is not None


def _glued_chunks(line: str, starts: list[int], chunks: list[str]) -> list[bool]:
    """:func:`_glued` of every chunk (``starts``: where each begins in ``line``), from
    whole-line searches: a bracket salad has hundreds of chunks and a Python call per
    chunk cost ~0.5 ms per 2 KB. Neither pattern matches whitespace, so a match lies in
    one chunk, and the search of the line meets each chunk's first match as the chunk's
    own search would (a match never ends past its chunk)."""
    glued = [False] * len(chunks)
    for match in _GLUE.finditer(line):
        glued[bisect_right(starts, match.start()) - 1] = True
    brackets = [0] * len(chunks)
    for match in _BRACKET.finditer(line):
        brackets[bisect_right(starts, match.start()) - 1] += 1
    for number, count in enumerate(brackets):
        if count >= 2 and not glued[number] and _LETTER.search(chunks[number]) is not None:
            glued[number] = True
    return glued


def _line_hit(line: str, offset: int) -> Span | None:
    spans = [m.span() for m in _CHUNK.finditer(line)]
    if len(spans) < WINDOW:
        return None
    chunks = [line[start:end] for start, end in spans]
    glued = _glued_chunks(line, [start for start, _ in spans], chunks)
    # Running counts: each window's sums in O(1), not a slice summed per window.
    glued_before = list(accumulate(glued, initial=0))
    plain_before = list(
        accumulate((_PLAIN.fullmatch(chunk) is not None for chunk in chunks), initial=0)
    )
    for first in range(len(chunks) - WINDOW + 1):
        last = first + WINDOW
        if glued_before[last] - glued_before[first] < GLUED_NEEDED:
            continue
        if plain_before[first] - plain_before[max(0, first - PROSE_SPAN)] < PROSE_BEFORE:
            continue
        if bracket_faults(" ".join(chunks[first:last])) == 0:
            continue
        # The finding runs from the first glued chunk to the line's last one: the suffix.
        start = spans[glued.index(True, first)][0]
        end = spans[len(glued) - 1 - glued[::-1].index(True)][1]
        return offset + start, offset + end, SUFFIX_SCORE, "suffix"
    return None


def suffix_hits(text: str) -> list[Span]:
    """An adversarial suffix after plain words, if ``text`` holds one (see the module)."""
    if not has_bracket_fault(text):
        return []
    offset = 0
    for line in text.split("\n"):
        start = offset
        offset += len(line) + 1
        if not any(close in line for close in ")]}"):
            continue
        if "://" in line or "www." in line:
            # Blank the URLs out (same length, so positions hold).
            line = _URL.sub(lambda m: " " * len(m.group()), line)
        line = _BY_DESIGN.sub(lambda m: " " * len(m.group()), line)
        if bracket_faults(line) == 0:
            continue
        hit = _line_hit(line, start)
        if hit is not None:
            return [hit]
    return []
