"""Building blocks of the grammar's other-language signals: folding and word gaps.

Signals match *folded* text (guard.normalize), and folding rewrites more than accents:
Cyrillic and Arabic letters that look Latin become the Latin letter (``игнорируй`` reads
``иrhopиpyи``), Devanagari vowel signs that are combining marks are dropped, Japanese
voiced kana lose their mark. A pattern is therefore written in its own script and folded
here with the same per-character fold (:func:`folded`), so it reads what the text reads.

Word boundaries: RE2's ``\\b`` is ASCII-only, so it only serves languages whose folded
letters are ASCII (Polish, Turkish, Vietnamese, Indonesian, the Nordic languages...).
Cyrillic, Arabic, Devanagari and CJK patterns start on a stem instead (``игнорир`` also
finds ``проигнорируй``), and CJK has no spaces: its gaps count characters, not words.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from guard.normalize import normalize

#: Up to four words between a verb and its object (any script's words, folded).
WORD_GAP = r"(?:[\s,:;'\"-]+[^\s,.!?;:。]+){0,4}?[\s,:;'\"-]+"
#: Up to two words: for objects whose qualifier sits right before or after them.
SHORT_GAP = r"(?:[\s,:;'\"-]+[^\s,.!?;:。]+){0,2}?[\s,:;'\"-]+"
#: CJK: up to twelve characters inside one sentence (no spaces to count words by).
CJK_GAP = r"[^.!?。\n]{0,12}?"
#: CJK, short: up to six characters.
CJK_SHORT = r"[^.!?。\n]{0,6}?"


def folded(pattern: str) -> str:
    """``pattern`` with each non-ASCII character folded as guard.normalize folds text.

    ASCII (the regex syntax) is kept as written; a character that folds to ASCII
    punctuation (full-width brackets) is escaped so that it stays a literal. A letter
    whose capital folds otherwise (Cyrillic ``з`` stays, ``З`` becomes ``3``; ``г`` is
    ``r``, ``Г`` is ``y``; Greek ``ί`` and a bare ``Ι``) reads both, so "ИГНОРИРУЙ" and
    "игнорируй" match alike."""
    parts: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if char.isascii():
            parts.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "[":
                in_class = True
            elif char == "]":
                in_class = False
            continue
        escaped = False
        forms = _fold_forms(char)
        if len(forms) == 1:
            parts.append(forms[0])
        elif in_class:
            if any(len(form) != 1 for form in forms):
                raise ValueError(f"{char!r} folds to several characters: not in a [class]")
            parts.append("".join(forms))
        else:
            parts.append("(?:" + "|".join(forms) + ")")
    return "".join(parts)


@lru_cache(maxsize=4096)
def _fold_forms(char: str) -> tuple[str, ...]:
    """The folded forms of ``char`` and of its other case, each a literal for RE2."""
    forms: list[str] = []
    # Capitals are often written without their accent (Greek "ΟΔΗΓΙΕΣ" for "οδηγίες"),
    # and a bare capital may fold otherwise than the accented one: read it too.
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    for variant in (char, char.lower(), char.upper(), bare.upper()):
        if len(variant) != 1:
            continue
        pieces = normalize(variant).text
        form = "".join("\\" + p if p.isascii() and not p.isalnum() else p for p in pieces)
        if form not in forms:
            forms.append(form)
    return tuple(forms)


def words(*items: str) -> str:
    """One non-capturing alternation of ``items`` (each may itself hold ``|``)."""
    return "(?:" + "|".join(items) + ")"


_SEP = r"[\s,:;'\"-]+"
_WORD = r"[^\s,.!?;:。]+"
_WORD_REST = r"[^\s,.!?;:。]*"
#: Within one sentence: role and leak phrases whose two halves may come in either order.
_CLAUSE = r"[^.!?。\n]{0,40}?"
_CJK_CLAUSE = r"[^.!?。\n]{0,16}?"

#: The ask ends its clause: "what is the password?", not "which password is best".
CLAUSE_END = r"\s*(?:[?.!:,;。？！]|$)"

# (family, weight, pattern), as guard.checks._injection_grammar.Signal.
LangSignal = tuple[str, float, str]

#: A qualified override ("ignore all previous instructions") stands on its own (weight
#: at or above the score's STRONG_GRAMMAR); a bare one ("ignore the rules") is a feature.
QUALIFIED = 0.88
PLAIN = 0.6
#: "You are now ..." alone is a feature; a persona without rules stands on its own.
NOW_YOU = 0.5
UNRESTRICTED_PERSONA = 0.8
LEAK = 0.75


def _alternatives(items: tuple[str, ...]) -> str:
    return folded(words(*items))


def override_signals(
    verbs: tuple[str, ...],
    qualifiers: tuple[str, ...],
    objects: tuple[str, ...],
    *,
    verb_last: bool = False,
    qualifier_after: bool = False,
    boundary: str = "",
    cjk: bool = False,
) -> tuple[LangSignal, ...]:
    """Verb of setting aside x qualifier x object naming instructions, in one language.

    ``verb_last``: object-verb order (Japanese, Korean, Turkish, Hindi);
    ``qualifier_after``: "ignore the instructions all previous" (Thai, Swahili); ``boundary``:
    ``\\b`` where the folded letters are ASCII (both ends: Turkish "uyma", do not comply,
    is also the start of "uymak", to comply); ``cjk``: gaps count characters."""
    verb, qualifier, obj = (_alternatives(items) for items in (verbs, qualifiers, objects))
    if not cjk:
        # The object may carry a case ending or postposition (Marathi "सूचनांकडे").
        obj += _WORD_REST
    if cjk:
        near, far = CJK_SHORT, CJK_GAP
    else:
        near = rf"(?:{_SEP}{_WORD}){{0,2}}?{_SEP}"
        far = WORD_GAP
    if verb_last:
        qualified = rf"{boundary}{qualifier}{near}{obj}{far}{verb}{boundary}"
        plain = rf"{boundary}{obj}{near}{verb}{boundary}"
    elif qualifier_after:
        qualified = rf"{boundary}{verb}{far}{obj}{near}{qualifier}"
        plain = rf"{boundary}{verb}{far}{obj}"
    else:
        qualified = rf"{boundary}{verb}{far}{qualifier}{near}{obj}"
        plain = rf"{boundary}{verb}{far}{obj}"
    return (("override", QUALIFIED, qualified), ("override", PLAIN, plain))


def either_order(first: tuple[str, ...], second: tuple[str, ...], *, cjk: bool = False) -> str:
    """``first`` and ``second`` in one sentence, in either order."""
    one, two = _alternatives(first), _alternatives(second)
    gap = _CJK_CLAUSE if cjk else _CLAUSE
    return rf"{one}{gap}{two}|{two}{gap}{one}"


def role_signals(
    now_you: tuple[str, ...],
    persona: tuple[str, ...],
    unrestricted: tuple[str, ...],
    *,
    cjk: bool = False,
) -> tuple[LangSignal, ...]:
    """ "You are now ..." (a feature) and a persona without rules (standing)."""
    return (
        ("role_hijack", NOW_YOU, _alternatives(now_you)),
        # "You are now X without rules" is a persona too.
        (
            "role_hijack",
            UNRESTRICTED_PERSONA,
            either_order((*persona, *now_you), unrestricted, cjk=cjk),
        ),
    )


def leak_signals(
    verbs: tuple[str, ...], objects: tuple[str, ...], *, order: str = "vo", cjk: bool = False
) -> tuple[LangSignal, ...]:
    """A verb of showing x the model's own instructions: ``order`` "vo" (imperative first,
    most languages), "ov" (Japanese, Korean, Turkish, Hindi) or "both" (Chinese)."""
    if order == "both":
        return (("prompt_leak", LEAK, either_order(verbs, objects, cjk=cjk)),)
    first, second = (verbs, objects) if order == "vo" else (objects, verbs)
    gap = _CJK_CLAUSE if cjk else _CLAUSE
    return (("prompt_leak", LEAK, _alternatives(first) + gap + _alternatives(second)),)
