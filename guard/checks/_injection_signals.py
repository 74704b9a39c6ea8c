"""Scoring one text for prompt injection: grammar signals, invisible Unicode, decoded payloads.

One RE2 set match says which signals of :mod:`guard.checks._injection_grammar` occur in
the folded text (one linear pass whatever the number of signals); only those are then
searched for spans. A text with no signal costs that pass and a few cheap scans of the
raw text (tag characters, zero-width runs, base64/hex runs).

Scores combine as a noisy-OR: each matched signal is an independent piece of evidence
with the probability in its weight. Evidence that the text *talks about* an injection
(the phrase in quotes, after "such as", "e.g.", "example") cuts a signal's weight to 40 %, so
security write-ups stay below the default threshold while the same phrase said to the
model does not.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import re2
from re2._re2 import BytesToCharLen

from guard.checks._injection_grammar import SIGNALS
from guard.checks._injection_grammar_set import (
    NO_MATCH,
    grammar_set,
    leftmost,
    matched_spans,
    options,
)
from guard.checks._injection_obfuscation import (
    DECODED_FLOOR,
    SIGNS,
    base32_text,
    obfuscation_hits,
)
from guard.checks._injection_obfuscation_exfil import exfil_hits
from guard.checks._injection_obfuscation_suffix import suffix_hits
from guard.normalize import Normalized, normalize

FAMILIES = ("override", "role_hijack", "prompt_leak", "hidden_instruction", "encoded", "delimiter")

_OPTIONS = options()

#: Tag characters (U+E0000..U+E007F) mirror ASCII invisibly ("ASCII smuggling").
_TAG_RUN = re.compile("[\U000e0000-\U000e007f]{2,}")
#: Zero-width characters between two letters: words cut up to slip past filters.
_ZERO_WIDTH_IN_WORD = re.compile("[A-Za-z][\u200b\u200c\u200d\u2060\ufeff\u00ad]+(?=[A-Za-z])")


def _case_sensitive() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


# Encoded runs are found on the raw text (case matters to base64), on RE2: Python's
# ``re`` took ~60 us per 2 KB for each of these two, RE2 ~5 us.
_BASE64 = r"[A-Za-z0-9+/]{20,}={0,2}|[A-Za-z0-9_-]{24,}={0,2}"
_HEX = r"\b(?:[0-9a-fA-F]{2}){12,}\b|\b(?:[0-9a-fA-F]{2}[ :]){11,}[0-9a-fA-F]{2}\b"
_BASE64_RUN = re2.compile(_BASE64, _case_sensitive())
_HEX_RUN = re2.compile(_HEX, _case_sensitive())
#: Either kind of run: most texts have neither, and learn it in one pass, not two.
_ENCODED_RUN = re2.compile(f"{_BASE64}|{_HEX}", _case_sensitive())
_ROT13 = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZabcdefghijklm",
)
#: Words before a match that say the text quotes or discusses the phrase.
_DISCUSSION = re2.compile(
    r"(?:such as|e\.g\.|for example|for instance|example|like|phrases?|called|known as|"
    r"attacks?|attackers?|injections?|jailbreaks? (?:like|such)|detect|detection|flag|"
    r"classif|blocks?|payloads?|strings? like|contains?|ctf|red.?team|regex|match(?:es)?|"
    r"parse|escape|strip|sanitiz\w*|mean(?:s|ing)?|what does|what is)[^.\n]{0,30}$",
    _OPTIONS,
)
_QUOTES = frozenset("\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb")
_DECODED_MIN_PRINTABLE = 0.9
#: Cap on decoded payloads examined per text (each costs one set match).
_MAX_DECODES = 8


@dataclass(frozen=True, slots=True)
class Hit:
    """One family's evidence in a text: its span (original positions) and score."""

    family: str
    start: int
    end: int
    score: float
    rule: str


