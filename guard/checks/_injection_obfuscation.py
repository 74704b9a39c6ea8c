"""Instructions written so a filter cannot read them: decoded, then read by the grammar.

Attackers spell an instruction so that no word of it matches: letters spaced or dotted
(``i g n o r e``, ``i.g.n.o.r.e``), leetspeak (``1gn0r3 pr3v10u5``), written backwards,
in Morse, percent-encoded (``%69%67%6e...``), in base32 or ascii85 (``<~...~>``).
Look-alike letters, full-width and mathematical letters, zero-width characters and soft
hyphens inside words are already folded away by :func:`guard.normalize.normalize`, and
base64, hex, rot13 and Unicode tags are decoded by :mod:`guard.checks._injection_signals`.

Each obfuscation here has a cheap sign; one RE2 set match over the folded text says
which signs occur (a text with none costs that pass, ~2 µs per 2 KB). Only those are
decoded, and the decoded text is scored by the same grammar as any text
(``payload_score``). A decoding counts when what it yields reads as an instruction
(:data:`DECODED_NEEDED`) and the text as it was did not already (the grammar found that
itself): a spaced heading or a "b2b" in a sentence decodes to nothing of the kind. The
finding is ``encoded`` (rule ``spaced``, ``leet``, ``reversed``, ``morse``,
``percent``, ``base32``, ``ascii85``) over the obfuscated run, at the decoded payload's
score and at least :data:`DECODED_FLOOR`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote

from guard.checks._injection_model import shipped_model
from guard.normalize import Normalized

#: A span of the original text, its score and the rule that found it.
Span = tuple[int, int, float, str]
#: Grammar score a decoded text needs to count as an instruction.
DECODED_NEEDED = 0.6
#: Score of an instruction found only once decoded (an attempt to hide it).
DECODED_FLOOR = 0.6
#: Longest word the segmenter tries (letters spaced one by one lose their word breaks).
_LONGEST_WORD = 18
_MAX_DECODED = 4000
#: Runs decoded per rule and text (each costs a grammar pass over its decoding).
_MAX_ATTEMPTS = 8
#: Leetspeak and reversed text are decoded a line at a time, this far around the sign.
_REACH = 300
#: Letters segmented per spaced run (the cost grows with the run; an instruction is short).
_MAX_SEGMENTED = 600

_LEET = str.maketrans("013457@$|!", "oieastasii")
_MORSE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g",
    "....": "h", "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n",
    "---": "o", ".--.": "p", "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u",
    "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z", "-----": "0",
    ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9",
}  # fmt: skip

#: Signs of each obfuscation (and of the link and suffix checks of the sibling modules),
#: read in the grammar's RE2 set match over the folded text
#: (guard.checks._injection_signals): one pass for all, ~1 µs more per 2 KB. A rule
#: whose sign is absent costs nothing more.
SIGNS: tuple[tuple[str, str], ...] = (
    # Six letters, each followed by the same kind of separator.
    ("spaced", r"(?:[a-z](?: {1,3}|\.|-|_|\*|\|)){5}[a-z]"),
    ("leet", r"[a-z][013457@$][a-z]|[^a-z0-9][013457][a-z]{2}|[a-z]{2}[013457][^a-z0-9]"),
    ("reversed", r"erongi|drager[sd]ier|tegrof|snoitcurtsni|tpmorp|metsys|suoiverp|laever"),
    ("morse", r"(?:[.-]{1,6} ){3}"),
    ("percent", r"(?:%[0-9a-f]{2}){3}"),
    ("ascii85", r"<~"),
    # guard.checks._injection_obfuscation_exfil
    ("exfil", r"https?://|!\["),
    # guard.checks._injection_obfuscation_suffix: a closing bracket
    ("suffix", r"[)\]}]"),
    # guard.checks._injection_signals: rot13 text reads as common English words rotated
    # (or says it is rot13); without one, no rot13 pass.
    (
        "rot13",
        r"\b(?:gur|naq|lbh|lbhe|nyy|gb|vf|bs|va|vg|sbe|jvgu|guvf|abj|nobir|lbhe|zr|nf|gryy|cevag|fnl|"
        r"vtaber|sbetrg|cerivbhf|vafgehpgvbaf|cebzcg|flfgrz|ehyrf|rot[ -]?13)\b",
    ),
)
#: The runs to decode, found once a sign said the text may hold one.
_RUNS = {
    "spaced": re.compile(
        r"(?<![a-z0-9])(?:[a-z](?: {1,3}|\.|-|_|\*|\|| ?/ ?)){5,}[a-z](?![a-z0-9])"
    ),
    "leet": re.compile(
        r"[a-z][013457@$][a-z]|(?<![a-z0-9])[013457][a-z]{2}|[a-z]{2}[013457](?![a-z0-9])"
    ),
    "reversed": re.compile(SIGNS[2][1]),
    "morse": re.compile(r"(?:[.\-]{1,6}(?: {1,3}| ?/ ?)){7,}[.\-]{1,6}"),
    "percent": re.compile(r"(?:%[0-9a-f]{2}){6,}"),
    "ascii85": re.compile(r"<~[!-u\s]{10,}~>"),
}
#: A line's words, for leetspeak (digits turned into letters only inside words).
_LEET_WORD = re.compile(r"[a-z0-9@$|!]*[a-z][a-z0-9@$|!]*|[0-9@$]+[a-z][a-z0-9@$]*")


def segment(letters: str) -> str:
    """Letters without word breaks cut into the fewest words the model knows."""
    known = shipped_model().words
    letters = letters[:_MAX_SEGMENTED]
    count = len(letters)
    best: list[tuple[int, int]] = [(0, 0)] + [(count + 1, 0)] * count
    for end in range(1, count + 1):
        for start in range(max(0, end - _LONGEST_WORD), end):
            word = letters[start:end]
            if (len(word) > 1 or word in "ai") and word in known:
                cost = best[start][0] + 1
                if cost < best[end][0]:
                    best[end] = (cost, start)
    if best[count][0] > count:
        return letters
    words: list[str] = []
    end = count
    while end > 0:
        start = best[end][1]
        words.append(letters[start:end])
        end = start
    return " ".join(reversed(words))


def _unspaced(run: str) -> str:
    """``i g n o r e  a l l`` -> ``ignore all``: wider gaps (or ``/``) break words."""
    letters = re.findall(r"[a-z]|(?: {2,}| ?/ ?)", run.strip(" .-_*|/"))
    joined = "".join(" " if len(part) > 1 or part == "/" else part for part in letters)
    return " ".join(segment(word) for word in joined.split())


def _unleet(line: str) -> str:
    return _LEET_WORD.sub(lambda m: m.group().translate(_LEET), line)


def _unmorse(run: str) -> str:
    words = re.split(r" ?/ ?| {3,}", run.strip())
    return " ".join("".join(_MORSE.get(code, "") for code in word.split()) for word in words)


def _unascii85(original: str) -> str:
    try:
        return base64.a85decode(original.encode("ascii"), adobe=True).decode("utf-8")
    except (ValueError, UnicodeError):
        return ""


def _around(text: str, start: int, end: int) -> tuple[int, int]:
    """The line around a match, at most :data:`_REACH` characters either side."""
    first = max(text.rfind("\n", 0, start) + 1, start - _REACH)
    last = text.find("\n", end, end + _REACH)
    return first, min(len(text), end + _REACH) if last < 0 else last


def obfuscation_hits(
    folded: Normalized, original: str, score: Callable[[str], float], signs: Iterable[str]
) -> list[Span]:
    """Obfuscated instructions in a text (see the module docstring).

    ``folded`` is the text as :func:`guard.normalize.normalize` folds it, ``original``
    the text itself, ``score`` the grammar's score of a decoded text and ``signs`` the
    rules of :data:`SIGNS` whose pattern the set match found."""
    text = folded.text
    found: list[Span] = []
    for rule in signs:
        if rule not in _RUNS:
            continue
        reach = attempts = 0
        for match in _RUNS[rule].finditer(text):
            if match.start() < reach:
                continue  # inside the stretch the last attempt read
            attempts += 1
            if attempts > _MAX_ATTEMPTS:
                break
            start, end = match.span()
            if rule in ("leet", "reversed"):
                start, end = _around(text, start, end)
            reach = end
            decoded = _decoded(rule, text[start:end], folded, original, start, end, score)
            value = score(decoded[:_MAX_DECODED]) if decoded else 0.0
            if value >= DECODED_NEEDED:
                found.append((*folded.span(start, end), max(value, DECODED_FLOOR), rule))
                break
    return found


def _decoded(
    rule: str,
    run: str,
    folded: Normalized,
    original: str,
    start: int,
    end: int,
    score: Callable[[str], float],
) -> str:
    """What ``run`` (folded text) says once the obfuscation ``rule`` is undone."""
    if rule == "spaced":
        return _unspaced(run)
    if rule == "leet":
        # A line the grammar reads without help is its finding, not this one.
        return "" if score(run) >= DECODED_NEEDED else _unleet(run)
    if rule == "reversed":
        return run[::-1]
    if rule == "morse":
        return _unmorse(run)
    if rule == "percent":
        return unquote(run, errors="replace")
    first, last = folded.span(start, end)
    return _unascii85(original[first:last])


def base32_text(run: str) -> str:
    """A base32 run (upper-case letters and 2-7) decoded, or "" (the base64 scan of
    guard.checks._injection_signals finds the runs: base32's alphabet is in base64's)."""
    if not run.rstrip("=").isalnum() or not run.rstrip("=").isupper():
        return ""
    body = run.rstrip("=")
    if any(c in "0189" for c in body):
        return ""
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return ""