def _combine(weights: list[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining


def _quoted(folded: str, start: int, end: int) -> bool:
    """A quote among the 3 characters before the match and among the 3 after it."""
    return not _QUOTES.isdisjoint(folded[max(0, start - 3) : start]) and not _QUOTES.isdisjoint(
        folded[end : end + 3]
    )


def _grammar_hits(
    folded: Normalized, signs: list[str] | None = None
) -> dict[str, tuple[list[float], int, int, float]]:
    """family -> (evidence weights, start, end, weight of the strongest match); the
    obfuscation signs the same set match found are added to ``signs`` when given.

    A match that is quoted, or follows words that say the text talks about the phrase
    (:data:`_DISCUSSION` in the 60 characters before it), weighs 40 %. Signals whose
    matches overlap read the same words (the English and the French override grammar
    both match "ignore ... instructions"): they are one piece of evidence, worth the
    strongest of them, not several independent ones."""
    matches: dict[str, list[tuple[int, int, float]]] = {}
    text = folded.text
    data = text.encode()  # once: the set, each span and each window before one read it
    ascii_text = len(data) == len(text)
    signals = grammar_set().signals
    talked_about: dict[int, bool] = {}  # by start: signals often share their first words
    for signal, span in matched_spans(data):
        if signal >= len(SIGNALS):
            if signs is not None:
                signs.append(SIGNS[signal - len(SIGNALS)][0])
            continue
        family, weight, _ = SIGNALS[signal]
        # The search that found the signal found its span (it is the span search's regex).
        start, end = span if span is not None else leftmost(signals[signal], data)
        if start < 0:  # the set and the pattern disagree only on engine limits
            continue
        byte_start = start
        if not ascii_text:  # byte offsets to character offsets
            start, end = BytesToCharLen(data, 0, start), BytesToCharLen(data, 0, end)
        if _quoted(text, start, end):
            weight *= 0.4
        else:
            said = talked_about.get(start)
            if said is None:
                before = text[max(0, start - 60) : start]
                # The window as a text of its own: the pattern's ``$`` is the match's start.
                window = (
                    data[byte_start - len(before) : byte_start] if ascii_text else before.encode()
                )
                said = talked_about[start] = leftmost(_DISCUSSION, window) != NO_MATCH
            if said:
                weight *= 0.4
        matches.setdefault(family, []).append((start, end, weight))
    found: dict[str, tuple[list[float], int, int, float]] = {}
    for family, spans in matches.items():
        spans.sort()
        evidence: list[float] = []
        reach = -1
        for start, end, weight in spans:
            if start < reach:
                evidence[-1] = max(evidence[-1], weight)
                reach = max(reach, end)
            else:
                evidence.append(weight)
                reach = end
        start, end, best = max(spans, key=lambda span: span[2])
        found[family] = (evidence, start, end, best)
    return found


def _printable(text: str) -> bool:
    if not text:
        return False
    good = sum(1 for c in text if c.isprintable() or c in "\n\t")
    return good / len(text) >= _DECODED_MIN_PRINTABLE and any(c == " " for c in text)


def _decode_base64(run: str) -> str:
    padded = run + "=" * (-len(run) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_" if ("-" in run or "_" in run) else None)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _decode_hex(run: str) -> str:
    try:
        return bytes.fromhex(run.replace(" ", "").replace(":", "")).decode("utf-8")
    except ValueError:
        return ""


def _payload_score(decoded: str) -> float:
    """How much a decoded payload reads as an injection (its strongest families)."""
    if not _printable(decoded):
        return 0.0
    hits = _grammar_hits(normalize(decoded))
    if not hits:
        return 0.0
    return _combine([w for weights, *_ in hits.values() for w in weights])


def _runs(pattern: Any, text: str, data: bytes) -> Iterator[tuple[int, int, str]]:
    """``pattern.finditer(text)`` as (start, end, matched text), ``data`` being ``text``
    in UTF-8: through :func:`leftmost`, without a match object per run (the patterns
    given here never match the empty string)."""
    ascii_text = len(data) == len(text)
    pos = 0
    while True:
        start, end = leftmost(pattern, data, pos)
        if start < 0:
            return
        run = data[start:end].decode()
        if ascii_text:
            yield start, end, run
        else:
            yield BytesToCharLen(data, 0, start), BytesToCharLen(data, 0, end), run
        pos = end


def _encoded_hits(text: str) -> list[Hit]:
    hits: list[Hit] = []
    if not text.isascii():
        hits.extend(_invisible_hits(text))
    data = text.encode()
    if leftmost(_ENCODED_RUN, data) == NO_MATCH:
        return hits
    decodes = 0
    for pattern, decode, rule in (
        (_BASE64_RUN, _decode_base64, "base64"),
        (_HEX_RUN, _decode_hex, "hex"),
    ):
        for start, end, run in _runs(pattern, text, data):
            if decodes >= _MAX_DECODES:
                break
            decodes += 1
            score, found = _payload_score(decode(run)), rule
            if score == 0 and rule == "base64":
                score, found = _payload_score(base32_text(run)), "base32"
            if score > 0:
                hits.append(Hit("encoded", start, end, max(score, DECODED_FLOOR), found))
    return hits


def _invisible_hits(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for match in _TAG_RUN.finditer(text):
        hidden = "".join(chr(ord(c) - 0xE0000) for c in match.group())
        # Any run of tag characters is smuggled text; an instruction in it is certain.
        score = max(0.75, _payload_score(hidden))
        hits.append(Hit("encoded", *match.span(), score, "unicode_tags"))
    cuts = list(_ZERO_WIDTH_IN_WORD.finditer(text))
    if len(cuts) >= 3:
        hits.append(Hit("encoded", cuts[0].start(), cuts[-1].end(), 0.55, "zero_width"))
    return hits


def _rot13_hits(folded: Normalized, signs: list[str]) -> list[Hit]:
    """Instructions written in rot13: the strong signals of the rotated text."""
    if "rot13" not in signs:  # no common word rotated: no rot13 pass
        return []
    rotated = folded.text.translate(_ROT13)
    hits = _grammar_hits(Normalized(rotated, folded.index, folded.original_length))
    strong = [
        (start, end, best)
        for family, (_, start, end, best) in hits.items()
        if best >= 0.45 and family != "encoded"
    ]
    if not strong:
        return []
    start, end, best = max(strong, key=lambda item: item[2])
    # An instruction hidden on purpose: at least the floor of a decoded base64 payload.
    return [Hit("encoded", *folded.span(start, end), max(best, DECODED_FLOOR), "rot13")]


def _obfuscated_hits(text: str, folded: Normalized, signs: list[str]) -> list[Hit]:
    """What the obfuscation modules find, run only for the signs the set match saw."""
    hits = [
        Hit("encoded", *found) for found in obfuscation_hits(folded, text, _payload_score, signs)
    ]
    if "suffix" in signs:
        hits.extend(Hit("encoded", *found) for found in suffix_hits(text))
    if "exfil" in signs:
        for start, end, score, rule in exfil_hits(folded.text):
            hits.append(Hit("hidden_instruction", *folded.span(start, end), score, rule))
    return hits


def signal_hits(text: str) -> tuple[Normalized, dict[str, Hit]]:
    """The folded text and the grammar's evidence in it: one hit per family at most."""
    folded = normalize(text)
    by_family: dict[str, Hit] = {}
    signs: list[str] = []
    for family, (weights, start, end, _) in _grammar_hits(folded, signs).items():
        by_family[family] = Hit(family, *folded.span(start, end), _combine(weights), family)
    extra = _encoded_hits(text) + _rot13_hits(folded, signs)
    if signs:
        extra += _obfuscated_hits(text, folded, signs)
    for hit in extra:
        known = by_family.get(hit.family)
        if known is None or hit.score > known.score:
            by_family[hit.family] = hit
    return folded, by_family
